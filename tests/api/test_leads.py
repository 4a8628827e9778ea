"""Lead upload report, listing, editing, history and erasure that keeps the hash."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from dialer.db.hashing import number_hash
from dialer.db.models import AuditLog, CallAttempt, Lead, SuppressionEntry
from tests.api.conftest import Harness

CSV = "phone,name\n13812345678,张三\n13812345679,李四\n13812345678,重复\nnot-a-number,坏\n"


async def _campaign(harness: Harness) -> int:
    response = await harness.client.post(
        "/v1/campaigns", json={"name": "leads"}, headers=harness.supervisor
    )
    return int(response.json()["id"])


async def _upload(harness: Harness, cid: int, body: bytes, name: str = "leads.csv") -> dict:
    response = await harness.client.post(
        "/v1/leads/upload",
        data={"campaign_id": str(cid)},
        files={"file": (name, body, "text/csv")},
        headers=harness.supervisor,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_upload_returns_the_import_report(harness: Harness) -> None:
    cid = await _campaign(harness)
    report = await _upload(harness, cid, CSV.encode())
    assert report["ok"] is True
    assert report["total_rows"] == 4
    assert report["imported"] == 2
    assert report["duplicates_in_file"] == 1
    assert report["invalid"] == 1
    listing = await harness.client.get(
        "/v1/leads", params={"campaign_id": cid, "limit": 1}, headers=harness.supervisor
    )
    assert listing.json()["total"] == 2
    assert len(listing.json()["items"]) == 1
    filtered = await harness.client.get(
        "/v1/leads", params={"phone": "5679"}, headers=harness.supervisor
    )
    assert [x["name"] for x in filtered.json()["items"]] == ["李四"]


async def test_upload_rejects_bad_input_without_500(harness: Harness) -> None:
    bad_suffix = await harness.client.post(
        "/v1/leads/upload",
        data={"campaign_id": "1"},
        files={"file": ("x.exe", b"MZ", "application/octet-stream")},
        headers=harness.supervisor,
    )
    assert bad_suffix.status_code == 422
    no_campaign = await harness.client.post(
        "/v1/leads/upload",
        data={"campaign_id": "424242"},
        files={"file": ("x.csv", CSV.encode(), "text/csv")},
        headers=harness.supervisor,
    )
    assert no_campaign.status_code == 404
    missing_file = await harness.client.post(
        "/v1/leads/upload", data={"campaign_id": "1"}, headers=harness.supervisor
    )
    assert missing_file.status_code == 422


async def test_update_and_history_with_recording_audit(harness: Harness) -> None:
    cid = await _campaign(harness)
    await _upload(harness, cid, CSV.encode())
    async with harness.session_factory() as session, session.begin():
        lead = (await session.scalars(select(Lead).order_by(Lead.id))).first()
        assert lead is not None
        session.add(
            CallAttempt(
                id="att-h1",
                campaign_id=cid,
                lead_id=lead.id,
                number_dialed=lead.phone_e164,
                originate_at=datetime(2026, 1, 1, 9, tzinfo=UTC),
                recording_path="rec/att-h1.wav",
            )
        )
    url = f"/v1/leads/{lead.id}"
    patched = await harness.client.patch(url, json={"priority": 5}, headers=harness.supervisor)
    assert patched.json()["priority"] == 5
    bad = await harness.client.patch(url, json={"phone_e164": "+1"}, headers=harness.supervisor)
    assert bad.status_code == 422
    history = await harness.client.get(f"{url}/history", headers=harness.supervisor)
    assert [a["id"] for a in history.json()] == ["att-h1"]
    async with harness.session_factory() as session:
        audit = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "recording.read"))
        ).one()
    assert audit.detail["attempts"] == ["att-h1"]


async def test_erasure_keeps_the_suppression_hash(harness: Harness) -> None:
    cid = await _campaign(harness)
    await _upload(harness, cid, CSV.encode())
    async with harness.session_factory() as session:
        lead = await session.scalar(select(Lead).where(Lead.phone_e164 == "+8613812345678"))
    assert lead is not None
    erased = await harness.client.delete(f"/v1/leads/{lead.id}", headers=harness.supervisor)
    assert erased.status_code == 200
    assert erased.json()["suppression_hash"] == number_hash("+8613812345678")
    assert (
        await harness.client.get(f"/v1/leads/{lead.id}", headers=harness.supervisor)
    ).status_code == 404
    async with harness.session_factory() as session:
        entries = list(await session.scalars(select(SuppressionEntry)))
        assert [(e.number_hash, e.phone_e164) for e in entries] == [
            (number_hash("+8613812345678"), None)
        ]
    # Importing the number again does not bring it back as dialable.
    report = await _upload(harness, cid, b"phone\n13812345678\n")
    assert report["suppressed"] == 1


async def test_exports_are_audited(harness: Harness) -> None:
    cid = await _campaign(harness)
    await _upload(harness, cid, CSV.encode())
    url = f"/v1/campaigns/{cid}/export"
    leads = await harness.client.get(url, headers=harness.supervisor)
    assert leads.status_code == 200
    assert leads.headers["content-type"].startswith("text/csv")
    assert "+8613812345679" in leads.content.decode("utf-8-sig")
    attempts = await harness.client.get(
        url, params={"kind": "attempts", "format": "xlsx"}, headers=harness.supervisor
    )
    assert attempts.status_code == 200
    assert attempts.content[:2] == b"PK"
    audit = await harness.client.get("/v1/audit", headers=harness.admin)
    actions = [(a["action"], a["detail"].get("kind")) for a in audit.json()]
    assert ("export", "leads") in actions
    assert ("export", "attempts") in actions
    assert ("recording.read", "attempts") in actions
    assert (await harness.client.get("/v1/audit", headers=harness.supervisor)).status_code == 403
