"""Two `dialer run` processes on one PostgreSQL: only the lease holder dials a campaign;
when it dies, the other takes the campaign over by itself and the books still balance."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest

from dialer.db.migrate import upgrade
from dialer.demo import DemoOptions, SimulatedAgents, free_port, start_demo, stop_demo
from dialer.service import DialerService
from dialer.settings import Settings
from tests.e2e.test_recovery import _check_books, _crash
from tests.support.waiting import wait_until

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SPEED = 30.0


@pytest.mark.postgres
async def test_second_process_takes_over_a_dead_owners_campaign(pg_database, tmp_path):
    await upgrade(pg_database)
    options = DemoOptions(
        speed=SPEED, agents=6, leads=1_000, live_view=False, serve_http=False, start_wall=START
    )
    world = await start_demo(Settings(database_url=pg_database, data_dir=tmp_path), options)
    first = world.service
    cid = world.campaign_id
    assert first.leases.owned == {cid}

    # the second process has its own FastAGI port; both talk to the same PBX
    servers = [
        s.model_copy(update={"agi_bind_port": free_port()}) for s in first.settings.asterisk_servers
    ]
    settings = first.settings.model_copy(update={"asterisk_servers": servers})
    second = DialerService(settings, clock=first.clock, serve_http=False)
    second.lease_interval_s = 0.2
    await second.start()
    await asyncio.sleep(first.clock.real_seconds(60))
    assert second.leases.owned == set()  # the lease is held: it waits
    assert second.engine.campaign_stats(cid)["dials"] == 0

    await world.agents.stop()
    _crash(first)
    await first.leases.close()  # the dead process's connection closes: its locks go
    await wait_until(lambda: second.leases.owned == {cid}, within=10)
    agents = SimulatedAgents(second, world.agent_ids, random.Random(5))
    agents._spawn(agents.run())
    await asyncio.sleep(0)
    await agents.login_all()
    await asyncio.sleep(first.clock.real_seconds(90))
    assert second.engine.campaign_stats(cid)["dials"] > 0  # took over and dials
    world.service, world.agents = second, agents
    await stop_demo(world)
    await first.db_engine.dispose()
    await _check_books(second.sessions, cid)
