"""Inbound blending in the runtime core, against a fake PBX and a real database: callers to a
campaign's number go to ready agents ahead of outbound answers, queue with a limit, leave
reserved agents to callers, show up in the pacer's snapshot, and keep their own books."""

import asyncio

import pytest
from sqlalchemy import select

from dialer.db.models import Campaign, InboundCall, SuppressionEntry
from dialer.runtime.agent_state import AgentState
from dialer.runtime.attempt_state import AttemptState
from tests.runtime.fakes import answered, channel_event, login_agent

DID = "4001"


async def _blend(eng, sessions, cid, **inbound) -> None:
    async with sessions() as s, s.begin():
        camp = await s.get(Campaign, cid)
        camp.inbound = {"dids": [DID], **inbound}
    await eng.reload_campaign(cid)


async def _row(eng, sessions, call_id) -> InboundCall:
    assert await eng.writer.flush(5)
    async with sessions() as s:
        return await s.get(InboundCall, call_id)


async def _until(predicate, within=5.0):
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - other tasks change the state
            await asyncio.sleep(0.005)


async def test_a_caller_goes_to_a_ready_agent_and_keeps_its_own_books(world) -> None:
    eng, pbx, sessions, cid = world
    await _blend(eng, sessions, cid)
    agent = await login_agent(eng, pbx, 1)
    action, who = await eng.route_inbound(DID, "13800138000", "1700.1", "PJSIP/trunk-1")
    assert action == "bridge" and who is agent and agent.state is AgentState.TALKING
    eng.handle_event("pbx1", channel_event("ConfbridgeJoin", "1700.1", Conference="agent-1001"))
    eng.handle_event("pbx1", channel_event("ConfbridgeLeave", "1700.1", Conference="agent-1001"))
    assert agent.state is AgentState.WRAPUP
    eng.dispose(agent, "SALE", notes="called back about the offer")
    assert agent.state is AgentState.READY
    assert agent.calls_today == 0  # the daily cap counts the calls the dialer places
    row = await _row(eng, sessions, "1700.1")
    assert (row.outcome, row.disposition, row.did) == ("answered", "SALE", DID)
    assert row.caller_number == "+8613800138000" and row.agent_id == agent.agent_id
    assert row.wait_seconds < 1 and row.connect_at and row.end_at
    assert row.notes == "called back about the offer"
    stats = eng.campaign_stats(cid)
    assert stats["inbound"]["answered"] == 1 and stats["inbound"]["service_level"] == 1.0
    assert stats["completed"] == 0 and stats["dials"] == 0  # outbound books untouched


async def test_a_freed_agent_takes_the_queued_caller_before_an_outbound_answer(world) -> None:
    eng, pbx, sessions, cid = world
    await _blend(eng, sessions, cid, max_wait_s=60)
    eng.connect_window_s = 20.0  # long enough for both to be queued when the agent frees
    agent = await login_agent(eng, pbx, 1)
    await eng.tick(cid)
    first = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(first))
    assert (await eng.route_answered(first, "HUMAN"))[0] == "bridge"
    # a second outbound answer, then a caller, both waiting for the only agent
    lead = (await eng._take_leads(eng.campaigns[cid], 1))[0]
    assert await eng._dial(eng.campaigns[cid], "pbx1", lead)
    second = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(second))
    outbound = asyncio.create_task(eng.route_answered(second, "HUMAN"))
    await _until(lambda: eng.calls.get(second).state is AttemptState.ROUTING)
    caller = asyncio.create_task(eng.route_inbound(DID, "13900139000", "1700.2", "PJSIP/t-2"))
    await _until(lambda: eng.snapshot(cid, "pbx1").waiting_for_agent == 2)
    eng.handle_event("pbx1", channel_event("ConfbridgeLeave", first, Conference="agent-1001"))
    eng.dispose(agent, "SALE")
    action, who = await caller
    assert action == "bridge" and who is agent  # the caller came later but goes first
    assert not outbound.done()
    eng.connect_window_s = 0.0
    eng.handle_event("pbx1", channel_event("Hangup", second, Cause="16"))
    assert (await outbound)[0] == "hangup"


async def test_reserved_agents_are_kept_from_the_pacer_not_from_an_answer(world) -> None:
    eng, pbx, sessions, cid = world
    await _blend(eng, sessions, cid, reserved_agents=1)
    await login_agent(eng, pbx, 1)
    snap = eng.snapshot(cid, "pbx1")
    assert (snap.agents_logged_in, snap.agents_ready) == (0, 0)  # the one agent is held back
    assert await eng.tick(cid) == 0
    await login_agent(eng, pbx, 2)
    snap = eng.snapshot(cid, "pbx1")
    assert (snap.agents_logged_in, snap.agents_ready) == (1, 1)
    assert await eng.tick(cid) == 1  # progressive: one call for the one agent not held back
    att = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(att))
    action, who = await eng.route_answered(att, "HUMAN")
    assert action == "bridge" and who is not None
    snap = eng.snapshot(cid, "pbx1")
    assert (snap.agents_logged_in, snap.agents_ready) == (1, 0)  # the ready one is held back
    assert await eng.tick(cid) == 0
    # a live answer that comes anyway takes the held agent rather than be abandoned
    lead = (await eng._take_leads(eng.campaigns[cid], 1))[0]
    assert await eng._dial(eng.campaigns[cid], "pbx1", lead)
    other = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(other))
    action, held = await eng.route_answered(other, "HUMAN")
    assert action == "bridge" and held is not who


