"""A desk-phone agent over real sockets: logs in by dialling *55 with agent number and PIN,
takes a call, and types its disposition on the keypad after the customer hangs up."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from dialer.db.migrate import upgrade
from dialer.db.models import CallAttempt
from dialer.demo import DemoOptions, start_demo, stop_demo
from dialer.runtime.agent_state import AgentState
from dialer.settings import Settings
from tests.support.waiting import wait_until

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def test_desk_phone_login_call_and_dtmf_disposition(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    await upgrade(url)
    options = DemoOptions(
        speed=20,
        agents=1,
        console_agents=1,  # nobody logs 1001 in from a screen
        leads=200,
        live_view=False,
        serve_http=False,
        start_wall=START,
    )
    world = await start_demo(Settings(database_url=url, data_dir=tmp_path), options)
    service, sim = world.service, world.sim
    try:
        sim.queue_dtmf("1001", "1001", "1001")  # agent number, then PIN
        sim.phone_dial("1001")  # *55 from the desk phone
        await wait_until(lambda: _state(service, "1001") is AgentState.READY, within=10)

        sim.queue_dtmf("1001", "1")  # the disposition it will type: 1 = SALE
        await wait_until(lambda: _state(service, "1001") is AgentState.TALKING, within=30)
        attempt_id = service.engine.board.get("1001").attempt_id
        # the customer's talk time runs out; the phone is sent to the keypad prompt
        await wait_until(lambda: _disposed(service, attempt_id), within=40)
        await wait_until(lambda: _state(service, "1001") is AgentState.READY, within=10)
    finally:
        await stop_demo(world)
    async with service.sessions() as s:
        row = await s.scalar(select(CallAttempt).where(CallAttempt.id == attempt_id))
    assert row.terminal_state == "completed" and row.disposition == "SALE"
    assert row.notes == "by DTMF"


def _state(service, ext: str) -> AgentState | None:
    agent = service.engine.board.get(ext)
    return agent.state if agent is not None else None


def _disposed(service, attempt_id: str) -> bool:
    return attempt_id not in service.engine.calls
