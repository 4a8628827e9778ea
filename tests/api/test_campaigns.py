"""Campaign CRUD, clone, status changes reaching the runtime, audited pacing changes."""

from __future__ import annotations

from sqlalchemy import select

from dialer.db.models import Agent, AuditLog
from dialer.runtime.agi_router import verify_pin
from tests.api.conftest import Harness


async def test_campaign_round_trip(harness: Harness) -> None:
    c, h = harness.client, harness.supervisor
    created = await c.post(
        "/v1/campaigns",
        json={"name": "秋季回访", "dial_mode": "progressive", "caller_id_pool": ["+862112345678"]},
        headers=h,
    )
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["status"] == "draft"
    cid = campaign["id"]
    patched = await c.patch(f"/v1/campaigns/{cid}", json={"max_attempts": 3}, headers=h)
    assert patched.json()["max_attempts"] == 3
    assert (await c.get(f"/v1/campaigns/{cid}", headers=h)).json()["name"] == "秋季回访"
    listing = (await c.get("/v1/campaigns", headers=h)).json()
    assert listing["total"] == 1
    duplicate = await c.post("/v1/campaigns", json={"name": "秋季回访"}, headers=h)
    assert duplicate.status_code == 409
    clone = await c.post(f"/v1/campaigns/{cid}/clone", json={"name": "copy"}, headers=h)
    assert clone.status_code == 201
    assert clone.json()["max_attempts"] == 3
    assert clone.json()["caller_id_pool"] == ["+862112345678"]
    assert (await c.get("/v1/campaigns/999999", headers=h)).status_code == 404


async def test_start_pause_stop_notify_the_runtime(harness: Harness) -> None:
    c, h = harness.client, harness.supervisor
    cid = (await c.post("/v1/campaigns", json={"name": "s"}, headers=h)).json()["id"]
    assert (await c.post(f"/v1/campaigns/{cid}/pause", headers=h)).status_code == 409
    assert (await c.post(f"/v1/campaigns/{cid}/start", headers=h)).json()["status"] == "active"
    assert (await c.post(f"/v1/campaigns/{cid}/pause", headers=h)).json()["status"] == "paused"
    assert (await c.post(f"/v1/campaigns/{cid}/stop", headers=h)).json()["status"] == "stopped"
    assert harness.runtime.changed == [cid, cid, cid]
    assert (await c.post(f"/v1/campaigns/{cid}/explode", headers=h)).status_code == 422


async def test_pacing_change_is_audited(harness: Harness) -> None:
    c, h = harness.client, harness.supervisor
    cid = (await c.post("/v1/campaigns", json={"name": "p"}, headers=h)).json()["id"]
    read = (await c.get(f"/v1/campaigns/{cid}/pacing", headers=h)).json()
    assert read["settings"]["target_abandon_rate"] == 0.03
    assert read["live"]["dials"] == 10
    changed = await c.patch(
        f"/v1/campaigns/{cid}/pacing",
        json={"target_abandon_rate": 0.02, "mode": "ratio"},
        headers=h,
    )
    assert changed.status_code == 200
    assert changed.json()["settings"]["mode"] == "ratio"
    out_of_range = await c.patch(
        f"/v1/campaigns/{cid}/pacing", json={"target_abandon_rate": 3}, headers=h
    )
    assert out_of_range.status_code == 422
    async with harness.session_factory() as session:
        audit = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "campaign.pacing"))
        ).one()
    assert audit.actor == "sup"
    assert audit.detail["before"]["target_abandon_rate"] == 0.03
    assert audit.detail["after"]["target_abandon_rate"] == 0.02
    assert harness.runtime.changed == [cid]


