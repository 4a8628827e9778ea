"""Supervisor tools in the runtime: the monitoring Originate, and the pause log the agent
performance report reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dialer.db.engine import open_database
from dialer.db.migrate import upgrade
from dialer.db.models import AuditLog
from dialer.runtime.agent_state import AgentState
from dialer.runtime.bus import EventBus
from dialer.runtime.clock import Clock
from dialer.runtime.control import MonitorMode
from dialer.runtime.monitor import MonitorRefused, start_monitor
from dialer.runtime.pause_log import PAUSE_ACTION, PauseLog, pause_op
from dialer.runtime.pbx import LiveChannel
from tests.runtime.fakes import answered, channel_event, login_agent


async def _on_a_call(eng: Any, pbx: Any, cid: int) -> tuple[Any, str]:
    agent = await login_agent(eng, pbx, 1)
    await eng.tick(cid)
    att = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(att))
    assert (await eng.route_answered(att, None))[0] == "bridge"
    eng.handle_event("pbx1", channel_event("ConfbridgeJoin", att, Conference="agent-1001"))
    return agent, att


def _leg_channel(agent: Any) -> LiveChannel:
    return LiveChannel(
        agent.leg_uniqueid, agent.leg_uniqueid, "PJSIP/1001-0000002a", "dialer-agent", "1001", "Up"
    )


async def test_monitor_rings_the_supervisor_into_a_spy_of_the_agent_leg(world):
    eng, pbx, _, cid = world
    agent, att = await _on_a_call(eng, pbx, cid)
    pbx.channels = [
        LiveChannel(
            att, att, "Local/86138001380@sim-pstn-00000001;1", "dialer-outbound", "s", "Up"
        ),
        _leg_channel(agent),
    ]
    session = await start_monitor(eng, agent, MonitorMode.WHISPER, "2001")
    call = pbx.originates[-1]
    assert call["attempt_id"] == session.monitor_id and session.monitor_id.startswith("spy-2001-")
    assert call["channel"] == "PJSIP/2001"  # the server's agent endpoint template
    assert (call["context"], call["exten"]) == ("dialer-monitor", "whisper")
    assert call["variables"] == {"DIALER_SPY_CHANNEL": "PJSIP/1001-0000002a"}
    assert call["caller_id"] == '"whisper 1001" <1001>'
    assert (session.attempt_id, session.campaign_id, session.spied_channel) == (
        att,
        cid,
        "PJSIP/1001-0000002a",
    )
    # the supervisor leg's events are nobody's: the call and the agent are untouched
    eng.handle_event("pbx1", answered(session.monitor_id))
    eng.handle_event("pbx1", channel_event("Hangup", session.monitor_id, Cause="16"))
    assert agent.state is AgentState.TALKING and eng.calls.get(att) is not None


async def test_monitor_refusals(world):
    eng, pbx, _, cid = world
    agent = await login_agent(eng, pbx, 1)
    with pytest.raises(MonitorRefused, match="not on a call"):
        await start_monitor(eng, agent, MonitorMode.LISTEN, "2001")
    other = await login_agent(eng, pbx, 2)
    agent, _ = await _on_a_call_again(eng, pbx, cid, agent)
    with pytest.raises(MonitorRefused, match="agent's phone"):
        await start_monitor(eng, agent, MonitorMode.LISTEN, other.extension)
    with pytest.raises(MonitorRefused, match="not a phone extension"):
        await start_monitor(eng, agent, MonitorMode.LISTEN, "2001@evil")
    pbx.channels = []  # Asterisk no longer has the agent's leg
    with pytest.raises(MonitorRefused, match="phone leg is not on pbx1"):
        await start_monitor(eng, agent, MonitorMode.BARGE, "2001")
    pbx.channels = [_leg_channel(agent)]
    pbx.connected = False
    with pytest.raises(MonitorRefused, match="not connected"):
        await start_monitor(eng, agent, MonitorMode.BARGE, "2001")
    assert all(o["context"] != "dialer-monitor" for o in pbx.originates)


async def _on_a_call_again(eng: Any, pbx: Any, cid: int, agent: Any) -> tuple[Any, str]:
    await eng.tick(cid)
    att = next(o["attempt_id"] for o in reversed(pbx.originates) if o["context"] != "dialer-agent")
    eng.handle_event("pbx1", answered(att))
    assert (await eng.route_answered(att, None))[0] == "bridge"
    return agent, att


# ------------------------------------------------------------------------ pause log


class ManualClock(Clock):
    def __init__(self, start: datetime) -> None:
        super().__init__(start_wall=start)
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t


class CollectingWriter:
    def __init__(self) -> None:
        self.ops: list[Any] = []

    def submit(self, op: Any, label: str = "") -> None:
        self.ops.append(op)


def _state(ext: str, state: str, reason: str | None = None) -> dict[str, Any]:
    return {"agent_id": 7, "extension": ext, "state": state, "pause_reason": reason}


async def test_pauses_are_written_when_they_end_and_only_once(sqlite_url: str) -> None:
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    clock = ManualClock(start)
    writer = CollectingWriter()
    log = PauseLog(EventBus(), writer, clock)  # type: ignore[arg-type]
    log.observe(_state("1007", "ready"))
    log.observe(_state("1007", "paused", "break"))
    clock.t = 300.0
    log.observe(_state("1007", "paused", "break"))  # the same state again: still one pause
    clock.t = 600.0
    log.observe(_state("1007", "ready"))
    log.observe(_state("1007", "paused", "lunch"))
    clock.t = 2400.0
    log.observe(_state("1007", "offline"))
    log.observe(_state("1007", "paused", "training"))  # still open at shutdown
    clock.t = 2460.0
    log.drain()
    assert log.written == 3
    await upgrade(sqlite_url)
    async with open_database(sqlite_url) as factory:
        for op in writer.ops + writer.ops[:1]:  # a retried write adds nothing
            async with factory() as s, s.begin():
                await op(s)
        async with factory() as s:
            rows = list(await s.scalars(select(AuditLog).order_by(AuditLog.id)))
    assert [(r.action, r.object_id, r.actor) for r in rows] == [
        (PAUSE_ACTION, "7", "agent 1007")
    ] * 3
    assert [(r.detail["reason"], r.detail["seconds"]) for r in rows] == [
        ("break", 600.0),
        ("lunch", 1800.0),
        ("training", 60.0),
    ]
    assert rows[0].at == start + timedelta(seconds=600)
    assert rows[0].detail["started_at"] == start.isoformat()


async def test_pause_op_rows_reach_the_report_day(sqlite_url: str) -> None:
    await upgrade(sqlite_url)
    ended = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    async with open_database(sqlite_url) as factory:
        async with factory() as s, s.begin():
            await pause_op(3, "1003", "break", ended - timedelta(minutes=5), ended, 300.0)(s)
        async with factory() as s:
            row = await s.scalar(select(AuditLog))
    assert row is not None and row.at == ended and row.detail["seconds"] == 300.0
