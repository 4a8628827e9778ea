"""Two Asterisk servers: each agent pool dials on its own server; when one server goes away
its pool pauses, the other keeps dialing, and when it comes back its calls are reconciled."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from sqlalchemy import func, select

from dialer.db.migrate import upgrade
from dialer.db.models import Agent, CallAttempt, Campaign
from dialer.demo import DemoOptions, SimulatedAgents, free_port, prepare_demo, read_books
from dialer.runtime.agent_state import AgentState
from dialer.runtime.clock import Clock
from dialer.service import DialerService
from dialer.settings import AsteriskServer, Settings
from pbxsim import PbxSim, PbxSimConfig, PopulationModel
from tests.support.waiting import wait_until

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SPEED = 30.0


def _sim(seed: int, agi_port: int, port: int = 0) -> PbxSim:
    return PbxSim(
        PbxSimConfig(
            port=port,
            seed=seed,
            time_scale=SPEED,
            population=PopulationModel("population"),
            default_agi=f"127.0.0.1:{agi_port}",
        )
    )


def _server(name: str, sim: PbxSim, agi_port: int) -> AsteriskServer:
    return AsteriskServer(
        name=name,
        ami_port=sim.ami_port,
        ami_user=sim.config.username,
        ami_secret=sim.config.secret,
        agi_bind_port=agi_port,
        default_trunk="demo-trunk",
    )


async def _dials_by_server(service: DialerService, campaign_id: int) -> dict[str, int]:
    """Originates sent, by server (a dial caught by the disconnect is never sent)."""
    await service.writer.flush(5)
    async with service.sessions() as s:
        rows = await s.execute(
            select(CallAttempt.asterisk_server, func.count())
            .where(
                CallAttempt.campaign_id == campaign_id,
                func.coalesce(CallAttempt.notes, "").not_like("originate not sent%"),
            )
            .group_by(CallAttempt.asterisk_server)
        )
        return dict(rows.all())


async def test_server_down_pauses_only_its_pool(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    await upgrade(url)
    agi_port = free_port()
    sim_a, sim_b = _sim(1, agi_port), _sim(2, agi_port)
    await sim_a.start()
    await sim_b.start()
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        asterisk_servers=[_server("pbx-a", sim_a, agi_port), _server("pbx-b", sim_b, agi_port)],
    )
    clock = Clock(scale=SPEED, start_wall=START)
    service = DialerService(settings, clock=clock, serve_http=False)
    options = DemoOptions(agents=10, leads=2_000, speed=SPEED, start_wall=START)
    campaign_id, agent_ids = await prepare_demo(service.sessions, options)
    async with service.sessions() as s, s.begin():
        (await s.get(Campaign, campaign_id)).asterisk_server = ""  # every server
        for agent in (await s.execute(select(Agent))).scalars():
            agent.asterisk_server = "pbx-a" if int(agent.extension) <= 1005 else "pbx-b"
    await service.start()
    for client in service.ami.values():
        async with asyncio.timeout(10):
            await client.wait_ready()
    agents = SimulatedAgents(service, agent_ids, random.Random(1))
    agents._spawn(agents.run())
    await asyncio.sleep(0)
    await agents.login_all()

    await asyncio.sleep(clock.real_seconds(90))
    first = await _dials_by_server(service, campaign_id)
    assert first.get("pbx-a", 0) > 0 and first.get("pbx-b", 0) > 0  # both pools dial

    port_b = sim_b.ami_port
    await sim_b.stop()  # server B goes away, calls and all
    await wait_until(lambda: not service.engine.pbx["pbx-b"].connected, within=5)
    down = await _dials_by_server(service, campaign_id)
    await asyncio.sleep(clock.real_seconds(90))
    during = await _dials_by_server(service, campaign_id)
    assert during["pbx-b"] == down["pbx-b"]  # B's pool paused
    assert during["pbx-a"] > down["pbx-a"]  # A's pool kept dialing

    sim_b = _sim(3, agi_port, port=port_b)  # B is back, empty
    await sim_b.start()
    await wait_until(lambda: service.engine.pbx["pbx-b"].connected, within=15)
    await wait_until(lambda: not [a for a in service.engine.calls if a.server == "pbx-b"], 5)
    b_agents = [a for a in service.engine.board if a.server == "pbx-b"]
    assert all(a.state is AgentState.OFFLINE for a in b_agents)  # their phones were lost

    async with service.sessions() as s, s.begin():
        (await s.get(Campaign, campaign_id)).status = "paused"
    await service.control.campaign_changed(campaign_id)
    await wait_until(lambda: len(service.engine.calls) == 0, within=clock.real_seconds(150))
    await agents.stop()
    await service.stop()
    await sim_a.stop()
    await sim_b.stop()
    books = await read_books(service.sessions, campaign_id)
    assert books.open_attempts == 0, books