async def test_pacing_mode_reads_back_the_dial_mode(harness: Harness) -> None:
    """A campaign created with `pacing.mode` (as the demo's is) shows the mode it dials in."""
    c, h = harness.client, harness.supervisor
    body = {"name": "m", "dial_mode": "predictive", "pacing": {"mode": "predictive"}}
    cid = (await c.post("/v1/campaigns", json=body, headers=h)).json()["id"]
    changed = await c.patch(f"/v1/campaigns/{cid}/pacing", json={"mode": "progressive"}, headers=h)
    assert changed.json()["settings"]["mode"] == "progressive"
    read = (await c.get(f"/v1/campaigns/{cid}/pacing", headers=h)).json()
    assert read["settings"]["mode"] == "progressive"
    assert (await c.get(f"/v1/campaigns/{cid}", headers=h)).json()["dial_mode"] == "progressive"


async def test_dispositions_config(harness: Harness) -> None:
    c = harness.client
    body = {"code": "VIP", "label": "贵宾", "success": True}
    assert (
        await c.post("/v1/dispositions", json=body, headers=harness.supervisor)
    ).status_code == 403
    created = await c.post("/v1/dispositions", json=body, headers=harness.admin)
    assert created.status_code == 201
    did = created.json()["id"]
    again = await c.post("/v1/dispositions", json=body, headers=harness.admin)
    assert again.status_code == 409
    patched = await c.patch(f"/v1/dispositions/{did}", json={"label": "VIP"}, headers=harness.admin)
    assert patched.json()["label"] == "VIP"
    codes = [d["code"] for d in (await c.get("/v1/dispositions", headers=harness.agent)).json()]
    assert "VIP" in codes and "SALE" in codes
    assert (await c.delete(f"/v1/dispositions/{did}", headers=harness.admin)).status_code == 204


async def test_pacing_what_if(harness: Harness) -> None:
    c, h = harness.client, harness.supervisor
    cid = (await c.post("/v1/campaigns", json={"name": "w"}, headers=h)).json()["id"]
    body = {
        "mode": "predictive",
        "target_abandon_rate": 0.02,
        "agents": 5,
        "hours": 0.25,
        "runs": 1,
    }
    response = await c.post(f"/v1/campaigns/{cid}/pacing/what-if", json=body, headers=h)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["assumptions"]["target_abandon_rate"] == 0.02
    assert data["assumptions"]["from_history"] == {"live_answer_rate": False, "talk": False}
    assert 0 < data["result"]["occupancy"] <= data["result"]["occupancy_bound"] + 1e-9
    assert 0 <= data["result"]["abandon_rate"] < 1


async def test_agent_crud(harness: Harness) -> None:
    c, h = harness.client, harness.supervisor
    cid = (await c.post("/v1/campaigns", json={"name": "ag"}, headers=h)).json()["id"]
    created = await c.post(
        "/v1/agents",
        json={"extension": "1010", "name": "赵六", "campaign_ids": [cid], "pin": "4321"},
        headers=h,
    )
    assert created.status_code == 201, created.text
    agent = created.json()
    assert agent["campaign_ids"] == [cid] and "pin" not in agent
    async with harness.session_factory() as session:
        row = await session.get(Agent, agent["id"])
    assert row is not None and verify_pin("4321", row.pin_hash)  # the phone login (*55) check
    taken = await c.post("/v1/agents", json={"extension": "1010"}, headers=h)
    assert taken.status_code == 409
    unknown_campaign = await c.post(
        "/v1/agents", json={"extension": "1011", "campaign_ids": [424242]}, headers=h
    )
    assert unknown_campaign.status_code == 422
    url = f"/v1/agents/{agent['id']}"
    patched = await c.patch(url, json={"name": "赵六六", "campaign_ids": []}, headers=h)
    assert (patched.json()["name"], patched.json()["campaign_ids"]) == ("赵六六", [])
    assert len((await c.get("/v1/agents", headers=h)).json()) == 3
    assert (await c.get(url, headers=harness.agent)).status_code == 403
    own = await c.get(f"/v1/agents/{harness.agent_id}", headers=harness.agent)
    assert own.json()["extension"] == "1001"
    assert (await c.delete(url, headers=h)).status_code == 204
    assert (await c.get(url, headers=h)).status_code == 404
