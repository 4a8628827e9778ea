"""The runtime core against a fake PBX and a real database: the books must balance."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from dialer.db.models import AgentDailyCounter, CallAttempt, Campaign, Lead, SuppressionEntry
from dialer.runtime.agent_state import AgentState
from dialer.runtime.attempt_state import AttemptState
from dialer.runtime.clock import Clock
from dialer.runtime.engine import DialerEngine
from dialer.runtime.pbx import LiveChannel
from tests.runtime.conftest import MONDAY_10AM_CN
from tests.runtime.fakes import answered, channel_event, event, login_agent


async def test_answered_call_reaches_agent_and_closes_with_disposition(world):
    eng, pbx, sessions, cid = world
    agent = await login_agent(eng, pbx, 1)
    assert await eng.tick(cid) == 1  # progressive: one call for one ready agent
    call = pbx.originates[-1]
    att = call["attempt_id"]
    assert call["channel"].startswith("Local/86138001380") and call["context"] == "dialer-outbound"
    assert call["variables"]["DIALER_ATTEMPT_ID"] == att
    assert await eng.tick(cid) == 0  # the agent is covered by the call in flight
    eng.handle_event(
        "pbx1",
        event(
            "OriginateResponse",
            ActionID=att,
            Response="Success",
            Reason="4",
            Channel="Local/x;1",
            Uniqueid=att,
        ),
    )
    action, who = await eng.route_answered(att, None)
    assert action == "bridge" and who is agent and agent.state is AgentState.TALKING
    eng.handle_event("pbx1", channel_event("ConfbridgeJoin", att, Conference="agent-1001"))
    eng.handle_event("pbx1", channel_event("ConfbridgeLeave", att, Conference="agent-1001"))
    assert agent.state is AgentState.WRAPUP
    eng.dispose(agent, "SALE", notes="bought")
    assert agent.state is AgentState.READY
    assert await eng.writer.flush(5)
    async with sessions() as s:
        row = await s.get(CallAttempt, att)
        lead = await s.get(Lead, row.lead_id)
        counter = (await s.execute(select(AgentDailyCounter))).scalar_one()
    assert row.terminal_state == "completed" and row.disposition == "SALE"
    assert row.agent_id == 1 and row.connect_at and row.answer_at and row.notes == "bought"
    assert lead.status == "done" and lead.attempt_count == 1
    assert counter.connects == 1
    assert eng.campaign_stats(cid)["completed"] == 1


async def test_no_free_agent_means_safe_harbor_and_an_abandon(world):
    eng, pbx, sessions, cid = world
    agent = await login_agent(eng, pbx, 1)
    await eng.tick(cid)
    first = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(first))
    assert (await eng.route_answered(first, "HUMAN"))[0] == "bridge"
    # a second live call while the only agent talks: nobody frees within the window
    eng.hopper_batch = 5
    lead = (await eng._take_leads(eng.campaigns[cid], 1))[0]
    assert await eng._dial(eng.campaigns[cid], "pbx1", lead)
    second = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(second))
    action, message = await eng.route_answered(second, "NOTSURE")  # NOTSURE is a person
    assert (action, message) == ("safeharbor", "safe-harbor")
    assert agent.state is AgentState.TALKING
    stats = eng.campaign_stats(cid)
    assert stats["abandons"] == 1 and stats["answered"] == 2
    await eng.writer.flush(5)
    async with sessions() as s:
        row = await s.get(CallAttempt, second)
    assert row.terminal_state == "abandoned" and row.abandoned


async def test_agent_freed_inside_the_window_takes_the_waiting_call(world):
    eng, pbx, _, cid = world
    agent = await login_agent(eng, pbx, 1)
    await eng.tick(cid)
    first = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(first))
    await eng.route_answered(first, None)
    eng.handle_event("pbx1", channel_event("ConfbridgeLeave", first, Conference="agent-1001"))
    lead = (await eng._take_leads(eng.campaigns[cid], 1))[0]
    await eng._dial(eng.campaigns[cid], "pbx1", lead)
    second = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(second))
    waiting = asyncio.create_task(eng.route_answered(second, None))
    await asyncio.sleep(0.02)
    assert eng.snapshot(cid, "pbx1").waiting_for_agent == 1
    eng.dispose(agent, "NOT_NOW")  # the agent finishes wrap-up: handed straight to the caller
    action, who = await waiting
    assert action == "bridge" and who is agent and agent.attempt_id == second


async def test_busy_and_machine_and_customer_hangup_each_end_once(world):
    eng, pbx, sessions, cid = world
    await login_agent(eng, pbx, 1)
    await login_agent(eng, pbx, 2)
    assert await eng.tick(cid) == 2
    a, b = (o["attempt_id"] for o in pbx.originates[-2:])
    eng.handle_event("pbx1", event("OriginateResponse", ActionID=a, Reason="5", Response="Failure"))
    eng.handle_event("pbx1", event("OriginateResponse", ActionID=a, Reason="5", Response="Failure"))
    eng.handle_event("pbx1", answered(b))
    eng.campaigns[cid].config.machine_action = "hangup"
    assert await eng.route_answered(b, "MACHINE") == ("hangup", None)
    eng.handle_event("pbx1", channel_event("Hangup", b, Cause="16"))
    await eng.writer.flush(5)
    async with sessions() as s:
        ra, rb = await s.get(CallAttempt, a), await s.get(CallAttempt, b)
        la = await s.get(Lead, ra.lead_id)
    assert ra.terminal_state == "busy" and ra.disposition == "BUSY"
    assert la.status == "retry" and la.next_call_at is not None
    assert rb.terminal_state == "machine" and rb.outcome == "machine"
    stats = eng.campaign_stats(cid)
    assert stats["busy"] == 1 and stats["machines"] == 1 and stats["dials"] == 2


async def test_refusal_suppresses_the_number_everywhere(world):
    eng, pbx, sessions, cid = world
    agent = await login_agent(eng, pbx, 1)
    await eng.tick(cid)
    att = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(att))
    await eng.route_answered(att, None)
    eng.dispose(agent, "REFUSED")
    await eng.writer.flush(5)
    async with sessions() as s:
        row = await s.get(CallAttempt, att)
        lead = await s.get(Lead, row.lead_id)
        entry = (await s.execute(select(SuppressionEntry))).scalar_one()
    assert lead.status == "dnc" and entry.scope == "company" and entry.phone_e164 == lead.phone_e164
    decision = await eng.gate.check(lead.phone_e164, cid, eng.clock.now())
    assert not decision.allowed


async def test_lost_link_reconciliation_ends_vanished_calls_without_redial(world):
    eng, pbx, sessions, cid = world
    await login_agent(eng, pbx, 1)
    await login_agent(eng, pbx, 2)
    await eng.tick(cid)
    a, b = (o["attempt_id"] for o in pbx.originates[-2:])
    eng.handle_event("pbx1", answered(b))
    legs = [o["attempt_id"] for o in pbx.originates if o["context"] == "dialer-agent"]
    pbx.channels = [LiveChannel(a, a, "Local/x;1", "dialer-outbound", "s", "Ring")] + [
        LiveChannel(leg, leg, "PJSIP/100x", "dialer-agent", "100x", "Up") for leg in legs
    ]
    n_before = len(pbx.originates)
    counts = await eng.reconcile("pbx1")
    assert counts == {"kept": 1, "ended": 1, "agents_gone": 0}
    assert len(pbx.originates) == n_before  # nothing re-sent
    assert eng.calls.get(a).state is AttemptState.RINGING and eng.calls.get(b) is None
    await eng.writer.flush(5)
    async with sessions() as s:
        assert (await s.get(CallAttempt, b)).terminal_state == "dropped"


async def test_pool_pauses_when_pbx_down_and_outside_window(world):
    eng, pbx, sessions, cid = world
    await login_agent(eng, pbx, 1)
    pbx.connected = False
    assert await eng.tick(cid) == 0
    pbx.connected = True
    eng.clock._wall0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    assert await eng.tick(cid) == 0
    assert eng.campaign_stats(cid)["blocked"] >= 1
    await eng.writer.flush(5)
    async with sessions() as s:
        leads = (
            (await s.execute(select(Lead).where(Lead.next_call_at.is_not(None)))).scalars().all()
        )
    assert leads and all(lead.status == "new" for lead in leads)
    # next morning 09:00 Shanghai
    assert all(lead.next_call_at.astimezone(UTC).hour == 1 for lead in leads)


async def _set_recording(eng, sessions, cid, mode):
    async with sessions() as s, s.begin():
        (await s.get(Campaign, cid)).recording_mode = mode
    await eng.reload_campaign(cid)


async def test_recording_all_puts_the_file_on_the_decision_and_the_attempt(world):
    from agi.router import AnsweredCall
    from dialer.runtime.agi_router import EngineRouter

    eng, pbx, sessions, cid = world
    await _set_recording(eng, sessions, cid, "all")
    await login_agent(eng, pbx, 1)
    await eng.tick(cid)
    att = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(att))
    call = AnsweredCall(att, str(cid), "Local/x;1", att, None, None, 0.0)
    decision = await EngineRouter(eng).route_answered(call)
    assert decision.record_file == f"dialer/{cid}/20260302/{att}.wav"
    assert await eng.writer.flush(5)
    async with sessions() as s:
        assert (await s.get(CallAttempt, att)).recording_path == decision.record_file


async def test_recording_on_demand_only_where_the_campaign_allows_it(world):
    eng, pbx, sessions, cid = world
    agent = await login_agent(eng, pbx, 1)
    await eng.tick(cid)
    att = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(att))
    assert (await eng.route_answered(att, None))[0] == "bridge"
    with pytest.raises(PermissionError):
        await eng.start_recording(agent)  # the campaign never records
    await _set_recording(eng, sessions, cid, "on_demand")
    path = await eng.start_recording(agent)
    assert pbx.recordings == [(att, path)]
    assert await eng.start_recording(agent) == path  # once per call
    assert len(pbx.recordings) == 1


async def test_agent_only_callback_goes_to_its_agent_and_shared_ones_to_anyone(world):
    from datetime import timedelta

    from dialer.db.models import Callback

    eng, pbx, sessions, cid = world
    one = await login_agent(eng, pbx, 1)
    await eng.tick(cid)
    att = pbx.originates[-1]["attempt_id"]
    lead_number = pbx.originates[-1]["channel"]
    eng.handle_event("pbx1", answered(att))
    await eng.route_answered(att, None)
    eng.handle_event("pbx1", channel_event("ConfbridgeLeave", att, Conference="agent-1001"))
    due = MONDAY_10AM_CN + timedelta(hours=1)
    eng.dispose(one, "CALLBACK", callback_at=due, callback_agent_only=True, pause_after="lunch")
    assert await eng.writer.flush(5)
    two = await login_agent(eng, pbx, 2)
    eng.clock = Clock(scale=20.0, start_wall=due + timedelta(minutes=5))
    eng._callback_polled.clear()
    eng.campaigns[cid].hopper.clear()
    async with sessions() as s, s.begin():  # only the callback lead is left to call
        for lead in (await s.execute(select(Lead))).scalars():
            if lead.status != "callback":
                lead.status = "done"
    await eng.tick(cid)
    assert all(o["channel"] != lead_number for o in pbx.originates[-1:])  # not for agent two
    assert two.state is AgentState.READY
    eng.agent_ready(one)
    eng._callback_polled.clear()
    assert await eng.tick(cid) == 1
    call = pbx.originates[-1]
    assert call["channel"] == lead_number
    assert one.state is AgentState.TALKING and one.attempt_id == call["attempt_id"]
    assert await eng.writer.flush(5)
    async with sessions() as s:
        (cb,) = (await s.execute(select(Callback))).scalars().all()
    assert cb.agent_id == 1 and cb.status == "done"


async def test_daily_cap_counts_calls_made_before_a_restart(world):
    eng, pbx, sessions, cid = world
    async with sessions() as s, s.begin():
        (await s.get(Campaign, cid)).pacing = {"agent_daily_cap": 1}
    await eng.load()
    agent = await login_agent(eng, pbx, 1)
    assert agent.daily_cap == 1
    await eng.tick(cid)
    att = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(att))
    await eng.route_answered(att, None)
    eng.dispose(agent, "NOT_NOW")
    assert agent.calls_today == 1 and agent.at_daily_cap
    assert await eng.tick(cid) == 0  # capped: not counted as available
    assert await eng.writer.flush(5)
    restarted = DialerEngine(
        eng.settings, sessions, pbx={"pbx1": pbx}, writer=eng.writer, gate=eng.gate, clock=eng.clock
    )
    await restarted.load()
    again = await login_agent(restarted, pbx, 1)
    assert again.calls_today == 1 and again.at_daily_cap


async def test_a_lead_retried_its_daily_number_of_times_waits_for_tomorrow(world):
    eng, pbx, sessions, cid = world
    async with sessions() as s, s.begin():
        (await s.get(Campaign, cid)).retry_rules = {
            "max_attempts_per_day": 1,
            "busy": {"delay_minutes": 5, "max_attempts": 9},
        }
    await eng.reload_campaign(cid)
    await login_agent(eng, pbx, 1)
    await eng.tick(cid)
    att = pbx.originates[-1]["attempt_id"]
    eng.handle_event(
        "pbx1", event("OriginateResponse", ActionID=att, Reason="5", Response="Failure")
    )
    assert await eng.writer.flush(5)
    async with sessions() as s:
        lead = await s.get(Lead, (await s.get(CallAttempt, att)).lead_id)
    # busy would come back in 5 minutes, but one attempt a day is the campaign's limit:
    # next Shanghai midnight is 16:00 UTC
    assert lead.status == "retry"
    assert lead.next_call_at.replace(tzinfo=UTC) == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


async def test_desk_phone_agent_dispositions_by_dtmf_after_the_call(world):
    from dialer.runtime.agi_router import EngineRouter

    eng, pbx, sessions, cid = world
    agent = await eng.agent_login(1, via_phone=True)  # dialled *55 and typed the PIN
    eng.handle_event(
        "pbx1", channel_event("ConfbridgeJoin", "phone-leg-1", Conference="agent-1001")
    )
    assert agent.state is AgentState.READY and agent.leg_uniqueid == "phone-leg-1"
    await eng.tick(cid)
    att = pbx.originates[-1]["attempt_id"]
    eng.handle_event("pbx1", answered(att))
    await eng.route_answered(att, None)
    eng.handle_event("pbx1", channel_event("ConfbridgeLeave", att, Conference="agent-1001"))
    await asyncio.sleep(0)
    assert pbx.redirects == [("phone-leg-1", "dialer-wrapup", "1001")]
    router = EngineRouter(eng)
    prompt = await router.wrapup_prompt("1001")
    assert "1" in prompt.valid_codes
    assert await router.submit_dtmf_disposition("1001", "1")  # 1 = SALE
    assert agent.state is AgentState.READY
    assert await eng.writer.flush(5)
    async with sessions() as s:
        assert (await s.get(CallAttempt, att)).disposition == "SALE"


async def test_every_caller_id_at_its_cap_stops_dialing_until_one_is_free(world):
    eng, pbx, sessions, cid = world
    async with sessions() as s, s.begin():
        camp = await s.get(Campaign, cid)
        camp.caller_id_pool = ["+862150000001", "+862150000002"]
    await eng.reload_campaign(cid)
    run = eng.campaigns[cid]
    run.caller_id_caps = {"+862150000001": 1, "+862150000002": 1}
    await login_agent(eng, pbx, 1)
    await login_agent(eng, pbx, 2)
    assert await eng.tick(cid) == 2  # progressive: one call per ready agent, one per number
    dialled = [o for o in pbx.originates if o["context"] == "dialer-outbound"]
    assert (
        sorted(o["caller_id"] for o in dialled) == ['"" <+862150000001>', '"" <+862150000002>']
        or len(dialled) == 2
    )
    for o in dialled:
        eng.handle_event("pbx1", event("OriginateResponse", ActionID=o["attempt_id"], Reason="3"))
    assert run.caller_ids_exhausted
    assert await eng.tick(cid) == 0  # agents ready, leads waiting, but no number left
    assert eng.campaign_stats(cid)["caller_ids_exhausted"] is True
    assert len([o for o in pbx.originates if o["context"] == "dialer-outbound"]) == 2
    run.caller_id_caps["+862150000002"] = 5  # a supervisor raises one cap
    assert await eng.tick(cid) == 2
    assert eng.campaign_stats(cid)["caller_ids_exhausted"] is False
    assert run.caller_id_used["+862150000002"] == 3
