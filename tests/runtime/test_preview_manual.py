"""Preview (the agent sees the lead, then dials or skips) and manual dialing (the agent types
a number): the call is the agent's alone, and compliance still decides."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from dialer.db.engine import create_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.db.models import Agent, CallAttempt, Campaign, Lead, SuppressionEntry
from dialer.runtime.agent_state import AgentState
from dialer.runtime.clock import Clock
from dialer.runtime.engine import DialerEngine
from dialer.runtime.gate import ComplianceGate
from dialer.runtime.store_writer import StoreWriter
from dialer.settings import AsteriskServer, Settings
from tests.runtime.fakes import FakePbx, channel_event, event

MONDAY_10AM_CN = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SATURDAY_10AM_CN = datetime(2026, 3, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
async def world(db_url):
    await upgrade(db_url)
    engine = create_engine(db_url)
    sessions = make_session_factory(engine)
    async with sessions() as s, s.begin():
        preview = Campaign(name="preview", status="active", dial_mode="preview")
        manual = Campaign(name="manual", status="active", dial_mode="manual")
        s.add_all([preview, manual])
        await s.flush()
        agent = Agent(extension="1001", name="a1", asterisk_server="pbx1")
        agent.campaigns.extend([preview, manual])
        s.add(agent)
        for i in range(3):
            s.add(
                Lead(
                    campaign_id=preview.id,
                    phone_e164=f"+861380013800{i}",
                    name=f"lead {i}",
                    timezones=["Asia/Shanghai"],
                    region="CN",
                    priority=3 - i,
                )
            )
        s.add(
            SuppressionEntry(
                scope="company",
                phone_e164="+8613900139000",
                number_hash=ComplianceGate.number_hash("+8613900139000"),
                reason="refused",
                source="test",
            )
        )
    settings = Settings(
        asterisk_servers=[AsteriskServer(name="pbx1", trunk_dial_template="Local/{number}@t")]
    )
    writer = StoreWriter(sessions)
    task = asyncio.create_task(writer.run())
    pbx = FakePbx()
    clock = Clock(scale=20.0, start_wall=MONDAY_10AM_CN)
    gate = ComplianceGate(sessions, writer=writer)
    eng = DialerEngine(settings, sessions, pbx={"pbx1": pbx}, writer=writer, gate=gate, clock=clock)
    await eng.load()
    agent = await eng.agent_login(1)
    leg = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", channel_event("ConfbridgeJoin", leg, Conference="agent-1001"))
    assert agent.state is AgentState.READY
    yield eng, pbx, sessions, preview.id, manual.id, agent
    await writer.flush(5)  # a write cancelled halfway would hold its connection
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await engine.dispose()


def _answer(eng, attempt_id: str) -> None:
    eng.handle_event(
        "pbx1", event("OriginateResponse", ActionID=attempt_id, Reason="4", Response="Success")
    )


async def test_preview_holds_a_lead_then_the_agent_dials_and_talks(world):
    eng, pbx, sessions, preview_id, _, agent = world
    assert await eng.tick(preview_id) == 0  # a preview campaign never dials by itself
    lead = await eng.preview_next(agent)
    assert lead is not None and lead.phone_e164 == "+8613800138000"  # highest priority first
    assert agent.state is AgentState.PAUSED and agent.pause_reason == "preview"
    assert await eng.preview_next(agent) == lead  # asking again shows the same lead
    attempt = await eng.preview_dial(agent)
    assert agent.state is AgentState.TALKING and agent.attempt_id == attempt.id
    assert pbx.originates[-1]["attempt_id"] == attempt.id
    _answer(eng, attempt.id)
    action, who = await eng.route_answered(attempt.id, None)
    assert (action, who) == ("bridge", agent)  # straight to the agent who dialled
    eng.handle_event("pbx1", channel_event("ConfbridgeLeave", attempt.id, Conference="agent-1001"))
    eng.dispose(agent, "SALE", notes="previewed")
    assert await eng.writer.flush(5)
    async with sessions() as s:
        row = await s.get(CallAttempt, attempt.id)
    assert row.terminal_state == "completed" and row.agent_id == agent.agent_id


async def test_preview_skip_returns_the_lead_and_unanswered_call_frees_the_agent(world):
    eng, _, sessions, _, _, agent = world
    first = await eng.preview_next(agent)
    eng.preview_skip(agent)
    assert agent.state is AgentState.READY
    second = await eng.preview_next(agent)
    assert second.id != first.id  # the skipped lead rests for an hour
    attempt = await eng.preview_dial(agent)
    eng.handle_event(
        "pbx1", event("OriginateResponse", ActionID=attempt.id, Reason="3", Response="Failure")
    )
    assert agent.state is AgentState.READY  # no answer: the agent is free again
    assert await eng.writer.flush(5)
    async with sessions() as s:
        skipped = await s.get(Lead, first.id)
        row = await s.get(CallAttempt, attempt.id)
    assert skipped.status == "new" and skipped.next_call_at is not None
    assert row.terminal_state == "no_answer"


async def test_manual_dial_makes_a_lead_and_compliance_still_applies(world):
    eng, pbx, sessions, _, manual_id, agent = world
    attempt = await eng.manual_dial(agent, "138 0013 9999")
    assert attempt.number == "+8613800139999" and attempt.campaign_id == manual_id
    assert agent.state is AgentState.TALKING
    with pytest.raises(LookupError):
        await eng.manual_dial(agent, "13800139998")  # busy with the first call
    eng.handle_event(
        "pbx1", event("OriginateResponse", ActionID=attempt.id, Reason="5", Response="Failure")
    )
    assert agent.state is AgentState.READY
    dialled = len(pbx.originates)
    with pytest.raises(PermissionError, match=r"suppression|dnc|refus"):
        await eng.manual_dial(agent, "13900139000")  # on the company do-not-call list
    with pytest.raises(ValueError):
        await eng.manual_dial(agent, "12345")
    eng.clock = Clock(scale=20.0, start_wall=SATURDAY_10AM_CN)
    with pytest.raises(PermissionError):
        await eng.manual_dial(agent, "13800139997")  # a weekend: outside the calling window
    assert len(pbx.originates) == dialled  # none of the refused numbers was dialled
    assert agent.state is AgentState.READY
    assert await eng.writer.flush(5)
    async with sessions() as s:
        made = (await s.execute(select(Lead).where(Lead.campaign_id == manual_id))).scalars().all()
    assert {lead.phone_e164 for lead in made} >= {"+8613800139999"}
    assert all(lead.status != "in_hopper" for lead in made)