async def test_overflow_after_the_longest_wait_and_a_caller_who_hangs_up(world) -> None:
    eng, pbx, sessions, cid = world
    await _blend(eng, sessions, cid, max_wait_s=5, overflow_message="acme-overflow")
    agent = await login_agent(eng, pbx, 1)
    eng.agent_pause(agent, "lunch")  # logged in, not available
    action, message = await eng.route_inbound(DID, "13800138001", "1700.4", "PJSIP/t-4")
    assert (action, message) == ("message", "acme-overflow")
    caller = asyncio.create_task(eng.route_inbound(DID, "13800138002", "1700.5", "PJSIP/t-5"))
    await _until(lambda: eng.snapshot(cid, "pbx1").waiting_for_agent == 1)
    eng.handle_event("pbx1", channel_event("Hangup", "1700.5", Cause="16"))
    assert (await caller)[0] == "hangup"
    assert eng.snapshot(cid, "pbx1").waiting_for_agent == 0
    overflow = await _row(eng, sessions, "1700.4")
    gone = await _row(eng, sessions, "1700.5")
    assert overflow.outcome == "overflow" and overflow.wait_seconds >= 5
    assert gone.outcome == "abandoned" and gone.wait_seconds < 5
    st = eng.campaign_stats(cid)["inbound"]
    assert (st["offered"], st["overflow"], st["abandoned"], st["answered"]) == (2, 1, 1, 0)
    assert st["service_level"] == 0.0  # the overflow counts, the short abandon does not
    assert eng.campaign_stats(cid)["abandons"] == 0  # the outbound legal ratio is apart


async def test_closed_and_unknown_numbers(world) -> None:
    eng, _, sessions, cid = world
    await _blend(eng, sessions, cid, closed_message="acme-closed")
    assert await eng.route_inbound("4999", "13800138003", "1700.6", "PJSIP/t-6") == (
        "hangup",
        None,
    )
    assert await eng.route_inbound(DID, "13800138003", "1700.7", "PJSIP/t-7") == (
        "closed",
        "acme-closed",
    )
    row = await _row(eng, sessions, "1700.7")
    assert row.outcome == "closed" and row.end_at is not None
    assert await _row(eng, sessions, "1700.6") is None


async def test_a_caller_who_refuses_is_never_dialled(world) -> None:
    eng, pbx, sessions, cid = world
    await _blend(eng, sessions, cid)
    async with sessions() as s, s.begin():
        from dialer.db.models import Disposition

        s.add(Disposition(code="REFUSED", label="Refused", refusal=True, final=True))
    await eng.load()
    agent = await login_agent(eng, pbx, 1)
    assert (await eng.route_inbound(DID, "+8613800138004", "1700.8", "PJSIP/t-8"))[0] == "bridge"
    eng.handle_event("pbx1", channel_event("Hangup", "1700.8", Cause="16"))
    eng.dispose(agent, "REFUSED", notes="do not call me")
    assert await eng.writer.flush(5)
    async with sessions() as s:
        entries = (await s.execute(select(SuppressionEntry))).scalars().all()
    assert [e.phone_e164 for e in entries] == ["+8613800138004"]


@pytest.mark.parametrize("dids", [["4001", "4001"], ["not-a-number"]])
def test_inbound_settings_are_checked(dids) -> None:
    from pydantic import ValidationError

    from api.campaigns import InboundSettingsIn

    with pytest.raises(ValidationError):
        InboundSettingsIn(dids=dids)
    assert InboundSettingsIn(dids=["+86 21 6000-1234"]).dids == ["+862160001234"]


def test_the_automatic_reserve_follows_the_arrival_rate() -> None:
    from dialer.runtime.inbound import ArrivalRate, auto_reserve

    rate = ArrivalRate()
    assert rate.per_second(100.0) == 0.0 and auto_reserve(0.0) == 0
    for t in range(0, 900, 40):  # one caller every 40 s: 90 an hour
        rate.arrived(float(t))
    assert rate.per_second(900.0) == pytest.approx(23 / 900)
    assert auto_reserve(rate.per_second(900.0)) == 1  # 0.5 expected within a ring time
    assert auto_reserve(0.2) == 4  # 720 an hour: 4 within 20 s
    assert rate.per_second(3000.0) == 0.0  # nobody called for 15 minutes


async def test_callers_make_outbound_leave_agents_free_by_themselves(world) -> None:
    eng, pbx, sessions, cid = world
    await _blend(eng, sessions, cid)  # reserved_agents not set: automatic
    await login_agent(eng, pbx, 1)
    await login_agent(eng, pbx, 2)
    assert eng.snapshot(cid, "pbx1").agents_ready == 2  # no caller yet: nothing held back
    first = eng.board.get("1001")
    assert (await eng.route_inbound(DID, "13800138009", "1700.9", "PJSIP/t-9"))[1] is first
    snap = eng.snapshot(cid, "pbx1")
    # one ready agent kept for callers, the other on a caller: nothing for outbound
    assert (snap.agents_ready, snap.agents_logged_in, len(snap.talking_elapsed)) == (0, 0, 0)
    assert eng.campaign_stats(cid)["inbound"]["reserved_now"] == 1
    assert await eng.tick(cid) == 0
