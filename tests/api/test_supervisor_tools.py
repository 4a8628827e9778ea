"""Supervisor tools over HTTP: live monitoring (supervisors only, audited), the daily PDF
report (audited like the other exports), recordings search and playback (agents only their
own calls, every play audited)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import select

from dialer.db.models import AuditLog, CallAttempt, Campaign
from dialer.runtime.control import CurrentCall
from tests.api.conftest import Harness
from tests.services.seed import seed_campaign


async def _audit(harness: Harness, action: str) -> list[AuditLog]:
    async with harness.session_factory() as session:
        return list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
            )
        )


# ------------------------------------------------------------------------ monitoring


async def test_monitor_is_for_supervisors_and_always_audited(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    url = f"/v1/agents/{h.agent_id}/monitor"
    body = {"mode": "whisper", "supervisor_extension": "2001"}
    # an agent may not monitor anyone, not even itself
    for target in (h.agent_id, h.other_agent_id):
        denied = await h.client.post(f"/v1/agents/{target}/monitor", json=body, headers=h.agent)
        assert denied.status_code == 403
    # not on a call: refused (409), and the refusal is on the books
    refused = await h.client.post(url, json=body, headers=h.supervisor)
    assert refused.status_code == 409 and "not on a call" in refused.json()["detail"]
    h.runtime.calls[h.agent_id] = CurrentCall("att-9", 3, 77, "connected", datetime.now(UTC))
    for mode, who in (("whisper", h.supervisor), ("barge", h.admin), ("listen", h.supervisor)):
        ok = await h.client.post(url, json={**body, "mode": mode}, headers=who)
        assert ok.status_code == 202, ok.text
        assert ok.json()["mode"] == mode and ok.json()["attempt_id"] == "att-9"
    assert [m.mode for m in h.runtime.monitors] == ["whisper", "barge", "listen"]
    rows = await _audit(h, "agent.monitor")
    assert [(r.actor, r.detail["mode"], r.detail["result"]) for r in rows] == [
        ("sup", "whisper", "refused"),
        ("sup", "whisper", "ringing"),
        ("root", "barge", "ringing"),
        ("sup", "listen", "ringing"),
    ]
    assert rows[1].object_id == str(h.agent_id) and rows[1].detail["attempt_id"] == "att-9"
    assert rows[1].detail["supervisor_extension"] == "2001"
    # bad input never reaches the runtime
    for bad in (
        {"mode": "shout", "supervisor_extension": "2001"},
        {"mode": "listen", "supervisor_extension": "2001,qB"},
        {"mode": "listen"},
    ):
        r = await h.client.post(url, json=bad, headers=h.supervisor)
        assert r.status_code == 422, bad
    assert len(h.runtime.monitors) == 3


# ------------------------------------------------------------------------ PDF report


async def test_daily_pdf_report_over_http(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    cid, _ = await seed_campaign(h.session_factory)
    url = f"/v1/reports/campaigns/{cid}/daily.pdf"
    r = await h.client.get(url, params={"day": "2026-03-02"}, headers=h.supervisor)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert 'filename="campaign-' in r.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(r.content))
    assert len(reader.pages) == 3
    assert "Connect rate" in reader.pages[0].extract_text()
    assert (await h.client.get(url, headers=h.agent)).status_code == 403
    missing = await h.client.get("/v1/reports/campaigns/9999/daily.pdf", headers=h.supervisor)
    assert missing.status_code == 404
    [row] = await _audit(h, "report.export")
    assert (row.actor, row.detail["format"], row.detail["day"]) == ("sup", "pdf", "2026-03-02")


# ------------------------------------------------------------------------ recordings


async def _recorded_calls(h: Harness) -> int:
    root = h.app.state.ctx.settings.recordings_path
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    async with h.session_factory() as s, s.begin():
        campaign = Campaign(name="rec", pacing={"agent_visible_digits": 4})
        s.add(campaign)
        await s.flush()
        for i, agent in enumerate((h.agent_id, h.other_agent_id, h.agent_id)):
            name = f"att-rec-{i}"
            path = f"dialer/{campaign.id}/20260302/{name}.wav"
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(b"RIFF" + bytes(range(256)) * 40)
            s.add(
                CallAttempt(
                    id=name,
                    campaign_id=campaign.id,
                    number_dialed="+8613812345678",
                    agent_id=agent,
                    originate_at=start + timedelta(minutes=i),
                    connect_at=start + timedelta(minutes=i, seconds=5),
                    hangup_at=start + timedelta(minutes=i, seconds=50),
                    disposition="SALE" if i != 1 else "NOT_NOW",
                    recording_path=path,
                )
            )
        s.add(
            CallAttempt(
                id="att-gone",
                campaign_id=campaign.id,
                number_dialed="+8613812345678",
                agent_id=h.agent_id,
                originate_at=start,
                recording_path=f"dialer/{campaign.id}/20260302/att-gone.wav",  # file purged
            )
        )
    return campaign.id


async def test_recordings_search_and_access(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    cid = await _recorded_calls(h)
    everything = await h.client.get("/v1/recordings", headers=h.supervisor)
    assert everything.status_code == 200
    assert everything.json()["total"] == 4
    assert everything.json()["items"][0]["number"] == "+8613812345678"
    by = await h.client.get(
        "/v1/recordings",
        params={"campaign_id": cid, "disposition": "SALE", "day": "2026-03-02"},
        headers=h.supervisor,
    )
    assert [i["attempt_id"] for i in by.json()["items"]] == ["att-rec-2", "att-rec-0"]
    other_day = await h.client.get(
        "/v1/recordings", params={"day": "2026-03-03"}, headers=h.supervisor
    )
    assert other_day.json()["total"] == 0
    # an agent sees its own calls only, with the number masked
    mine = await h.client.get("/v1/recordings", headers=h.agent)
    items = mine.json()["items"]
    assert {i["agent_id"] for i in items} == {h.agent_id} and len(items) == 3
    assert items[0]["number"] == "*********5678"
    assert items[0]["audio_url"] == f"/v1/recordings/{items[0]['attempt_id']}/audio"
    theirs = await h.client.get(
        "/v1/recordings", params={"agent_id": h.other_agent_id}, headers=h.agent
    )
    assert theirs.status_code == 403
    assert (await h.client.get("/v1/recordings/att-rec-1", headers=h.agent)).status_code == 403
    one = await h.client.get("/v1/recordings/att-rec-1", headers=h.supervisor)
    assert one.json()["agent_id"] == h.other_agent_id
    assert len(await _audit(h, "recording.search")) == 4  # the refused one ran no search


async def test_play_streams_the_file_with_ranges_and_audits(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    await _recorded_calls(h)
    url = "/v1/recordings/att-rec-0/audio"
    full = await h.client.get(url, headers=h.agent)  # the agent's own call
    assert full.status_code == 200
    assert full.headers["content-type"] == "audio/wav"
    assert full.headers["content-disposition"].startswith("inline")
    assert full.content[:4] == b"RIFF" and len(full.content) == 4 + 256 * 40
    part = await h.client.get(url, headers={**h.supervisor, "Range": "bytes=4-259"})
    assert part.status_code == 206 and part.content == bytes(range(256))
    assert (
        await h.client.get("/v1/recordings/att-rec-1/audio", headers=h.agent)
    ).status_code == 403
    gone = await h.client.get("/v1/recordings/att-gone/audio", headers=h.supervisor)
    assert gone.status_code == 404 and "missing" in gone.json()["detail"]
    assert (
        await h.client.get("/v1/recordings/no-such/audio", headers=h.supervisor)
    ).status_code == 404
    assert (await h.client.get(url)).status_code == 401
    plays = await _audit(h, "recording.play")
    assert [(p.actor, p.object_id) for p in plays] == [("ag", "att-rec-0"), ("sup", "att-rec-0")]
    assert plays[0].detail["agent_id"] == h.agent_id


async def test_a_stored_path_outside_the_directory_is_never_served(
    sqlite_harness: Harness,
) -> None:
    h = sqlite_harness
    await _recorded_calls(h)
    secret = h.app.state.ctx.settings.data_dir / "dialer-secret.wav"
    secret.write_bytes(b"not yours")
    async with h.session_factory() as s, s.begin():
        row = await s.get(CallAttempt, "att-rec-0")
        assert row is not None
        row.recording_path = "../dialer-secret.wav"
    r = await h.client.get("/v1/recordings/att-rec-0/audio", headers=h.supervisor)
    assert r.status_code == 404 and b"not yours" not in r.content
    assert await _audit(h, "recording.play") == []
