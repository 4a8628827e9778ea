"""Result webhooks against a real HTTP receiver on a local port: signed bodies, retries with
exponential backoff, eventual success, dead letters, nothing lost across a restart, due
callbacks, and a publisher that never waits for a receiver."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dialer.db.engine import SessionFactory, create_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.db.models import CallAttempt, Callback, Campaign, Lead, WebhookDelivery
from dialer.db.types import utcnow
from dialer.runtime.bus import EventBus
from dialer.runtime.webhooks import WebhookDispatcher, events_for_state
from dialer.services import webhooks as service
from dialer.services.webhooks import retry_delay, sign, verify
from tests.support.http_receiver import Receiver

# ---------------------------------------------------------------------- pure parts


def test_backoff_doubles_up_to_the_cap_and_honours_retry_after() -> None:
    delays = [retry_delay(n, base_s=10, max_s=300) for n in range(1, 8)]
    assert delays == [10, 20, 40, 80, 160, 300, 300]
    assert retry_delay(2, base_s=10, max_s=300, jitter=0.5, rand=0.5) == 25
    assert retry_delay(1, base_s=10, max_s=300, retry_after_s=120) == 120
    assert retry_delay(1, base_s=10, max_s=300, retry_after_s=9999) == 300  # capped
    assert retry_delay(3, base_s=10, max_s=300, retry_after_s=1) == 40  # never sooner


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = service.body_bytes({"b": 1, "a": "张"})
    assert body == '{"a":"张","b":1}'.encode()
    # the published HMAC-SHA256 test vector (RFC 4231 case 2) through our header format
    assert (
        sign("Jefe", b"what do ya want for nothing?")
        == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert verify("k" * 16, body, sign("k" * 16, body))
    assert not verify("k" * 16, body + b" ", sign("k" * 16, body))
    assert not verify("other-secret-1234", body, sign("k" * 16, body))


def test_events_raised_by_call_states() -> None:
    assert events_for_state("ringing") == ()
    assert events_for_state("connected") == ()
    assert events_for_state("wrapup") == ("attempt.ended",)
    assert events_for_state("no_answer") == ("attempt.ended",)
    assert events_for_state("abandoned") == ("attempt.ended",)
    assert events_for_state("completed") == ("attempt.ended", "attempt.dispositioned")


# ---------------------------------------------------------------------- with a database


@dataclass
class World:
    sessions: SessionFactory
    bus: EventBus
    campaign_id: int
    lead_id: int
    receiver: Receiver
    dispatchers: list[WebhookDispatcher]

    def dispatcher(self, **knobs: Any) -> WebhookDispatcher:
        options: dict[str, Any] = {
            "base_delay_s": 0.1,
            "jitter": 0.0,
            "poll_s": 0.02,
            "refresh_s": 0.05,
            "sweep_s": 0.2,
            "settle_s": 2.0,
        }
        options.update(knobs)
        d = WebhookDispatcher(self.sessions, self.bus, **options)
        self.dispatchers.append(d)
        d.start()
        return d

    async def attempt(self, attempt_id: str, **values: Any) -> None:
        now = utcnow()
        row: dict[str, Any] = {
            "id": attempt_id,
            "campaign_id": self.campaign_id,
            "lead_id": self.lead_id,
            "number_dialed": "+8613800000001",
            "caller_id": "+862112345678",
            "originate_at": now - timedelta(seconds=90),
            "answer_at": now - timedelta(seconds=80),
            "connect_at": now - timedelta(seconds=79),
            "hangup_at": now - timedelta(seconds=5),
            "end_at": now,
            "outcome": "human",
            "terminal_state": "completed",
            "disposition": "SALE",
            "notes": "wants the blue one",
        }
        row.update(values)
        async with self.sessions() as session, session.begin():
            session.add(CallAttempt(**row))

    def publish(self, attempt_id: str, state: str) -> None:
        self.bus.publish(
            f"call/{self.campaign_id}/{attempt_id}",
            {
                "attempt_id": attempt_id,
                "campaign_id": self.campaign_id,
                "lead_id": self.lead_id,
                "state": state,
                "agent": None,
                "server": "pbx1",
            },
        )

    async def deliveries(self, webhook_id: int) -> list[WebhookDelivery]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == webhook_id)
                .order_by(WebhookDelivery.id)
            )
            return list(rows)


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    await upgrade(db_url)
    engine = create_engine(db_url)
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():
        campaign = Campaign(name="hooks", caller_id_pool=["+862112345678"])
        session.add(campaign)
        await session.flush()
        lead = Lead(
            campaign_id=campaign.id,
            phone_e164="+8613800000001",
            name="张三",
            custom_fields={"crm_id": "C-17"},
        )
        session.add(lead)
        await session.flush()
        ids = campaign.id, lead.id
    receiver = await Receiver().start()
    w = World(sessions, EventBus(), ids[0], ids[1], receiver, [])
    try:
        yield w
    finally:
        for d in w.dispatchers:
            await d.stop()
        await receiver.close()
        await engine.dispose()


async def eventually(check: Callable[[], bool | Awaitable[bool]], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while True:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)


async def test_retries_with_backoff_until_the_receiver_takes_it(world: World) -> None:
    w = world
    w.receiver.plans["/crm"] = [500, 503]  # the first two tries fail
    hook, secret = await service.create_webhook(
        w.sessions,
        w.campaign_id,
        url=f"{w.receiver.base_url}/crm",
        events=["attempt.dispositioned"],
        max_attempts=5,
    )
    d = w.dispatcher()
    await d.hooks_loaded.wait()
    await w.attempt("att-1")
    w.publish("att-1", "wrapup")  # not subscribed: nothing for this webhook
    w.publish("att-1", "completed")

    async def delivered() -> bool:
        rows = await w.deliveries(hook.id)
        return bool(rows) and rows[0].status == "delivered"

    await eventually(delivered)
    tries = w.receiver.to("/crm")
    assert len(tries) == 3
    # every try: the same signed bytes, the event and delivery named in headers
    assert len({t.body for t in tries}) == 1
    for t in tries:
        assert t.headers["x-dialer-signature"] == sign(secret, t.body)
        assert verify(secret, t.body, t.headers["x-dialer-signature"])
        assert t.headers["x-dialer-event"] == "attempt.dispositioned"
        assert t.headers["content-type"] == "application/json"
    # exponential backoff: 0.1 s, then 0.2 s (never sooner)
    gaps = [b.at - a.at for a, b in itertools.pairwise(tries)]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19, gaps
    body = json.loads(tries[0].body)
    service.WebhookPayload.model_validate(body)  # exactly the documented schema
    assert body["type"] == "attempt.dispositioned"
    assert body["campaign_id"] == w.campaign_id and body["campaign_name"] == "hooks"
    assert body["attempt"]["id"] == "att-1"
    assert body["attempt"]["disposition"] == "SALE"
    assert body["attempt"]["state"] == "completed"
    assert body["lead"]["custom_fields"] == {"crm_id": "C-17"} and body["lead"]["name"] == "张三"
    [row] = await w.deliveries(hook.id)
    assert (row.attempts, row.last_status, row.last_error) == (3, 200, "")
    assert row.event_id == body["event_id"] and tries[0].headers["x-dialer-delivery"] == str(row.id)
    assert d.delivered == 1 and d.failed == 2 and d.dead == 0


async def test_dead_letter_after_max_attempts(world: World) -> None:
    w = world
    w.receiver.plans["/down"] = [503] * 10
    hook, _ = await service.create_webhook(
        w.sessions, w.campaign_id, url=f"{w.receiver.base_url}/down", max_attempts=3
    )
    d = w.dispatcher(base_delay_s=0.05)
    await d.hooks_loaded.wait()
    await w.attempt("att-2", terminal_state="no_answer", outcome="no_answer", disposition="NA")
    w.publish("att-2", "no_answer")

    async def dead() -> bool:
        rows = await w.deliveries(hook.id)
        return bool(rows) and rows[0].status == "dead"

    await eventually(dead)
    assert len(w.receiver.to("/down")) == 3
    [row] = await w.deliveries(hook.id)
    assert row.attempts == 3 and row.last_status == 503 and "503" in row.last_error
    assert row.event_type == "attempt.ended" and row.payload is not None
    await asyncio.sleep(0.3)  # no fourth try
    assert len(w.receiver.to("/down")) == 3 and d.dead == 1


async def test_nothing_is_lost_across_a_restart(world: World) -> None:
    w = world
    w.receiver.plans["/crm"] = [503]
    hook, secret = await service.create_webhook(
        w.sessions,
        w.campaign_id,
        url=f"{w.receiver.base_url}/crm",
        events=["attempt.ended"],
        max_attempts=5,
    )
    first = w.dispatcher(base_delay_s=0.3)
    await first.hooks_loaded.wait()
    await w.attempt("att-3", terminal_state="busy", outcome="busy", disposition="BUSY")
    await w.attempt("att-4", terminal_state="machine", outcome="machine", disposition="MACHINE")
    w.publish("att-3", "busy")
    await eventually(lambda: len(w.receiver.to("/crm")) >= 1)
    w.publish("att-4", "machine")
    await first.stop()  # att-4 was only on the bus: stopping queues it
    w.dispatchers.remove(first)
    rows = await w.deliveries(hook.id)
    assert {r.attempt_id: (r.status, r.attempts) for r in rows} == {
        "att-3": ("pending", 1),
        "att-4": ("pending", 0),
    }
    # while no dispatcher ran, another call ended: the next one's sweep finds it
    await w.attempt("att-5", terminal_state="no_answer", outcome="no_answer", disposition="NA")
    second = w.dispatcher()

    async def all_delivered() -> bool:
        rows = await w.deliveries(hook.id)
        return len(rows) == 3 and all(r.status == "delivered" for r in rows)

    await eventually(all_delivered)
    assert second.swept.is_set()
    received = [json.loads(r.body) for r in w.receiver.to("/crm")]
    assert sorted(b["attempt"]["id"] for b in received) == ["att-3", "att-3", "att-4", "att-5"]
    # the retried event kept its id across the restart
    ids_3 = {b["event_id"] for b in received if b["attempt"]["id"] == "att-3"}
    assert len(ids_3) == 1
    assert all(verify(secret, r.body, r.headers["x-dialer-signature"]) for r in w.receiver.requests)


async def test_due_callbacks_are_announced_once(world: World) -> None:
    w = world
    _hook, _ = await service.create_webhook(
        w.sessions, w.campaign_id, url=f"{w.receiver.base_url}/cb", events=["callback.due"]
    )
    async with w.sessions() as session, session.begin():
        later = Callback(
            lead_id=w.lead_id, campaign_id=w.campaign_id, due_at=utcnow() + timedelta(hours=1)
        )
        due = Callback(
            lead_id=w.lead_id, campaign_id=w.campaign_id, due_at=utcnow(), note="after 3pm"
        )
        session.add_all([later, due])
        await session.flush()
        due_id = due.id
    d = w.dispatcher()
    await eventually(lambda: len(w.receiver.to("/cb")) == 1)
    await d.queue_due_callbacks()  # scanned again: still once
    await asyncio.sleep(0.2)
    [request] = w.receiver.to("/cb")
    body = json.loads(request.body)
    assert body["type"] == "callback.due" and body["attempt"] is None
    assert body["callback"]["id"] == due_id and body["callback"]["note"] == "after 3pm"
    assert body["lead"]["id"] == w.lead_id


async def test_publishing_never_waits_for_receivers(world: World) -> None:
    """A receiver that takes 1 s per request: the runtime's publish stays a queue put, and
    the events are all queued in the database within a moment."""
    w = world
    w.receiver.delay_s = 1.0
    hook, _ = await service.create_webhook(
        w.sessions, w.campaign_id, url=f"{w.receiver.base_url}/slow", events=["attempt.ended"]
    )
    d = w.dispatcher(max_concurrency=4)
    await d.hooks_loaded.wait()
    n = 2000
    started = time.perf_counter()
    for i in range(n):
        w.publish(f"att-x{i}", "no_answer")
    publish_s = time.perf_counter() - started
    queued_at = time.perf_counter()

    async def all_queued() -> bool:
        return len(await w.deliveries(hook.id)) == n

    await eventually(all_queued, within=20)
    queue_s = time.perf_counter() - queued_at
    print(f"\npublish {n} call events: {publish_s * 1e3:.1f} ms; queued in {queue_s:.2f} s")
    # waiting for the receiver would take 2000 × 1 s / 4; a loaded machine may take a while,
    # but never one receiver answer per event
    assert publish_s / n < 0.001
    assert d.health()["in_flight"] <= 4


async def test_a_try_cut_short_by_shutdown_is_due_again_at_once(world: World) -> None:
    w = world
    w.receiver.delay_s = 5.0  # the receiver hangs while the dialer stops
    hook, _ = await service.create_webhook(
        w.sessions, w.campaign_id, url=f"{w.receiver.base_url}/slow", events=["attempt.ended"]
    )
    first = w.dispatcher()
    await first.hooks_loaded.wait()
    await w.attempt("att-6", terminal_state="busy", outcome="busy", disposition="BUSY")
    w.publish("att-6", "busy")
    await eventually(lambda: len(w.receiver.to("/slow")) == 1)
    started = time.perf_counter()
    await first.stop(grace=0.1)
    assert time.perf_counter() - started < 2.0  # the shutdown did not wait for the receiver
    w.dispatchers.remove(first)
    [row] = await w.deliveries(hook.id)
    assert row.status == "pending" and row.attempts == 0 and row.next_attempt_at <= utcnow()
    w.receiver.delay_s = 0.0
    w.dispatcher()

    async def delivered() -> bool:
        rows = await w.deliveries(hook.id)
        return rows[0].status == "delivered"

    await eventually(delivered, within=5)
    assert len(w.receiver.to("/slow")) == 2  # the cut try and the one that landed


async def test_a_receiver_that_is_down_gets_probes_not_every_delivery(world: World) -> None:
    """Thirty events for a receiver answering 503: one round of tries, then the endpoint
    rests and only one probe goes out per rest; when it is back, everything is delivered."""
    w = world
    w.receiver.plans["/crm"] = [503] * 1000
    hook, _ = await service.create_webhook(
        w.sessions, w.campaign_id, url=f"{w.receiver.base_url}/crm", events=["attempt.ended"]
    )
    d = w.dispatcher(base_delay_s=0.2, max_delay_s=0.4, max_concurrency=8)
    await d.hooks_loaded.wait()
    for i in range(30):
        await w.attempt(f"att-d{i}", terminal_state="no_answer", outcome="no_answer")
        w.publish(f"att-d{i}", "no_answer")

    async def all_queued() -> bool:
        return len(await w.deliveries(hook.id)) == 30

    await eventually(all_queued)
    await eventually(lambda: len(w.receiver.to("/crm")) >= 8)
    await asyncio.sleep(1.5)  # about four rests of at most 0.4 s: four probes
    tries = len(w.receiver.to("/crm"))
    assert 8 <= tries <= 8 + 6, tries  # not 30 deliveries retried every 0.2-0.4 s
    assert d.health()["endpoints_resting"] == 1
    rows = await w.deliveries(hook.id)
    assert all(r.status == "pending" for r in rows)
    assert sum(r.attempts for r in rows) == tries  # untried deliveries kept their tries
    w.receiver.plans["/crm"] = []  # back up: 200 from now on

    async def delivered() -> bool:
        return all(r.status == "delivered" for r in await w.deliveries(hook.id))

    await eventually(delivered)
    assert d.health()["endpoints_resting"] == 0
