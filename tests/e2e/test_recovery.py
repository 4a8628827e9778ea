"""Recovery over real sockets: the AMI link drops mid-campaign, the dialer process dies and
a new one takes over, the database goes away for 30 s. Each time: dialing pauses, nothing
is dialled twice, every attempt ends in exactly one terminal state, and it resumes alone."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from dialer.db.engine import create_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.db.models import CallAttempt, Lead
from dialer.demo import (
    DemoOptions,
    SimulatedAgents,
    read_books,
    start_demo,
    stop_demo,
)
from dialer.runtime.agent_state import AgentState
from dialer.service import DialerService
from dialer.settings import Settings
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import wait_until

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SPEED = 30.0


def _options(**kw) -> DemoOptions:
    base = dict(
        speed=SPEED, agents=10, leads=2_000, live_view=False, serve_http=False, start_wall=START
    )
    base.update(kw)
    return DemoOptions(**base)


async def _run_for(service: DialerService, sim_seconds: float) -> None:
    await asyncio.sleep(service.clock.real_seconds(sim_seconds))


async def _check_books(sessions, campaign_id: int, *, originated: int | None = None) -> None:
    books = await read_books(sessions, campaign_id)
    assert books.attempts > 0
    assert books.open_attempts == 0, books
    async with sessions() as s:
        attempts = (
            (await s.execute(select(CallAttempt).where(CallAttempt.campaign_id == campaign_id)))
            .scalars()
            .all()
        )
        leads = (
            (await s.execute(select(Lead).where(Lead.campaign_id == campaign_id))).scalars().all()
        )
    # one row per dial, each dial ended once (the terminal update is guarded in SQL)
    assert len({a.id for a in attempts}) == len(attempts)
    assert all(a.terminal_state is not None and a.end_at is not None for a in attempts)
    # no lead left claimed or dialing, attempt counts agree, no two dials of a lead overlap
    assert not [lead.id for lead in leads if lead.status in ("in_hopper", "dialing")]
    per_lead = Counter(a.lead_id for a in attempts)
    assert all(lead.attempt_count == per_lead.get(lead.id, 0) for lead in leads)
    by_lead: dict[int, list[CallAttempt]] = {}
    for a in sorted(attempts, key=lambda a: a.originate_at):
        earlier = by_lead.setdefault(a.lead_id, [])
        assert all(e.end_at <= a.originate_at for e in earlier), a.lead_id
        earlier.append(a)
    if originated is not None:
        # every Originate the PBX saw is one attempt row (or an agent leg): none re-sent
        unsent = [a for a in attempts if (a.notes or "").startswith("originate not sent")]
        assert all(a.terminal_state == "failed" for a in unsent)
        assert originated == len(attempts) - len(unsent)


async def test_ami_drop_mid_campaign_pauses_reconciles_and_redials_nothing(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    await upgrade(url)
    world = await start_demo(Settings(database_url=url, data_dir=tmp_path), _options())
    service, sim = world.service, world.sim
    client = service.ami["sim"]
    await _run_for(service, 120)
    assert len(service.engine.calls) > 0  # calls in flight when the link drops
    dials_before = service.engine.campaign_stats(world.campaign_id)["dials"]
    originated_before = sim.stats()["originated"]
    assert await sim.drop_ami_connections() == 1
    await wait_until(lambda: not service.engine.pbx["sim"].connected, within=5, every=0)
    dials_while_down = []
    while not service.engine.pbx["sim"].connected:
        dials_while_down.append(sim.stats()["originated"])
        await asyncio.sleep(0.01)
    assert set(dials_while_down) <= {originated_before}  # no Originate while disconnected
    assert client.health().reconnects == 1
    await _run_for(service, 120)
    stats = service.engine.campaign_stats(world.campaign_id)
    assert stats["dials"] > dials_before  # resumed by itself
    agents = [a for a in service.engine.board if a.state is not AgentState.OFFLINE]
    assert len(agents) == 10  # agent legs were reconciled, not dropped
    agent_legs = 10
    await stop_demo(world)
    await _check_books(
        service.sessions, world.campaign_id, originated=sim.stats()["originated"] - agent_legs
    )


def _crash(service: DialerService) -> None:
    """What SIGKILL does to the process: sockets die, queued writes are gone."""
    for task in service._tasks:
        task.cancel()
    for client in service.ami.values():
        if client._protocol is not None:
            client._protocol.abort()
        client._closed = True
        for t in (client._supervisor, client._pinger):
            if t is not None:
                t.cancel()
    for server in service.agi:
        if server._server is not None:
            server._server.close()
        for session in list(server._sessions):
            session.cancel()


async def test_killed_dialer_is_replaced_and_adopts_its_attempts(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    await upgrade(url)
    world = await start_demo(Settings(database_url=url, data_dir=tmp_path), _options())
    first = world.service
    await _run_for(first, 120)
    in_flight = {a.id for a in first.engine.calls}
    assert in_flight
    await world.agents.stop()
    _crash(first)
    await asyncio.sleep(0.2)
    await first.db_engine.dispose()

    second = DialerService(first.settings, clock=first.clock, serve_http=False)
    await second.start()
    async with asyncio.timeout(10):
        await second.ami["sim"].wait_ready()
    adopted = {a.id for a in second.engine.calls} | set()
    assert adopted or in_flight  # what was open is back in memory or already ended
    agents = SimulatedAgents(second, world.agent_ids, random.Random(2))
    agents._spawn(agents.run())
    await asyncio.sleep(0)
    await agents.login_all()
    await _run_for(second, 120)
    assert second.engine.campaign_stats(world.campaign_id)["dials"] > 0  # took over
    world.service, world.agents = second, agents
    await stop_demo(world)
    await _check_books(second.sessions, world.campaign_id)


@pytest.mark.postgres
async def test_database_outage_of_30s_pauses_dialing_and_loses_nothing(pg_database, tmp_path):
    await upgrade(pg_database)
    host_port = pg_database.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    proxy = await TcpProxy(host, int(port)).start()
    proxied = pg_database.replace(host_port, f"127.0.0.1:{proxy.port}")
    world = await start_demo(
        Settings(database_url=proxied, data_dir=tmp_path), _options(speed=10.0)
    )
    service = world.service
    await _run_for(service, 60)
    before = service.engine.campaign_stats(world.campaign_id)
    proxy.cut()
    await asyncio.sleep(2)
    early = service.engine.campaign_stats(world.campaign_id)
    await asyncio.sleep(28)  # real seconds: 30 s of outage in all
    during = service.engine.campaign_stats(world.campaign_id)
    assert not service.writer.db_ok
    assert service.writer.pending > 0  # held, not dropped
    assert during["dials"] == early["dials"]  # paused: a dial needs its attempt row first
    assert during["completed"] > early["completed"]  # calls in progress went on
    proxy.restore()
    await wait_until(lambda: service.writer.db_ok and not service.writer.pending, within=30)
    await _run_for(service, 60)
    after = service.engine.campaign_stats(world.campaign_id)
    assert after["dials"] > during["dials"] >= before["dials"]  # resumed by itself
    assert service.writer.rejected == []
    await stop_demo(world)
    await proxy.close()
    direct = create_engine(pg_database)
    await _check_books(make_session_factory(direct), world.campaign_id)
    await direct.dispose()
