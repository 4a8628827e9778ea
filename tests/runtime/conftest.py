"""The runtime core's test world: an engine on a fake PBX and a real database (both kinds),
one progressive campaign with two agents and six callable leads."""

import asyncio
from datetime import UTC, datetime

import pytest

from dialer.db.engine import create_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.db.models import Agent, Campaign, Lead
from dialer.runtime.clock import Clock
from dialer.runtime.engine import DialerEngine
from dialer.runtime.gate import ComplianceGate
from dialer.runtime.store_writer import StoreWriter
from dialer.settings import AsteriskServer, Settings
from tests.runtime.fakes import FakePbx

# Monday 2 March 2026, 10:00 in Shanghai: inside the Chinese default calling window.
MONDAY_10AM_CN = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
async def world(db_url):
    await upgrade(db_url)
    engine = create_engine(db_url)
    sessions = make_session_factory(engine)
    async with sessions() as s, s.begin():
        camp = Campaign(
            name="c1",
            status="active",
            dial_mode="progressive",
            safe_harbor_message="safe-harbor",
            compliance_profile=["CN"],
        )
        s.add(camp)
        await s.flush()
        agents = [Agent(extension=f"100{i}", name=f"a{i}", asterisk_server="pbx1") for i in (1, 2)]
        for a in agents:
            a.campaigns.append(camp)
            s.add(a)
        for i in range(6):
            s.add(
                Lead(
                    campaign_id=camp.id,
                    phone_e164=f"+861380013800{i}",
                    timezones=["Asia/Shanghai"],
                    region="CN",
                )
            )
    settings = Settings(
        asterisk_servers=[
            AsteriskServer(name="pbx1", trunk_dial_template="Local/{number}@sim-pstn")
        ]
    )
    writer = StoreWriter(sessions)
    writer_task = asyncio.create_task(writer.run())
    pbx = FakePbx()
    clock = Clock(scale=20.0, start_wall=MONDAY_10AM_CN)  # a 2 s connect window takes 0.1 s
    gate = ComplianceGate(sessions, writer=writer)
    eng = DialerEngine(settings, sessions, pbx={"pbx1": pbx}, writer=writer, gate=gate, clock=clock)
    await eng.load()
    yield eng, pbx, sessions, camp.id
    await writer.flush(5)  # a write cancelled halfway would hold its connection
    writer_task.cancel()
    await asyncio.gather(writer_task, return_exceptions=True)
    await engine.dispose()
