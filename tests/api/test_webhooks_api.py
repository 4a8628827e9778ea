"""Webhooks over HTTP: managed by supervisors, the secret shown once, the payload in the
OpenAPI schema, and the dead-letter list (list, retry, delete) with a real receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from dialer.db.models import CallAttempt
from dialer.db.types import utcnow
from dialer.runtime.bus import EventBus
from dialer.runtime.webhooks import WebhookDispatcher
from tests.api.conftest import Harness
from tests.support.http_receiver import Receiver


async def _campaign(h: Harness, name: str = "hooks") -> int:
    response = await h.client.post("/v1/campaigns", json={"name": name}, headers=h.supervisor)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.close()


async def test_webhook_crud_and_the_secret_shown_once(harness: Harness) -> None:
    h = harness
    cid = await _campaign(h)
    base = f"/v1/campaigns/{cid}/webhooks"
    body = {"url": "https://crm.example.com/dialer", "events": ["attempt.dispositioned"]}
    assert (await h.client.post(base, json=body, headers=h.agent)).status_code == 403
    assert (await h.client.get(base, headers=h.agent)).status_code == 403
    created = await h.client.post(base, json=body, headers=h.supervisor)
    assert created.status_code == 201, created.text
    hook = created.json()
    secret = hook["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert hook["events"] == ["attempt.dispositioned"] and hook["max_attempts"] == 8
    listed = (await h.client.get(base, headers=h.supervisor)).json()
    assert [w["id"] for w in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    assert listed[0]["deliveries"] == {"pending": 0, "delivered": 0, "dead": 0}
    one = await h.client.get(f"{base}/{hook['id']}", headers=h.admin)
    assert one.status_code == 200 and "secret" not in one.json()
    assert secret not in one.text
    patched = await h.client.patch(
        f"{base}/{hook['id']}",
        json={"events": ["attempt.ended", "callback.due"], "active": False, "max_attempts": 3},
        headers=h.supervisor,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["events"] == ["attempt.ended", "callback.due"]
    assert not patched.json()["active"] and "secret" not in patched.json()
    rotated = await h.client.post(f"{base}/{hook['id']}/rotate-secret", headers=h.supervisor)
    assert rotated.status_code == 200 and rotated.json()["secret"] not in (secret, "")
    chosen = await h.client.post(
        f"{base}/{hook['id']}/rotate-secret",
        json={"secret": "s" * 32},
        headers=h.supervisor,
    )
    assert chosen.json()["secret"] == "s" * 32
    # bad input is a 422, a wrong campaign a 404
    for bad in (
        {"url": "ftp://crm.example.com/x"},
        {"url": "not a url"},
        {"url": "https://crm.example.com", "events": ["lead.created"]},
        {"url": "https://crm.example.com", "events": []},
        {"url": "https://crm.example.com", "secret": "short"},
        {"url": "https://crm.example.com", "max_attempts": 0},
        {"url": "https://crm.example.com", "timeout_s": 600},
        {"url": "https://crm.example.com", "surprise": 1},
    ):
        response = await h.client.post(base, json=bad, headers=h.supervisor)
        assert response.status_code == 422, (bad, response.text)
    missing = await h.client.post("/v1/campaigns/999/webhooks", json=body, headers=h.supervisor)
    assert missing.status_code == 404
    other = await _campaign(h, "other")
    wrong = await h.client.get(f"/v1/campaigns/{other}/webhooks/{hook['id']}", headers=h.admin)
    assert wrong.status_code == 404
    # the campaign routes still work beside these
    started = await h.client.post(f"/v1/campaigns/{cid}/start", headers=h.supervisor)
    assert started.status_code == 200
    deleted = await h.client.delete(f"{base}/{hook['id']}", headers=h.supervisor)
    assert deleted.status_code == 204
    assert (await h.client.get(f"{base}/{hook['id']}", headers=h.admin)).status_code == 404


async def test_payload_is_documented_in_the_openapi_schema(sqlite_harness: Harness) -> None:
    schema = (await sqlite_harness.client.get("/openapi.json")).json()
    assert set(schema["webhooks"]) == {
        "attempt.ended",
        "attempt.dispositioned",
        "callback.due",
        "webhook.test",
    }
    post = schema["webhooks"]["attempt.dispositioned"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/WebhookPayload")
    headers = {p["name"] for p in post["parameters"] if p["in"] == "header"}
    assert headers == {"X-Dialer-Signature", "X-Dialer-Event", "X-Dialer-Delivery"}
    payload = schema["components"]["schemas"]["WebhookPayload"]
    assert {"event_id", "type", "attempt", "lead", "callback"} <= set(payload["properties"])
    assert "HMAC-SHA256" in payload["description"]


async def test_dead_letters_listed_retried_and_deleted(
    harness: Harness, receiver: Receiver
) -> None:
    h = harness
    cid = await _campaign(h)
    receiver.default_status = 503  # down
    created = await h.client.post(
        f"/v1/campaigns/{cid}/webhooks",
        json={"url": f"{receiver.base_url}/crm", "events": ["attempt.ended"], "max_attempts": 2},
        headers=h.supervisor,
    )
    hook_id = created.json()["id"]
    async with h.session_factory() as session, session.begin():
        for name in ("att-a", "att-b"):
            session.add(
                CallAttempt(
                    id=name,
                    campaign_id=cid,
                    number_dialed="+8613800000002",
                    originate_at=utcnow(),
                    end_at=utcnow(),
                    outcome="busy",
                    terminal_state="busy",
                    disposition="BUSY",
                )
            )
    bus = EventBus()
    dispatcher = WebhookDispatcher(
        h.session_factory, bus, base_delay_s=0.05, jitter=0, poll_s=0.02, refresh_s=0.05
    )
    dispatcher.start()
    try:
        await dispatcher.swept.wait()  # both queued by the startup sweep
        await _until_dead(h, 2)
        page = (await h.client.get("/v1/webhooks/dead-letters", headers=h.supervisor)).json()
        assert page["total"] == 2
        assert {i["attempt_id"] for i in page["items"]} == {"att-a", "att-b"}
        first = page["items"][0]
        assert first["attempts"] == 2 and first["last_status"] == 503
        assert first["webhook_id"] == hook_id and first["payload"]["type"] == "attempt.ended"
        assert (await h.client.get("/v1/webhooks/dead-letters", headers=h.agent)).status_code == 403
        filtered = await h.client.get(
            f"/v1/webhooks/dead-letters?campaign_id={cid + 1}", headers=h.supervisor
        )
        assert filtered.json()["total"] == 0
        assert len(receiver.requests) == 4
        # the receiver is back: retry one, delete the other
        receiver.default_status = 200
        retried = await h.client.post(
            f"/v1/webhooks/dead-letters/{first['id']}/retry", headers=h.supervisor
        )
        assert retried.status_code == 200 and retried.json()["status"] == "pending"
        second = page["items"][1]
        gone = await h.client.delete(f"/v1/webhooks/dead-letters/{second['id']}", headers=h.admin)
        assert gone.status_code == 204
        await _until_delivered(h, cid, hook_id, 1)
        again = await h.client.post(
            f"/v1/webhooks/dead-letters/{first['id']}/retry", headers=h.supervisor
        )
        assert again.status_code == 404  # delivered: not a dead letter any more
        assert (
            await h.client.delete(f"/v1/webhooks/dead-letters/{second['id']}", headers=h.admin)
        ).status_code == 404
        page = (await h.client.get("/v1/webhooks/dead-letters", headers=h.supervisor)).json()
        assert page == {"items": [], "total": 0}
        same_event = [r.body for r in receiver.requests if first["event_id"].encode() in r.body]
        assert len(same_event) == 3 and len(set(same_event)) == 1  # 2 failed tries, 1 retry
        # a test event through the same path
        test = await h.client.post(
            f"/v1/campaigns/{cid}/webhooks/{hook_id}/test", headers=h.supervisor
        )
        assert test.status_code == 202 and test.json()["event_type"] == "webhook.test"
        await _until_delivered(h, cid, hook_id, 2)
        assert receiver.requests[-1].headers["x-dialer-event"] == "webhook.test"
        # bulk retry after an outage
        receiver.default_status = 500
        await h.client.post(f"/v1/campaigns/{cid}/webhooks/{hook_id}/test", headers=h.supervisor)
        await _until_dead(h, 1)
        receiver.default_status = 200
        bulk = await h.client.post(
            f"/v1/webhooks/dead-letters/retry?webhook_id={hook_id}", headers=h.supervisor
        )
        assert bulk.json() == {"requeued": 1}
        await _until_delivered(h, cid, hook_id, 3)
        listed = (await h.client.get(f"/v1/campaigns/{cid}/webhooks", headers=h.admin)).json()
        assert listed[0]["deliveries"] == {"pending": 0, "delivered": 3, "dead": 0}
    finally:
        await dispatcher.stop()


async def _until_dead(h: Harness, n: int) -> None:
    async with asyncio.timeout(10):
        while True:
            page = await h.client.get("/v1/webhooks/dead-letters", headers=h.supervisor)
            if page.json()["total"] == n:
                return
            await asyncio.sleep(0.02)


async def _until_delivered(h: Harness, cid: int, hook_id: int, n: int) -> None:
    url = f"/v1/campaigns/{cid}/webhooks/{hook_id}/deliveries?status=delivered"
    async with asyncio.timeout(10):
        while True:
            page = await h.client.get(url, headers=h.supervisor)
            if page.json()["total"] == n:
                return
            await asyncio.sleep(0.02)
