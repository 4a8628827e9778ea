"""Integration test against a running stack: `docker compose up` (or any deployment whose
Asterisk has the lab contexts of deploy/asterisk/extensions_lab.conf).

Run it with `deploy/compose-test.sh`, which brings the stack up, points this test at it and
takes the stack down again. Without `DIALER_COMPOSE_URL` it is skipped.

  DIALER_COMPOSE_URL        the dialer's base URL, e.g. http://127.0.0.1:8080
  DIALER_COMPOSE_ADMIN      admin user (default admin)
  DIALER_COMPOSE_PASSWORD   its password (default change-me-now, as in docker-compose.yml)
  DIALER_COMPOSE_MQTT       host:port of the MQTT broker to check events on (optional)
  DIALER_COMPOSE_MQTT_PREFIX  topic prefix (default dialer/v1)

The flow: readiness (database, AMI, MQTT), a campaign whose calling window is open now, a
lead upload, an agent signed in through the real Asterisk (a Local channel in its ConfBridge),
a real call that the lab's simulated person answers and that is bridged to the agent, a
disposition with notes, the attempt in the lead's history, a report, and the stats on MQTT.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.compose

URL = os.environ.get("DIALER_COMPOSE_URL", "")
ADMIN = (
    os.environ.get("DIALER_COMPOSE_ADMIN", "admin"),
    os.environ.get("DIALER_COMPOSE_PASSWORD", "change-me-now"),
)
MQTT = os.environ.get("DIALER_COMPOSE_MQTT", "")
MQTT_PREFIX = os.environ.get("DIALER_COMPOSE_MQTT_PREFIX", "dialer/v1")
NOTES = "compose integration test"

# Rule sets and number plans to try: the test dials in whichever calling window is open now.
# The lab dialplan answers as a person when the last digit is 4-9.
RUN = int(time.time()) % 10_000  # new numbers each run: no cooldown from an earlier run
CANDIDATES: tuple[tuple[str, str, Callable[[int, int], str]], ...] = (
    ("CN", "+861058001001", lambda i, d: f"+8613800{RUN:04d}{i}{d}"),
    ("IN", "+911140001001", lambda i, d: f"+919812{RUN:04d}{i}{d}"),
    ("FR", "+33140001001", lambda i, d: f"+33612{RUN:04d}{i}{d}"),
)


async def until(probe: Callable[[], Awaitable[Any]], what: str, seconds: float) -> Any:
    """Poll `probe` until it returns something truthy."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting until {what}")


@pytest.fixture
async def api() -> Any:
    if not URL:
        pytest.skip("no stack to test: run deploy/compose-test.sh (needs Docker)")
    async with httpx.AsyncClient(base_url=URL, timeout=30) as client:
        yield client


