"""The running dialer (the simulated PBX over real AMI and FastAGI sockets) with a result
webhook to a real local receiver and a rested caller ID: calls' results arrive signed, one
per event, and from the moment the rotation learns of the rest, no dial presents the rested
number."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from dialer.db.engine import SessionFactory, create_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.db.models import CallAttempt, Campaign, WebhookDelivery
from dialer.demo import DemoOptions, start_demo, stop_demo
from dialer.runtime.bus import EventBus
from dialer.runtime.webhooks import WebhookDispatcher
from dialer.services import caller_ids, webhooks
from dialer.services.webhooks import verify
from dialer.settings import Settings
from tests.support.http_receiver import Receiver
from tests.support.waiting import wait_until

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def test_webhooks_and_caller_id_rest_on_a_running_campaign(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    await upgrade(url)
    receiver = await Receiver(plans={"/crm": [500]}).start()  # the very first try fails
    settings = Settings(database_url=url, data_dir=tmp_path)
    options = DemoOptions(
        speed=30, agents=4, leads=300, live_view=False, serve_http=False, start_wall=START
    )
    world = await start_demo(settings, options)
    service = world.service
    cid = world.campaign_id
    try:
        hook, secret = await webhooks.create_webhook(
            service.sessions, cid, url=f"{receiver.base_url}/crm", max_attempts=5
        )
        await service.webhooks.refresh_hooks()  # rather than wait up to 5 s
        service.webhooks.base_delay_s = 0.2
        async with service.sessions() as session:
            pool = list((await session.get(Campaign, cid)).caller_id_pool)  # type: ignore[union-attr]
        rested = pool[0]
        await caller_ids.update_number(
            service.sessions, cid, rested, service.clock.now(), rest_hours=4
        )
        await service.caller_ids.refresh()
        learned_at = service.clock.now()
        assert service.engine.campaigns[cid].caller_id_rested == frozenset({rested})
        await wait_until(
            lambda: sum(b"attempt.dispositioned" in r.body for r in receiver.requests) >= 3,
            within=30,
            every=0.05,
        )
    finally:
        await stop_demo(world)
    # what was still queued at shutdown is delivered by the next process
    engine = create_engine(url)
    sessions = make_session_factory(engine)
    after = WebhookDispatcher(sessions, EventBus(), poll_s=0.02, refresh_s=0.1)
    after.start()
    try:
        async with asyncio.timeout(30):
            while True:
                rows = await _deliveries(sessions)
                if rows and all(r.status == "delivered" for r in rows):
                    break
                await asyncio.sleep(0.05)
        attempts = {a.id: a for a in await _attempts(sessions, cid)}
        rows = await _deliveries(sessions)
    finally:
        await after.stop()
        await receiver.close()
        await engine.dispose()

    keys = [(r.event_type, r.attempt_id) for r in rows]
    assert len(keys) == len(set(keys))  # one delivery per event
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert all(verify(secret, r.body, r.headers["x-dialer-signature"]) for r in receiver.requests)
    first = receiver.requests[0].body  # the failed try: sent again, byte for byte
    assert [r.body for r in receiver.requests].count(first) == 2
    delivered = {(b["type"], b["attempt"]["id"]): b for b in bodies}
    assert len(delivered) == len(rows)
    dispositioned = [b for (t, _), b in delivered.items() if t == "attempt.dispositioned"]
    assert len(dispositioned) >= 3
    for body in dispositioned:
        stored = attempts[body["attempt"]["id"]]
        assert body["attempt"]["disposition"] == stored.disposition is not None
        assert body["attempt"]["terminal_state"] == stored.terminal_state == "completed"
        assert ("attempt.ended", stored.id) in delivered  # its end was announced too
    ended_states = {
        b["attempt"]["state"] for (t, _), b in delivered.items() if t == "attempt.ended"
    }
    assert "wrapup" in ended_states and ended_states - {"wrapup"}  # and calls no agent took
    assert all(b["webhook_id"] == hook.id and b["campaign_id"] == cid for b in bodies)
    # the rotation skipped the rested number from the moment it knew
    later = [a for a in attempts.values() if a.originate_at > learned_at]
    assert len(later) >= 10
    assert rested not in {a.caller_id for a in later}
    assert {a.caller_id for a in later} == set(pool) - {rested}


async def _deliveries(sessions: SessionFactory) -> list[WebhookDelivery]:
    async with sessions() as session:
        return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


async def _attempts(sessions: SessionFactory, campaign_id: int) -> list[CallAttempt]:
    async with sessions() as session:
        query = select(CallAttempt).where(CallAttempt.campaign_id == campaign_id)
        return list(await session.scalars(query))
