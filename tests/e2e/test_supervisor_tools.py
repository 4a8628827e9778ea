"""End to end over real sockets (`make demo`'s setup: the service with its HTTP API, pbxsim,
simulated agents): a supervisor whispers into a live call from the API and pbxsim shows the
spy on the agent's leg; an agent may not; a recorded call is found and played over HTTP; an
agent's pause and the day's numbers come back in the PDF report. Everything is audited."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import Any

import httpx
from pypdf import PdfReader
from sqlalchemy import select

from dialer.db.migrate import upgrade
from dialer.db.models import AuditLog, CallAttempt, Campaign
from dialer.demo import DemoOptions, start_demo, stop_demo
from dialer.runtime.agent_state import AgentState
from dialer.runtime.attempt_state import AttemptState
from dialer.services import users
from dialer.settings import Settings
from tests.support.waiting import wait_until

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SPEED = 20.0


async def _token(sessions: Any, name: str, role: str, agent_id: int | None = None) -> dict:
    user = await users.create_user(sessions, name, "pw-long-enough", role, agent_id=agent_id)
    return {"Authorization": f"Bearer {(await users.issue_key(sessions, user)).secret}"}


async def _audit(sessions: Any, action: str) -> list[AuditLog]:
    async with sessions() as s:
        rows = await s.scalars(select(AuditLog).where(AuditLog.action == action))
        return list(rows)


async def test_monitor_record_play_and_report_over_real_sockets(sqlite_url, tmp_path) -> None:
    await upgrade(sqlite_url)
    settings = Settings(database_url=sqlite_url, data_dir=tmp_path)
    options = DemoOptions(
        speed=SPEED,
        agents=4,
        leads=300,
        live_view=False,
        serve_http=True,
        http_port=0,
        start_wall=START,
        console_agents=1,  # agent 1001 is ours: logged in and paused over HTTP below
    )
    world = await start_demo(settings, options)
    service, sim = world.service, world.sim
    try:
        async with service.sessions() as s, s.begin():  # the campaign records every call
            campaign = await s.get(Campaign, world.campaign_id)
            assert campaign is not None
            campaign.recording_mode = "all"
        await service.control.campaign_changed(world.campaign_id)
        sup = await _token(service.sessions, "sup", "supervisor")
        console_id = world.console_agent_ids[0]
        agent = await _token(service.sessions, "ag", "agent", agent_id=console_id)
        assert world.url is not None
        async with httpx.AsyncClient(base_url=world.url, timeout=10) as http:
            await wait_until(lambda: service.http_server.started, 10)

            # -- live monitoring of an agent on a live call
            def talking() -> Any:
                for a in service.engine.board:
                    call = service.engine.calls.get(a.attempt_id or "")
                    if (
                        a.state is AgentState.TALKING
                        and call is not None
                        and call.state is AttemptState.CONNECTED
                    ):
                        return a
                return None

            target = await wait_until(talking)
            body = {"mode": "whisper", "supervisor_extension": "2001"}
            r = await http.post(f"/v1/agents/{target.agent_id}/monitor", json=body, headers=sup)
            assert r.status_code == 202, r.text
            session = r.json()
            assert session["spied_channel"].startswith(f"PJSIP/{target.extension}-")
            spy = await wait_until(
                lambda: next(
                    (x for x in sim.spies() if x["spyer_uniqueid"] == session["monitor_id"]), None
                )
            )
            assert spy["spyee_uniqueid"] == target.leg_uniqueid
            assert spy["spyee"] == session["spied_channel"] and spy["mode"] == "whisper"
            assert spy["spyer"].startswith("PJSIP/2001-")
            shown = next(c for c in sim.live_channels() if c["uniqueid"] == session["monitor_id"])
            assert (shown["context"], shown["application"]) == ("dialer-monitor", "ChanSpy")
            assert target.state is AgentState.TALKING  # the call goes on

            denied = await http.post(f"/v1/agents/{console_id}/monitor", json=body, headers=agent)
            assert denied.status_code == 403
            [audit] = await _audit(service.sessions, "agent.monitor")
            assert (audit.actor, audit.object_id) == ("sup", str(target.agent_id))
            assert audit.detail["monitor_id"] == session["monitor_id"]
            assert audit.detail["result"] == "ringing"

            # -- an agent's pause, for the report
            login = await http.post(f"/v1/agents/{console_id}/session/login", headers=agent)
            assert login.status_code == 200, login.text
            await wait_until(
                lambda: any(
                    a.agent_id == console_id and a.state is AgentState.READY
                    for a in service.engine.board
                )
            )
            paused = await http.post(
                f"/v1/agents/{console_id}/session/pause", json={"reason": "coaching"}, headers=agent
            )
            assert paused.status_code == 200 and paused.json()["state"] == "paused"
            await asyncio.sleep(service.clock.real_seconds(30))
            out = await http.post(f"/v1/agents/{console_id}/session/logout", headers=agent)
            assert out.status_code == 204

            # -- the monitored call's recording: found and played
            attempt_id = target.attempt_id or session["attempt_id"]
            assert await service.writer.flush(5)
            async with service.sessions() as s:
                row = await s.get(CallAttempt, session["attempt_id"])
            assert row is not None and row.recording_path, attempt_id
            audio = settings.recordings_path / row.recording_path  # what Asterisk would write
            audio.parent.mkdir(parents=True, exist_ok=True)
            audio.write_bytes(b"RIFF" + b"\x00" * 1000)
            found = await http.get(
                "/v1/recordings", params={"agent_id": target.agent_id}, headers=sup
            )
            assert session["attempt_id"] in [i["attempt_id"] for i in found.json()["items"]]
            played = await http.get(f"/v1/recordings/{session['attempt_id']}/audio", headers=sup)
            assert played.status_code == 200 and played.content[:4] == b"RIFF"
            assert played.headers["content-type"] == "audio/wav"
            agent_play = await http.get(
                f"/v1/recordings/{session['attempt_id']}/audio", headers=agent
            )
            assert agent_play.status_code == 403  # not the console agent's call
            [play] = await _audit(service.sessions, "recording.play")
            assert (play.actor, play.object_id) == ("sup", session["attempt_id"])

            # -- the day's PDF report, with the pause
            assert await service.writer.flush(5)
            pdf = await http.get(
                f"/v1/reports/campaigns/{world.campaign_id}/daily.pdf",
                params={"day": "2026-03-02"},
                headers=sup,
            )
            assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
            pages = PdfReader(io.BytesIO(pdf.content)).pages
            text = "\n".join(p.extract_text() for p in pages)
            assert "Connect rate" in text and "Agent performance" in text
            assert "coaching 0:00:" in text
    finally:
        await stop_demo(world, drain_s=60)
    pauses = await _audit(service.sessions, "agent.pause")
    coaching = [p for p in pauses if p.detail["reason"] == "coaching"]
    assert len(coaching) == 1 and coaching[0].object_id == str(console_id)
    assert 25 <= coaching[0].detail["seconds"] <= 120