async def test_a_call_through_the_real_asterisk(api: httpx.AsyncClient) -> None:
    async def ready() -> Any:
        r = await api.get("/readyz")
        return r.json() if r.status_code == 200 else None

    health = await until(ready, "/readyz answers 200 (database, AMI, MQTT)", 120)
    names = {c["name"] for c in health["checks"]}
    assert any(n.startswith("ami:") for n in names), names

    r = await api.post("/v1/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})
    assert r.status_code == 200, r.text
    api.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    r = await api.post(
        "/v1/campaigns",
        json={
            "name": f"compose-lab-{RUN}-{time.time_ns()}",
            "dial_mode": "progressive",
            "amd_enabled": False,
            "safe_harbor_message": "vm-goodbye",
            "wrapup_timeout_s": 300,
            "max_attempts": 3,
            "script_text": "Lab call: say hello.",
        },
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    numbers = await _open_window(api, cid)

    csv = "phone,name\n" + "".join(f"{n},Lab {i}\n" for i, n in enumerate(numbers))
    r = await api.post(
        "/v1/leads/upload",
        data={"campaign_id": str(cid)},
        files={"file": ("lab.csv", io.BytesIO(csv.encode()), "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == len(numbers), r.json()

    aid = await _agent(api, f"7{RUN:04d}", cid)
    r = await api.post(f"/v1/agents/{aid}/session/login")
    assert r.status_code == 200, r.text

    async def agent_ready() -> bool:
        r = await api.get(f"/v1/agents/{aid}/session")
        return r.status_code == 200 and r.json()["state"] == "ready"

    await until(agent_ready, "the agent's leg is in its ConfBridge (ready)", 30)

    mqtt_stats = asyncio.create_task(_mqtt_stats(cid)) if MQTT else None
    r = await api.post(f"/v1/campaigns/{cid}/start")
    assert r.status_code == 200, r.text

    async def on_call() -> Any:
        r = await api.get(f"/v1/agents/{aid}/session/call")
        return r.json() if r.status_code == 200 and r.json()["call"] else None

    current = await until(on_call, "a lab callee is bridged to the agent", 90)
    assert current["lead"]["phone"] in numbers  # supervisors see the whole number
    assert current["script"] == "Lab call: say hello."
    attempt_id = current["call"]["attempt_id"]
    lead_id = current["lead"]["id"]
    r = await api.post(
        f"/v1/agents/{aid}/session/disposition", json={"code": "SALE", "notes": NOTES}
    )
    assert r.status_code == 204, r.text
    r = await api.post(f"/v1/campaigns/{cid}/pause")
    assert r.status_code == 200, r.text

    async def stored() -> Any:
        r = await api.get(f"/v1/leads/{lead_id}/history")
        rows = [a for a in r.json() if a["id"] == attempt_id] if r.status_code == 200 else []
        return rows[0] if rows and rows[0]["terminal_state"] else None

    attempt = await until(stored, f"attempt {attempt_id} is stored as ended", 30)
    assert attempt["terminal_state"] == "completed"
    assert attempt["disposition"] == "SALE"
    assert attempt["notes"] == NOTES
    assert attempt["agent_id"] == aid

    r = await api.get(f"/v1/reports/campaigns/{cid}/summary")
    assert r.status_code == 200, r.text
    r = await api.get(f"/v1/reports/campaigns/{cid}/summary", params={"format": "csv"})
    assert r.status_code == 200 and r.text.strip(), r.text

    if mqtt_stats is not None:
        stats = await asyncio.wait_for(mqtt_stats, 30)
        assert stats["campaign_id"] == cid

    r = await api.post(f"/v1/agents/{aid}/session/logout")
    assert r.status_code == 204, r.text
    r = await api.post(f"/v1/campaigns/{cid}/stop")
    assert r.status_code == 200, r.text


async def _open_window(api: httpx.AsyncClient, cid: int) -> list[str]:
    """Give the campaign the first rule set whose calling window is open now; its numbers."""
    closed: list[str] = []
    for ruleset, caller_id, number in CANDIDATES:
        r = await api.patch(
            f"/v1/campaigns/{cid}",
            json={"compliance_profile": [ruleset], "caller_id_pool": [caller_id]},
        )
        assert r.status_code == 200, r.text
        numbers = [number(i, d) for i in range(2) for d in range(4, 10)]
        r = await api.post("/v1/compliance/check", json={"number": numbers[0], "campaign_id": cid})
        assert r.status_code == 200, r.text
        decision = r.json()
        if decision["allowed"]:
            return numbers
        closed.append(f"{ruleset}: {decision['reasons']} (next {decision['next_allowed_at']})")
    pytest.skip("no lab calling window is open now: " + "; ".join(closed))
    raise AssertionError("unreachable")  # pragma: no cover


async def _agent(api: httpx.AsyncClient, extension: str, cid: int) -> int:
    """A lab agent on the campaign (reused when an earlier run left it behind)."""
    body = {"extension": extension, "name": "Lab agent", "campaign_ids": [cid]}
    r = await api.post("/v1/agents", json=body)
    if r.status_code == 409:
        r = await api.get("/v1/agents")
        found = [a["id"] for a in r.json() if a["extension"] == extension]
        assert found, r.text
        r = await api.patch(f"/v1/agents/{found[0]}", json={"campaign_ids": [cid]})
        assert r.status_code == 200, r.text
        return int(found[0])
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _mqtt_stats(cid: int) -> dict[str, Any]:
    """The first stats message of the campaign on the broker (published once a second)."""
    import aiomqtt

    host, _, port = MQTT.partition(":")
    async with aiomqtt.Client(host, int(port or 1883)) as client:
        await client.subscribe(f"{MQTT_PREFIX}/campaign/{cid}/stats")
        async for message in client.messages:
            payload = message.payload
            assert isinstance(payload, bytes | bytearray)
            data: dict[str, Any] = json.loads(payload)
            return data
    raise AssertionError("the MQTT connection ended")
