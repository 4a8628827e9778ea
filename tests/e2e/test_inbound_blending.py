"""Inbound blending end to end over real sockets (`make demo`'s setup: the service with its
HTTP API, pbxsim, simulated agents dialing a predictive campaign): callers dial the campaign's
number on pbxsim, run `dialer-inbound` (FastAGI `inbound`, hold music), and reach an agent's
bridge while outbound dialing goes on; a caller queued while every agent is busy gets the
next free agent ahead of outbound answers; a caller who gives up is counted as abandoned.
The inbound books (database rows, live stats, the HTTP report) agree, and the outbound books
still balance."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from dialer.db.migrate import upgrade
from dialer.db.models import CallAttempt, InboundCall
from dialer.demo import DEMO_DID, DemoOptions, start_demo, stop_demo
from dialer.runtime.agent_state import AgentState
from dialer.services import users
from dialer.settings import Settings
from tests.support.waiting import wait_until

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SPEED = 20.0


def _ended(events: list[dict[str, Any]], call_id: str, state: str) -> bool:
    return any(e.get("attempt_id") == call_id and e.get("state") == state for e in events)


async def test_callers_reach_agents_first_while_the_campaign_dials(sqlite_url, tmp_path) -> None:
    await upgrade(sqlite_url)
    settings = Settings(database_url=sqlite_url, data_dir=tmp_path)
    options = DemoOptions(
        speed=SPEED,
        agents=3,
        leads=400,
        live_view=False,
        serve_http=True,
        http_port=0,
        start_wall=START,
    )
    routed: list[dict[str, Any]] = []
    world = await start_demo(settings, options)
    service, sim = world.service, world.sim
    engine = service.engine
    sub = service.bus.subscribe("inbound/")

    async def collect() -> None:
        async for ev in sub:
            routed.append(ev.payload)

    collector = asyncio.create_task(collect())
    try:
        cid = world.campaign_id
        await wait_until(lambda: engine.campaign_stats(cid)["dials"] >= 3)  # outbound is running

        # -- 1. a caller while the campaign dials: bridged to an agent within seconds
        first = sim.inbound_call(DEMO_DID, "13912345601", patience_s=120, talk_s=100)
        await wait_until(lambda: (c := engine.calls.get(first)) is not None and c.agent_ext)
        agent_ext = engine.calls.get(first).agent_ext
        bridge = await wait_until(lambda: sim.bridges.get(f"agent-{agent_ext}"))
        await wait_until(lambda: any(m.uniqueid == first for m in bridge.members))
        channel = sim.find(first)
        assert channel is not None and channel.variables.get("SIM_MUSIC") == "off"
        # the agent's console names the call inbound, with the caller's number masked
        taker = engine.board.get(agent_ext)
        user = await users.create_user(
            service.sessions, "taker", "pw-long-enough", "agent", agent_id=taker.agent_id
        )
        key = (await users.issue_key(service.sessions, user)).secret
        async with httpx.AsyncClient(base_url=world.url, timeout=10) as http:
            r = await http.get(
                f"/v1/agents/{taker.agent_id}/session/call",
                headers={"Authorization": f"Bearer {key}"},
            )
        assert r.status_code == 200, r.text
        shown = r.json()["call"]
        assert (shown["direction"], shown["did"], shown["attempt_id"]) == (
            "inbound",
            DEMO_DID,
            first,
        )
        assert shown["number"].endswith("5601") and "1391234" not in shown["number"]

        # -- 2. every agent busy: a caller queues (the pacer sees it), then goes first
        for agent in engine.board:
            if agent.state is AgentState.READY:
                engine.agent_pause(agent, "hold-for-test")
        await wait_until(lambda: all(a.state is not AgentState.READY for a in engine.board))
        queued = sim.inbound_call(DEMO_DID, "13912345602", patience_s=300, talk_s=20)
        await wait_until(lambda: engine.snapshot(cid, "sim").waiting_for_agent >= 1)
        assert engine.campaign_stats(cid)["inbound"]["waiting"] == 1
        paused = next(a for a in engine.board if a.state is AgentState.PAUSED)
        engine.agent_ready(paused)  # the first agent to free up takes the caller
        await wait_until(lambda: (c := engine.calls.get(queued)) is not None and c.agent_ext)
        assert engine.calls.get(queued).agent_ext == paused.extension

        # -- 3. a caller who gives up while nobody is free: abandoned, not overflow
        for agent in engine.board:
            if agent.state is AgentState.READY:
                engine.agent_pause(agent, "hold-for-test")
        impatient = sim.inbound_call(DEMO_DID, "13912345603", patience_s=4, talk_s=10)
        await wait_until(
            lambda: any(e["attempt_id"] == impatient and e["state"] == "dropped" for e in routed)
        )
        for agent in engine.board:
            if agent.state is AgentState.PAUSED:
                engine.agent_ready(agent)

        # the books: every inbound call ended, the rows agree with the live numbers
        await wait_until(lambda: not any(c.inbound for c in engine.calls), 60)
        await wait_until(lambda: engine.campaign_stats(cid)["inbound"]["answered"] == 2)
        assert await service.writer.flush(10)
        async with service.sessions() as s:
            rows = {r.id: r for r in (await s.scalars(select(InboundCall))).all()}
        assert set(rows) == {first, queued, impatient}
        assert rows[first].outcome == rows[queued].outcome == "answered"
        assert rows[first].disposition and rows[queued].disposition  # agents wrapped up
        assert rows[impatient].outcome == "abandoned" and rows[impatient].agent_id is None
        assert rows[queued].wait_seconds > rows[first].wait_seconds
        assert all(r.end_at is not None for r in rows.values())
        live = engine.campaign_stats(cid)["inbound"]
        assert (live["offered"], live["answered"], live["abandoned"]) == (3, 2, 1)

        sup = await users.create_user(service.sessions, "sup", "pw-long-enough", "supervisor")
        key = (await users.issue_key(service.sessions, sup)).secret
        async with httpx.AsyncClient(base_url=world.url, timeout=10) as http:
            r = await http.get(
                f"/v1/reports/campaigns/{cid}/inbound",
                headers={"Authorization": f"Bearer {key}"},
            )
        assert r.status_code == 200, r.text
        [report] = r.json()["rows"]
        assert (report["offered"], report["answered"], report["abandoned"]) == (3, 2, 1)
        assert report["answered_in_target"] == live["answered_in_target"]
    finally:
        collector.cancel()
        sub.close()
        await stop_demo(world, drain_s=60)
    # outbound books still balance: every dial ended, none of them is an inbound call
    async with service.sessions() as s:
        open_attempts = await s.scalar(
            select(func.count()).where(CallAttempt.terminal_state.is_(None))
        )
        inbound_as_attempts = await s.scalar(
            select(func.count()).where(CallAttempt.id.in_([first, queued, impatient]))
        )
    assert open_attempts == 0 and inbound_as_attempts == 0
