"""DNC, complaints and callbacks over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from dialer.db.models import Campaign, Lead
from tests.api.conftest import Harness


async def test_dnc_add_check_remove_import(harness: Harness) -> None:
    c, h = harness.client, harness.supervisor
    added = await c.post(
        "/v1/dnc", json={"number": "138 1234 5678", "reason": "客户要求"}, headers=h
    )
    assert added.status_code == 201
    entry = added.json()
    assert (entry["phone_e164"], entry["created_by"], entry["reason"]) == (
        "+8613812345678",
        "sup",
        "客户要求",
    )
    check = await c.post("/v1/dnc/check", json={"number": "+8613812345678"}, headers=h)
    assert check.json()["suppressed"] is True
    bad = await c.post("/v1/dnc/check", json={"number": "hello"}, headers=h)
    assert bad.status_code == 422
    assert (await c.delete(f"/v1/dnc/{entry['id']}", headers=h)).status_code == 204
    check = await c.post("/v1/dnc/check", json={"number": "+8613812345678"}, headers=h)
    assert check.json()["suppressed"] is False
    imported = await c.post(
        "/v1/dnc/import",
        files={
            "file": ("dnc.csv", "number,reason\n13900000001,投诉\nbogus\n13900000002\n", "text/csv")
        },
        data={"reason": "批量"},
        headers=h,
    )
    assert imported.json()["added"] == 2 and imported.json()["invalid"] == 1
    listing = (await c.get("/v1/dnc", headers=h)).json()
    assert {(x["phone_e164"], x["reason"]) for x in listing} == {
        ("+8613900000001", "投诉"),
        ("+8613900000002", "批量"),
    }


async def test_complaint_sla_and_resolution(harness: Harness) -> None:
    c, h = harness.client, harness.supervisor
    created = await c.post(
        "/v1/complaints",
        json={
            "number": "13812345678",
            "text": "频繁来电",
            "received_at": "2026-03-02T09:00:00+08:00",
            "sla_hours": 48,
        },
        headers=h,
    )
    assert created.status_code == 201
    complaint = created.json()
    due = datetime.fromisoformat(complaint["sla_due_at"])
    assert due - datetime.fromisoformat(complaint["received_at"]) == timedelta(hours=48)
    overdue = (await c.get("/v1/complaints", params={"overdue": "true"}, headers=h)).json()
    assert [x["id"] for x in overdue] == [complaint["id"]]
    cid = complaint["id"]
    moved = await c.patch(f"/v1/complaints/{cid}", json={"status": "in_progress"}, headers=h)
    assert moved.json()["status"] == "in_progress"
    done = await c.post(
        f"/v1/complaints/{cid}/resolve", json={"resolution": "已道歉并加入黑名单"}, headers=h
    )
    assert done.json()["status"] == "resolved" and done.json()["resolved_at"]
    again = await c.post(f"/v1/complaints/{cid}/resolve", json={"resolution": "x"}, headers=h)
    assert again.status_code == 409


async def test_callbacks(harness: Harness) -> None:
    c, h = harness.client, harness.supervisor
    async with harness.session_factory() as session, session.begin():
        campaign = Campaign(name="cb")
        session.add(campaign)
        await session.flush()
        lead = Lead(campaign_id=campaign.id, phone_e164="+8613812345678")
        session.add(lead)
        await session.flush()
    body = {
        "lead_id": lead.id,
        "due_at": "2030-01-01T10:00:00+08:00",
        "agent_id": harness.agent_id,
        "note": "下午回电",
    }
    created = await c.post("/v1/callbacks", json=body, headers=h)
    assert created.status_code == 201
    past = await c.post("/v1/callbacks", json={**body, "due_at": "2000-01-01T00:00:00Z"}, headers=h)
    assert past.status_code == 422
    mine = (await c.get("/v1/callbacks", headers=harness.agent)).json()
    assert [x["note"] for x in mine] == ["下午回电"]
    others = (
        await c.get(
            "/v1/callbacks", params={"agent_id": harness.other_agent_id}, headers=harness.agent
        )
    ).json()
    assert [x["note"] for x in others] == ["下午回电"]  # agent filter forced to its own id
    cancelled = await c.post(f"/v1/callbacks/{created.json()['id']}/cancel", headers=h)
    assert cancelled.json()["status"] == "cancelled"
    async with harness.session_factory() as session:
        assert (await session.scalar(select(Lead.status).where(Lead.id == lead.id))) == "retry"
