"""The dialer runtime's core: agents, live calls, pacing pools and AGI routing in one place,
driven by AMI events, AGI requests, control-plane calls and the pacing tick.

Everything here runs on one event loop and mutates in-memory state synchronously, so the
hot paths (an AMI event, an answered call looking for an agent) never wait on the
database: durable changes are queued on the `StoreWriter`. The only awaited database work
is the hopper claim and the attempt insert, both before a dial.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ami.actions import format_caller_id
from ami.events import (
    AmiEvent,
    ConfbridgeJoin,
    ConfbridgeLeave,
    Hangup,
    OriginateResponse,
    VarSet,
)
from compliance import AgentCounters
from dialer.db.enums import CampaignStatus, DialMode, LeadStatus, RecordingMode
from dialer.db.models import Agent, Campaign, Disposition
from dialer.leads.phone import InvalidNumber, normalise_number
from dialer.runtime import store
from dialer.runtime.agent_state import AgentBoard, AgentSession, AgentState
from dialer.runtime.attempt_state import (
    HANGUP_CAUSE_STATE,
    TERMINAL,
    AttemptState,
    can_move,
    state_for_originate_reason,
)
from dialer.runtime.bus import EventBus
from dialer.runtime.campaigns import CampaignConfig, CampaignRun
from dialer.runtime.clock import Clock
from dialer.runtime.inbound import INBOUND_OUTCOME, normalise_did
from dialer.runtime.live import LiveAttempt, LiveCalls
from dialer.runtime.metrics import RuntimeMetrics
from dialer.runtime.pbx import PbxNotConnected, PbxOutcomeUnknown, PbxPort, PbxRefused
from dialer.runtime.retry import DispositionFlags, next_for_lead
from dialer.runtime.store_writer import StoreWriter
from dialer.settings import Settings
from pacing import Snapshot

log = logging.getLogger(__name__)

# The pacer's vocabulary for how a dial resolved.
_PACER_OUTCOME = {
    AttemptState.NO_ANSWER: "no_answer",
    AttemptState.BUSY: "busy",
    AttemptState.CONGESTION: "failed",
    AttemptState.FAILED: "failed",
}

# The stored dial outcome (`call_attempts.outcome`) for each way an attempt can end.
_STORED_OUTCOME = {
    AttemptState.NO_ANSWER: "no_answer",
    AttemptState.BUSY: "busy",
    AttemptState.CONGESTION: "congestion",
    AttemptState.FAILED: "failed",
    AttemptState.MACHINE: "machine",
    AttemptState.ABANDONED: "human",
    AttemptState.DROPPED: "human",
    AttemptState.COMPLETED: "human",
}


@dataclass
class _Waiter:
    attempt_id: str
    server: str
    future: asyncio.Future[AgentSession | None]


class DialerEngine:
    def __init__(
        self,
        settings: Settings,
        session_factory: Any,
        *,
        pbx: Mapping[str, PbxPort],
        writer: StoreWriter,
        gate: Any,
        clock: Clock | None = None,
        bus: EventBus | None = None,
        metrics: RuntimeMetrics | None = None,
        owner: str | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = session_factory
        self.pbx = dict(pbx)
        self.writer = writer
        self.gate = gate
        self.clock = clock or Clock()
        self.bus = bus or EventBus()
        self.metrics = metrics or RuntimeMetrics()
        self.owner = owner or f"dialer-{uuid.uuid4().hex[:8]}"
        self.board = AgentBoard()
        self.calls = LiveCalls()
        self.campaigns: dict[int, CampaignRun] = {}
        self._waiters: dict[int, deque[_Waiter]] = {}
        self._inbound_waiters: dict[int, deque[_Waiter]] = {}  # callers queued, per campaign
        self.inbound_dids: dict[str, int] = {}  # DID -> campaign answering it
        self._wrap_timers: dict[str, asyncio.TimerHandle] = {}
        self.dispositions_by_key: dict[str, Disposition] = {}
        self.agent_rows: dict[int, Agent] = {}
        self._leg_seq = 0
        self.connect_window_s = 2.0
        self.hopper_batch = 50
        self.dial_concurrency = 4  # dials of one tick in progress at once
        self.on_agent_ready: list[Callable[[AgentSession], None]] = []
        self._previews: dict[str, tuple[int, store.ClaimedLead]] = {}  # by agent extension
        self._callback_polled: dict[tuple[int, str], float] = {}
        self._agent_day: dict[str, date] = {}  # the day each agent's calls_today counts
        self._desk_phones: set[str] = set()  # agents logged in from a phone (*55), no screen
        self._background: set[asyncio.Task[None]] = set()
        self._zone = ZoneInfo(settings.default_timezone)
        self.callback_poll_s = 10.0

    def _spawn(self, coro: Any) -> None:
        """A PBX action whose result nothing waits for (a failure is only logged)."""
        task = asyncio.get_running_loop().create_task(_quiet(coro))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------------ loading

    async def load(self) -> None:
        """Read campaigns, agents and dispositions; called at start and on changes."""
        async with self.sessions() as session:
            camps = (await session.execute(select(Campaign))).scalars().all()
            agents = (
                (await session.execute(select(Agent).options(selectinload(Agent.campaigns))))
                .scalars()
                .all()
            )
            dispositions = (await session.execute(select(Disposition))).scalars().all()
        for row in camps:
            await self._apply_campaign(CampaignConfig.from_row(row))
        self._index_dids()
        self.agent_rows = {a.id: a for a in agents}
        self.dispositions_by_key = {}
        for d in sorted(dispositions, key=lambda d: d.campaign_id is not None):
            key = d.code if d.campaign_id is None else f"{d.campaign_id}:{d.code}"
            self.dispositions_by_key[key] = d

    async def reload_campaign(self, campaign_id: int) -> None:
        async with self.sessions() as session:
            row = await session.get(Campaign, campaign_id)
        if row is None:
            self.campaigns.pop(campaign_id, None)
        else:
            await self._apply_campaign(CampaignConfig.from_row(row))
        self._index_dids()

    async def _apply_campaign(self, config: CampaignConfig) -> None:
        run = self.campaigns.get(config.id)
        if run is None:
            self.campaigns[config.id] = CampaignRun(config)
        else:
            was_active = run.config.status == CampaignStatus.ACTIVE
            run.reconfigure(config)
            if was_active and config.status != CampaignStatus.ACTIVE:
                await self._return_hopper(run)

    def _index_dids(self) -> None:
        """Which campaign answers each number; a paused campaign still answers (pausing
        stops outbound dialing only)."""
        self.inbound_dids = {
            did: cid
            for cid, r in sorted(self.campaigns.items())
            if r.config.status in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED)
            for did in r.config.inbound.dids
        }

    async def _return_hopper(self, run: CampaignRun) -> None:
        while run.hopper:
            lead = run.hopper.popleft()
            self.writer.submit(store.unclaim_op(lead.id, lead.status, None, "campaign stopped"))

    def disposition(self, campaign_id: int, code: str) -> Disposition | None:
        by_key = self.dispositions_by_key
        return by_key.get(f"{campaign_id}:{code}") or by_key.get(code)

    def servers_for(self, config: CampaignConfig) -> list[str]:
        return [config.server] if config.server else list(self.pbx)

    # ------------------------------------------------------------------ pacing tick

    def snapshot(self, campaign_id: int, server: str) -> Snapshot:
        now = self.clock.monotonic()
        counts = self.board.counts(campaign_id, now, [server])
        ringing, in_amd, waiting = self.calls.pool_view(campaign_id, server, now)
        # Queued inbound callers are in `waiting` (they take the next free agents); the
        # pacer does not dial for agents held back for callers, nor count those on callers.
        run = self.campaigns.get(campaign_id)
        held = on_callers = 0
        talking = counts.talking_elapsed
        if run is not None and run.config.inbound.enabled:
            held = min(run.inbound_reserve(now), counts.ready)
            run.inbound_stats.reserved_now = held
            talking, on_callers = self._outbound_talk(campaign_id, server, now)
        return Snapshot(
            now=now,
            agents_logged_in=counts.logged_in - held - on_callers,
            agents_ready=counts.ready - held,
            talking_elapsed=talking,
            wrapping_elapsed=counts.wrapping_elapsed,
            ringing_elapsed=ringing,
            waiting_for_agent=waiting,
            in_amd=in_amd,
        )

    def _outbound_talk(self, campaign_id: int, server: str, now: float) -> tuple[list[float], int]:
        """Talk time so far of the agents on outbound calls, and how many talk to callers.
        The pacer learns outbound talk times only and cannot forecast when a caller is done,
        so an agent on an inbound call counts for outbound again once free."""
        elapsed: list[float] = []
        on_callers = 0
        for agent in self.board.in_campaign(campaign_id, [server]):
            if agent.state is not AgentState.TALKING:
                continue
            call = self.calls.get(agent.attempt_id or "")
            if call is not None and call.inbound:
                on_callers += 1
            else:
                elapsed.append(max(0.0, now - agent.since))
        return elapsed, on_callers

    def can_dial(self) -> bool:
        return self.writer.db_ok

    async def tick(self, campaign_id: int) -> int:
        """One pacing decision for each of the campaign's server pools; returns calls placed."""
        run = self.campaigns.get(campaign_id)
        if run is None or not run.config.dials_automatically or not self.can_dial():
            return 0
        if self._caller_ids_exhausted(run):
            return 0
        placed = 0
        for server in self.servers_for(run.config):
            port = self.pbx.get(server)
            if port is None or not port.connected:
                continue  # that pool is paused; the others keep dialing
            placed += await self._personal_callbacks(run, server)
            snap = self.snapshot(campaign_id, server)
            if snap.agents_logged_in == 0:
                continue
            wanted = run.pacer(server).calls_to_place(snap)
            if wanted <= 0:
                continue
            self.metrics.pacing_decisions.labels(str(campaign_id)).inc(wanted)
            placed += await self._dial_leads(run, server, await self._take_leads(run, wanted))
        return placed

    def _caller_ids_exhausted(self, run: CampaignRun) -> bool:
        """Every caller ID at its daily cap under hard caps: the campaign stops dialing (and
        says so in its stats) until a cap is raised, a number added or the day turns."""
        exhausted = run.caller_ids_exhausted
        if exhausted != run.stats.caller_ids_exhausted:
            run.stats.caller_ids_exhausted = exhausted
            if exhausted:
                log.warning(
                    "campaign %s: every caller ID is at its daily cap; dialing stopped",
                    run.config.id,
                )
            else:
                log.info("campaign %s: caller IDs available again; dialing resumes", run.config.id)
        return exhausted

    async def _dial_leads(
        self, run: CampaignRun, server: str, leads: list[store.ClaimedLead]
    ) -> int:
        """Dial the leads in hopper order, up to `dial_concurrency` at once: each dial waits
        on the database (gate, attempt row) and the PBX, so one after the other a big tick
        would take seconds. The first error is raised after every lead had its turn."""
        queue = deque(leads)

        async def worker() -> int:
            placed = 0
            while queue:
                if await self._dial(run, server, queue.popleft()):
                    placed += 1
            return placed

        workers = min(max(1, self.dial_concurrency), len(queue))
        if workers <= 1:
            return await worker()
        results = await asyncio.gather(*(worker() for _ in range(workers)), return_exceptions=True)
        run.hopper.extendleft(reversed(queue))  # not dialled (every worker failed): kept
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return sum(r for r in results if isinstance(r, int))

    async def _personal_callbacks(self, run: CampaignRun, server: str) -> int:
        """Due callbacks an agent promised go to that agent, reserved, when it is ready.
        Looked up every `callback_poll_s` (simulated) per pool, not every tick."""
        now = self.clock.monotonic()
        key = (run.config.id, server)
        if now - self._callback_polled.get(key, -1e9) < self.callback_poll_s:
            return 0
        self._callback_polled[key] = now
        ready = {
            a.agent_id: a
            for a in self.board.in_campaign(run.config.id, [server])
            if a.state is AgentState.READY and not a.at_daily_cap
        }
        if not ready:
            return 0
        async with self.sessions() as session, session.begin():
            claimed = await store.claim_personal_callbacks(
                session, run.config.id, list(ready), self.owner, self.clock.now()
            )
        placed = 0
        for agent_id, lead in claimed:
            agent = ready[agent_id]
            decision = await self._check_for(agent, run, lead)
            if not decision.allowed or agent.state is not AgentState.READY:
                if decision.allowed:  # the agent got another call meanwhile: later
                    self.writer.submit(store.unclaim_op(lead.id, lead.status, None, "agent busy"))
                else:
                    self._blocked(run, lead, decision)
                continue
            try:
                await self._dial_for(agent, run, lead)
                placed += 1
            except ConnectionError as exc:
                log.warning("callback of lead %s not placed: %s", lead.id, exc)
        return placed

    async def _take_leads(self, run: CampaignRun, wanted: int) -> list[store.ClaimedLead]:
        if len(run.hopper) < wanted:
            want = max(wanted - len(run.hopper), self.hopper_batch)
            async with self.sessions() as session, session.begin():
                claimed = await store.claim_leads(
                    session, run.config.id, self.owner, want, self.clock.now()
                )
            run.hopper.extend(claimed)
        return [run.hopper.popleft() for _ in range(min(wanted, len(run.hopper)))]

    def _blocked(self, run: CampaignRun, lead: store.ClaimedLead, decision: Any) -> None:
        """A lead the gate refused goes back to the list with the time it may be retried."""
        config = run.config
        run.stats.blocked += 1
        for reason in decision.reasons:
            self.metrics.blocked.labels(str(config.id), reason.rule).inc()
        permanent = decision.next_allowed_at is None and self.gate.is_permanent(decision)
        status = LeadStatus.DNC if permanent else lead.status
        retry_at = decision.next_allowed_at
        if retry_at is None and not permanent:
            retry_at = self.gate.retry_later(self.clock.now())
        self.writer.submit(store.unclaim_op(lead.id, status, retry_at, "compliance"))

    async def _dial(
        self,
        run: CampaignRun,
        server: str,
        lead: store.ClaimedLead,
        *,
        agent: AgentSession | None = None,
    ) -> bool:
        """Check, write the attempt row, Originate. With `agent` (preview, manual) the lead
        was checked already and the call is the agent's alone."""
        config = run.config
        at = self.clock.now()
        caller_id = run.next_caller_id()
        if config.caller_id_pool and not caller_id:  # every number at its daily cap
            self._caller_ids_exhausted(run)
            if agent is None:
                run.hopper.appendleft(lead)
            else:
                capped = store.unclaim_op(lead.id, lead.status, None, "caller IDs capped")
                self.writer.submit(capped)
            return False
        if agent is None:
            try:
                decision = await self.gate.check_lead(config, lead, at, caller_id=caller_id or None)
            except Exception:
                run.hopper.appendleft(lead)  # kept for the next tick, not forgotten
                raise
            if not decision.allowed:
                self._blocked(run, lead, decision)
                return False
        attempt_id = f"att-{uuid.uuid4().hex[:20]}"
        settings = self.settings.server(server)
        trunk = config.trunk or settings.default_trunk
        number = lead.phone_e164.lstrip("+")
        try:
            async with self.sessions() as session, session.begin():
                await store.insert_attempt(
                    session,
                    id=attempt_id,
                    campaign_id=config.id,
                    lead_id=lead.id,
                    number_dialed=lead.phone_e164,
                    caller_id=caller_id,
                    trunk=trunk,
                    asterisk_server=server,
                    originate_at=at,
                )
        except Exception:
            log.exception("could not write attempt for lead %s; not dialing", lead.id)
            if agent is None:
                run.hopper.appendleft(lead)
            else:
                self.writer.submit(store.unclaim_op(lead.id, lead.status, None, "not dialled"))
            return False
        now = self.clock.monotonic()
        attempt = LiveAttempt(
            id=attempt_id,
            campaign_id=config.id,
            lead_id=lead.id,
            number=lead.phone_e164,
            server=server,
            caller_id=caller_id,
            lead_attempts=lead.attempt_count + 1,
            lead_status=lead.status,
            created=now,
        )
        if agent is not None:
            attempt.reserved_agent = agent.extension
            agent.attempt_id = attempt_id
        attempt.move(AttemptState.ORIGINATING)
        attempt.originated = now
        self.calls.add(attempt)
        run.stats.dials += 1
        self.metrics.dials.labels(str(config.id), server).inc()
        variables = {
            "DIALER_ATTEMPT_ID": attempt_id,
            "DIALER_CAMPAIGN_ID": str(config.id),
            "DIALER_LEAD_ID": str(lead.id),
            "DIALER_AMD": "1" if config.amd_enabled else "0",
            "DIALER_AGI": f"{settings.agi_public_host}:{settings.agi_bind_port}",
        }
        try:
            await self.pbx[server].originate(
                attempt_id=attempt_id,
                channel=settings.trunk_dial_template.format(number=number, trunk=trunk),
                context="dialer-outbound",
                exten="s",
                priority=1,
                timeout_ms=int(settings.originate_timeout_s * 1000),
                caller_id=_caller_id(config.caller_id_name, caller_id),
                variables=variables,
            )
        except (PbxNotConnected, PbxRefused) as exc:
            log.warning("originate %s not placed: %s", attempt_id, exc)
            sent = "refused" if isinstance(exc, PbxRefused) else "not sent"
            self._finish(attempt, AttemptState.FAILED, detail=f"originate {sent}: {exc}")
            return False
        except PbxOutcomeUnknown as exc:
            # Never re-sent: the reconciliation after reconnect decides what happened.
            log.warning("originate %s outcome unknown (%s); will reconcile", attempt_id, exc)
            return True
        if attempt.state is AttemptState.ORIGINATING:
            attempt.move(AttemptState.RINGING)
            self._publish_call(attempt)
        return True

    # ------------------------------------------------------------------ AMI events

    def handle_event(self, server: str, event: AmiEvent) -> None:
        """Apply one AMI event. Unknown or foreign events are ignored."""
        try:
            if isinstance(event, OriginateResponse):
                self._on_originate_response(server, event)
            elif isinstance(event, ConfbridgeJoin):
                self._on_confbridge(server, event, joined=True)
            elif isinstance(event, ConfbridgeLeave):
                self._on_confbridge(server, event, joined=False)
            elif isinstance(event, Hangup):
                self._on_hangup(server, event)
            elif isinstance(event, VarSet):
                self._on_varset(event)
        except Exception:
            log.exception("error applying AMI event %s", event.name)

    def _on_originate_response(self, server: str, ev: OriginateResponse) -> None:
        attempt_id = ev.action_id or ""
        attempt = self.calls.get(attempt_id)
        if attempt is None:
            agent = self._agent_by_leg(attempt_id)
            if agent is not None and ev.reason != 4:
                log.warning("agent %s phone did not answer (reason %s)", agent.extension, ev.reason)
                self._agent_offline(agent)
            return
        attempt.originate_reason = ev.reason
        attempt.channel = ev.channel_name or attempt.channel
        state = state_for_originate_reason(ev.reason if ev.reason is not None else -1)
        now = self.clock.monotonic()
        if state is AttemptState.ANSWERED:
            if attempt.state in (AttemptState.ORIGINATING, AttemptState.RINGING):
                attempt.move(AttemptState.ANSWERED)
                attempt.answered = now
                self._publish_call(attempt)
                self.writer.submit(
                    store.update_attempt_op(
                        attempt.id, answer_at=self.clock.now(), originate_reason=ev.reason
                    )
                )
            return
        if attempt.state in (AttemptState.ORIGINATING, AttemptState.RINGING):
            self._finish(attempt, state)

    def _on_varset(self, ev: VarSet) -> None:
        name = (ev.get("Variable") or "").upper()
        if name not in ("AMDSTATUS", "AMDCAUSE"):
            return
        attempt = self.calls.get(ev.linkedid) or self.calls.get(ev.uniqueid)
        if attempt is None:
            return
        if name == "AMDSTATUS":
            attempt.amd_status = ev.get("Value")
        else:
            attempt.amd_cause = ev.get("Value")

    def _on_confbridge(self, server: str, ev: AmiEvent, *, joined: bool) -> None:
        conference = ev.get("Conference") or ""
        uniqueid = ev.get("Uniqueid") or ""
        linkedid = ev.get("Linkedid") or ""
        attempt = self.calls.get(uniqueid) or self.calls.get(linkedid)
        if attempt is not None:
            if joined:
                if attempt.state is AttemptState.CONNECTED and attempt.connected is not None:
                    self.writer.submit(
                        store.update_attempt_op(attempt.id, connect_at=self.clock.now())
                    )
            elif attempt.state is AttemptState.CONNECTED:
                self._customer_left(attempt)
            return
        if not conference.startswith("agent-"):
            return
        agent = self.board.get(conference.removeprefix("agent-"))
        if agent is None:
            return
        if joined and agent.state is AgentState.CONNECTING:
            agent.leg_uniqueid = agent.leg_uniqueid or uniqueid
            self._agent_transition(agent, AgentState.READY)
        elif not joined and uniqueid == agent.leg_uniqueid:
            # the agent leg left its bridge: a wrap-up redirect or the phone hanging up;
            # the Hangup event decides which
            pass

    def _on_hangup(self, server: str, ev: Hangup) -> None:
        uniqueid = ev.uniqueid
        cause = _int(ev.get("Cause"))
        attempt = self.calls.get(uniqueid)
        if attempt is None and uniqueid.startswith(ev.linkedid or "\x00"):
            # the far leg of a Local channel ("{attempt};2") carries the Q.850 cause
            linked = self.calls.get(ev.linkedid)
            if linked is not None and cause:
                linked.hangup_cause = cause
            return
        if attempt is not None:
            attempt.hangup_cause = cause or attempt.hangup_cause
            if attempt.state is AttemptState.CONNECTED:
                self._customer_left(attempt)
            elif attempt.state in (AttemptState.ANSWERED, AttemptState.ROUTING):
                self._cancel_waiter(attempt)
                self._observe_outcome(attempt, "human")
                self._finish(attempt, AttemptState.DROPPED)
            elif attempt.response_lost and attempt.state is AttemptState.RINGING:
                state = HANGUP_CAUSE_STATE.get(attempt.hangup_cause or 0, AttemptState.LOST)
                self._finish(
                    attempt, state, detail=f"ended after reconnect, cause {attempt.hangup_cause}"
                )
            # otherwise RINGING/ORIGINATING: the OriginateResponse that follows decides
            return
        agent = self._agent_by_leg(uniqueid)
        if agent is not None:
            log.info("agent %s leg hung up", agent.extension)
            self._agent_offline(agent)

    # ------------------------------------------------------------------ answered calls

    async def route_answered(self, attempt_id: str, amd_status: str | None) -> tuple[str, Any]:
        """The routing decision for an answered call: ("bridge", agent) / ("safeharbor",
        message) / ("voicemail", message) / ("hangup", None)."""
        attempt = self.calls.get(attempt_id)
        if attempt is None:
            log.warning("answered call %s is not ours (restart?); safe-harbor", attempt_id)
            return ("safeharbor", None)
        run = self.campaigns.get(attempt.campaign_id)
        now = self.clock.monotonic()
        if attempt.state in (AttemptState.ORIGINATING, AttemptState.RINGING):
            attempt.move(AttemptState.ANSWERED)  # the AGI request beat the OriginateResponse
            attempt.answered = now
        if attempt.state is not AttemptState.ANSWERED:
            return ("hangup", None)
        status = (amd_status or attempt.amd_status or "").upper()
        attempt.amd_status = status or None
        if status == "MACHINE":
            self._observe_outcome(attempt, "machine")
            action = "hangup"
            message = None
            if run and run.config.machine_action == "voicemail" and run.config.voicemail_message:
                action, message = "voicemail", run.config.voicemail_message
            self._finish(attempt, AttemptState.MACHINE)
            return (action, message)
        self._observe_outcome(attempt, "human")
        attempt.move(AttemptState.ROUTING)
        attempt.routing_since = now
        if run is not None:
            run.stats.answered += 1
        agent = self._reserved_agent(attempt) or self._take_agent(attempt)
        if agent is None:
            agent = await self._wait_for_agent(attempt)
        if attempt.state is not AttemptState.ROUTING:  # hung up while waiting
            if agent is not None:
                self._agent_transition(agent, AgentState.READY)
            return ("hangup", None)
        wait = self.clock.monotonic() - now
        if agent is None:
            if run is not None:
                run.pacer(attempt.server).observe_abandon(self.clock.monotonic())
                run.stats.abandons += 1
            self.metrics.abandons.labels(str(attempt.campaign_id)).inc()
            message = run.config.safe_harbor_message if run else None
            self._finish(attempt, AttemptState.ABANDONED)
            return ("safeharbor", message)
        attempt.move(AttemptState.CONNECTED)
        attempt.connected = self.clock.monotonic()
        attempt.agent_ext = agent.extension
        agent.attempt_id = attempt.id
        if run is not None and run.config.recording_mode == RecordingMode.ALL:
            attempt.recording_path = self.recording_file(attempt)
        if run is not None:
            run.pacer(attempt.server).observe_connect(wait, attempt.connected)
            run.stats.connects += 1
        self.writer.submit(
            store.update_attempt_op(
                attempt.id,
                agent_id=agent.agent_id,
                connect_at=self.clock.now(),
                amd_status=attempt.amd_status,
                amd_cause=attempt.amd_cause,
                recording_path=attempt.recording_path,
            )
        )
        self._publish_agent(agent)
        self._publish_call(attempt)
        return ("bridge", agent)

    async def route_inbound(
        self, did: str, caller: str, uniqueid: str, channel: str, server: str = ""
    ) -> tuple[str, Any]:
        """The routing decision for a caller to one of our numbers: ("bridge", agent) as
        soon as an agent of the blended campaign is free (callers go before outbound
        answers), ("message", overflow sound) after `max_wait_s`, ("closed", sound) when no
        agent is logged in, ("hangup", None) for a number no campaign answers or a caller
        who hung up. The AGI handler plays hold music meanwhile."""
        with contextlib.suppress(ValueError):
            did = normalise_did(did)
        run = self.campaigns.get(self.inbound_dids.get(did, -1))
        if run is None:
            log.warning("inbound call %s to %r: no campaign answers that number", uniqueid, did)
            return ("hangup", None)
        config = run.config
        settings = config.inbound
        server = self._inbound_server(config, server)
        wall = self.clock.now()
        now = self.clock.monotonic()
        number = _caller_e164(caller, self.settings.default_region)
        row = {
            "id": uniqueid,
            "campaign_id": config.id,
            "did": did,
            "caller_number": number,
            "asterisk_server": server,
            "uniqueid": uniqueid,
            "arrived_at": wall,
        }
        if uniqueid in self.calls or not uniqueid:
            log.error("inbound call with uniqueid %r already live; hanging up", uniqueid)
            return ("hangup", None)
        run.inbound_stats.offered += 1
        run.inbound_arrivals.arrived(now)
        staffed = any(
            a.state is not AgentState.OFFLINE for a in self.board.in_campaign(config.id, [server])
        )
        if not staffed:  # nobody logged in, not even paused: the closed message
            run.inbound_stats.closed += 1
            self.writer.submit(
                store.insert_inbound_op(**row, outcome="closed", end_at=wall, wait_seconds=0.0)
            )
            closed = {"attempt_id": uniqueid, "campaign_id": config.id, "lead_id": None}
            closed |= {"state": "closed", "agent": None, "server": server, "did": did}
            self.bus.publish(f"inbound/{config.id}/{uniqueid}", closed)
            return ("closed", settings.closed_message)
        attempt = LiveAttempt(
            id=uniqueid,
            campaign_id=config.id,
            lead_id=None,
            number=number,
            server=server,
            caller_id=did,
            lead_attempts=0,
            lead_status="",
            state=AttemptState.ROUTING,
            created=now,
            answered=now,
            routing_since=now,
            channel=channel,
            inbound=True,
            did=did,
        )
        self.calls.add(attempt)
        self.writer.submit(store.insert_inbound_op(**row))
        self._publish_call(attempt)
        try:
            agent = self._take_agent(attempt) or await self._wait_for_agent(
                attempt, settings.max_wait_s
            )
        except asyncio.CancelledError:
            if attempt.state is AttemptState.ROUTING:  # the AGI session ended: caller gone
                self._finish(attempt, AttemptState.DROPPED)
            raise
        if attempt.state is not AttemptState.ROUTING:  # hung up while queued
            if agent is not None:
                self._agent_transition(agent, AgentState.READY)
            return ("hangup", None)
        if agent is None:
            self._finish(attempt, AttemptState.ABANDONED, detail="overflow: no agent in time")
            return ("message", settings.overflow_message)
        wait = self.clock.monotonic() - now
        run.inbound_stats.answered_after(wait, settings.service_level_s)
        attempt.move(AttemptState.CONNECTED)
        attempt.connected = self.clock.monotonic()
        attempt.agent_ext = agent.extension
        agent.attempt_id = attempt.id
        if config.recording_mode == RecordingMode.ALL:
            attempt.recording_path = self.recording_file(attempt)
        self.writer.submit(
            store.update_inbound_op(
                attempt.id,
                agent_id=agent.agent_id,
                connect_at=self.clock.now(),
                wait_seconds=round(wait, 3),
                recording_path=attempt.recording_path,
            )
        )
        self._publish_agent(agent)
        self._publish_call(attempt)
        return ("bridge", agent)

    def _inbound_server(self, config: CampaignConfig, reported: str) -> str:
        """The Asterisk the caller is on: the one the dialplan names (`DIALER_SERVER`), else
        the campaign's, else the only one."""
        if reported in self.pbx:
            return reported
        if config.server in self.pbx:
            return config.server
        if len(self.pbx) > 1:
            log.warning("inbound call without DIALER_SERVER on a multi-server setup")
        return next(iter(self.pbx))

    def _finish_inbound(
        self,
        attempt: LiveAttempt,
        state: AttemptState,
        disposition: DispositionFlags | None,
        notes: str,
        agent: AgentSession | None,
    ) -> None:
        """An inbound call's end: its row, the service-level counters, and a caller's
        refusal or complaint suppressing the number like an outbound one would."""
        run = self.campaigns.get(attempt.campaign_id)
        wall = self.clock.now()
        waited = self.clock.monotonic() - attempt.created
        values: dict[str, Any] = {"outcome": INBOUND_OUTCOME.get(state, "lost"), "end_at": wall}
        if attempt.connected is None:
            values["wait_seconds"] = round(waited, 3)
        if disposition is not None:
            values["disposition"] = disposition.code
        if notes:
            values["notes"] = notes[:2000]
        self.writer.submit(store.update_inbound_op(attempt.id, **values))
        if run is not None:
            stats = run.inbound_stats
            if state is AttemptState.DROPPED:
                stats.abandoned_after(waited, run.config.inbound.service_level_s)
            elif state is AttemptState.ABANDONED:
                stats.overflow += 1
            if disposition is not None:
                nxt = next_for_lead(
                    state,
                    attempts=1,
                    now=wall,
                    rules=run.config.retry_rules,
                    disposition=disposition,
                )
                if nxt.suppress and attempt.number:
                    self._suppress(attempt, nxt.reason, agent, wall)
        self.metrics.outcomes.labels(str(attempt.campaign_id), f"inbound_{values['outcome']}").inc()
        self._publish_call(attempt)

    def recording_file(self, attempt: LiveAttempt) -> str:
        """Where Asterisk writes the call's recording (relative to its monitor directory)."""
        day = self.clock.now().strftime("%Y%m%d")
        return f"dialer/{attempt.campaign_id}/{day}/{attempt.id}.wav"

    async def start_recording(self, agent: AgentSession) -> str:
        """On-demand recording of the agent's current call (campaigns that allow it)."""
        attempt = self.calls.get(agent.attempt_id or "")
        if attempt is None or attempt.state is not AttemptState.CONNECTED:
            raise LookupError(f"agent {agent.extension} is not on a call")
        run = self.campaigns.get(attempt.campaign_id)
        mode = run.config.recording_mode if run else RecordingMode.NEVER
        if mode == RecordingMode.NEVER:
            raise PermissionError(f"campaign {attempt.campaign_id} does not record calls")
        if attempt.recording_path is not None:
            return attempt.recording_path
        path = self.recording_file(attempt)
        await self.pbx[attempt.server].record(attempt.channel or attempt.id, path)
        attempt.recording_path = path
        self.writer.submit(store.update_attempt_op(attempt.id, recording_path=path))
        return path

    def _reserved_agent(self, attempt: LiveAttempt) -> AgentSession | None:
        """The agent who dialled this call (preview, manual), if still waiting for it."""
        if attempt.reserved_agent is None:
            return None
        agent = self.board.get(attempt.reserved_agent)
        if agent is None or agent.attempt_id != attempt.id or agent.state is not AgentState.TALKING:
            return None
        return agent

    def _take_agent(self, attempt: LiveAttempt) -> AgentSession | None:
        agent = self.board.longest_ready(
            attempt.campaign_id, [attempt.server], include_capped=attempt.inbound
        )
        if agent is not None:
            self._agent_transition(agent, AgentState.TALKING)
        return agent

    async def _wait_for_agent(
        self, attempt: LiveAttempt, window_s: float | None = None
    ) -> AgentSession | None:
        """Queue the call for the next agent to come free, at most `window_s` (simulated)
        seconds: the 2-second connect window for an outbound answer, the campaign's
        `max_wait_s` for an inbound caller."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(attempt.id, attempt.server, loop.create_future())
        queues = self._inbound_waiters if attempt.inbound else self._waiters
        queues.setdefault(attempt.campaign_id, deque()).append(waiter)
        window = self.connect_window_s if window_s is None else window_s
        try:
            async with asyncio.timeout(self.clock.real_seconds(window)):
                return await asyncio.shield(waiter.future)
        except TimeoutError:
            if waiter.future.done() and not waiter.future.cancelled():
                return waiter.future.result()  # handed an agent at the last moment
            waiter.future.cancel()
            return None
        except asyncio.CancelledError:
            # the AGI session gave up (caller gone): an agent handed over meanwhile is freed
            if waiter.future.done() and not waiter.future.cancelled():
                agent = waiter.future.result()
                if agent is not None:
                    self._agent_transition(agent, AgentState.READY)
            waiter.future.cancel()
            raise
        finally:
            queue = queues.get(attempt.campaign_id)
            if queue and waiter in queue:
                queue.remove(waiter)

    def _cancel_waiter(self, attempt: LiveAttempt) -> None:
        queues = self._inbound_waiters if attempt.inbound else self._waiters
        for waiter in queues.get(attempt.campaign_id, ()):
            if waiter.attempt_id == attempt.id and not waiter.future.done():
                waiter.future.set_result(None)

    def _offer_agent(self, agent: AgentSession) -> bool:
        """A newly ready agent goes straight to the longest-waiting call it can take: an
        inbound caller first (they chose to call), then an outbound live answer."""
        best = self._longest_waiter(agent, self._inbound_waiters)
        if best is None and not agent.at_daily_cap:
            best = self._longest_waiter(agent, self._waiters)
        if best is None:
            return False
        agent.transition(AgentState.TALKING, self.clock.monotonic())
        best.future.set_result(agent)
        return True

    def _longest_waiter(
        self, agent: AgentSession, queues: dict[int, deque[_Waiter]]
    ) -> _Waiter | None:
        best: _Waiter | None = None
        for cid in agent.campaign_ids:
            for waiter in queues.get(cid, ()):
                if waiter.future.done() or waiter.server != agent.server:
                    continue
                if best is None or self._routing_since(waiter) < self._routing_since(best):
                    best = waiter
                break
        return best

    def _routing_since(self, waiter: _Waiter) -> float:
        attempt = self.calls.get(waiter.attempt_id)
        return attempt.routing_since if attempt and attempt.routing_since is not None else 0.0

    def _customer_left(self, attempt: LiveAttempt) -> None:
        now = self.clock.monotonic()
        attempt.move(AttemptState.WRAPUP)
        attempt.customer_left = now
        talk = now - (attempt.connected or now)
        run = self.campaigns.get(attempt.campaign_id)
        if attempt.inbound:
            if run is not None:
                run.inbound_stats.talk_seconds += talk
            self.writer.submit(store.update_inbound_op(attempt.id, hangup_at=self.clock.now()))
        else:
            if run is not None:
                run.pacer(attempt.server).observe_talk(talk, now)
                run.stats.talk_seconds += talk
            self.writer.submit(
                store.update_attempt_op(
                    attempt.id, hangup_at=self.clock.now(), hangup_cause=attempt.hangup_cause
                )
            )
        agent = self.board.get(attempt.agent_ext or "")
        if agent is not None and agent.state is AgentState.TALKING:
            self._agent_transition(agent, AgentState.WRAPUP)
            agent.attempt_id = attempt.id
            timeout = run.config.wrapup_timeout_s if run else 30
            loop = asyncio.get_running_loop()
            self._wrap_timers[agent.extension] = loop.call_later(
                self.clock.real_seconds(timeout), self._wrapup_timed_out, agent.extension
            )
            if agent.extension in self._desk_phones and agent.leg_uniqueid:
                # a desk phone has no screen: its leg goes to the DTMF disposition prompt
                # (dialer-wrapup), which sends it back into its bridge afterwards
                port = self.pbx.get(agent.server)
                if port is not None:
                    self._spawn(port.redirect(agent.leg_uniqueid, "dialer-wrapup", agent.extension))
        self._publish_call(attempt)

    def _wrapup_timed_out(self, extension: str) -> None:
        self._wrap_timers.pop(extension, None)
        agent = self.board.get(extension)
        if agent is None or agent.state is not AgentState.WRAPUP:
            return
        log.info("agent %s wrap-up timed out; closing with WRAPUP_TIMEOUT", extension)
        self.dispose(agent, "WRAPUP_TIMEOUT", notes="wrap-up timed out", system=True)

    # ------------------------------------------------------------------ dispositions

    def dispose(
        self,
        agent: AgentSession,
        code: str,
        *,
        notes: str = "",
        callback_at: datetime | None = None,
        callback_agent_only: bool = False,
        pause_after: str | None = None,
        system: bool = False,
    ) -> LiveAttempt:
        """Close the agent's current call with a disposition and free the agent."""
        attempt = self.calls.get(agent.attempt_id or "")
        if attempt is None or agent.state not in (AgentState.WRAPUP, AgentState.TALKING):
            raise LookupError(f"agent {agent.extension} has no call to disposition")
        run = self.campaigns.get(attempt.campaign_id)
        disp = self.disposition(attempt.campaign_id, code)
        if disp is None and not system:
            raise ValueError(f"unknown disposition code {code!r}")
        if attempt.state is AttemptState.CONNECTED:  # dispositioned while still talking
            self._customer_left(attempt)
            port = self.pbx.get(attempt.server)
            if port is not None:
                self._spawn(port.hangup(attempt.id))
        timer = self._wrap_timers.pop(agent.extension, None)
        if timer is not None:
            timer.cancel()
        now = self.clock.monotonic()
        wrap = now - (attempt.customer_left or now)
        if run is not None and not attempt.inbound:
            run.pacer(attempt.server).observe_wrap(wrap, now)
            run.stats.wrap_seconds += wrap
        flags = DispositionFlags(
            code=code,
            final=bool(disp and disp.final),
            callback=bool(disp and disp.callback) or callback_at is not None,
            dnc=bool(disp and disp.dnc),
            refusal=bool(disp and disp.refusal),
            complaint=bool(disp and disp.complaint),
        )
        self._finish(
            attempt,
            AttemptState.COMPLETED,
            disposition=flags,
            notes=notes,
            callback_at=callback_at,
            agent=agent,
            callback_agent_only=callback_agent_only,
        )
        today = self.today()
        if self._agent_day.get(agent.extension) != today:  # a new day: the cap starts again
            self._agent_day[agent.extension] = today
            agent.calls_today = 0
        self.writer.submit(
            store.agent_counter_op(
                agent.agent_id,
                today,
                connects=0 if attempt.inbound else 1,
                talk_seconds=int((attempt.customer_left or now) - (attempt.connected or now)),
                wrap_seconds=int(wrap),
            )
        )
        if not attempt.inbound:  # the daily cap limits the calls the dialer places
            agent.calls_today += 1
        if pause_after:
            self._agent_transition(agent, AgentState.PAUSED, reason=pause_after)
        else:
            self._agent_transition(agent, AgentState.READY)
        return attempt

    # ------------------------------------------------------------------ endings

    def _observe_outcome(self, attempt: LiveAttempt, outcome: str) -> None:
        if attempt.outcome_observed or attempt.inbound:
            return
        attempt.outcome_observed = True
        run = self.campaigns.get(attempt.campaign_id)
        if run is None:
            return
        now = self.clock.monotonic()
        ring = (attempt.answered or now) - (attempt.originated or attempt.created)
        run.pacer(attempt.server).observe_outcome(outcome, max(0.0, ring), now)

    def _finish(
        self,
        attempt: LiveAttempt,
        state: AttemptState,
        *,
        detail: str = "",
        disposition: DispositionFlags | None = None,
        notes: str = "",
        callback_at: datetime | None = None,
        agent: AgentSession | None = None,
        callback_agent_only: bool = False,
    ) -> None:
        """The one place an attempt ends: one terminal state, its row, its lead, its stats."""
        if attempt.state in TERMINAL:
            return
        if not can_move(attempt.state, state):
            log.error("attempt %s: cannot end %s from %s", attempt.id, state, attempt.state)
            state = AttemptState.LOST
        attempt.move(state)
        self.calls.discard(attempt.id)
        run = self.campaigns.get(attempt.campaign_id)
        if attempt.inbound:
            self._finish_inbound(attempt, state, disposition, notes or detail, agent)
            return
        pacer_outcome = _PACER_OUTCOME.get(state)
        if pacer_outcome is not None:
            self._observe_outcome(attempt, pacer_outcome)
        wall = self.clock.now()
        values: dict[str, Any] = {
            "terminal_state": state.value,
            "end_at": wall,
            "outcome": _STORED_OUTCOME.get(state, attempt.amd_status and "human"),
            "abandoned": state is AttemptState.ABANDONED,
            "originate_reason": attempt.originate_reason,
            "hangup_cause": attempt.hangup_cause,
            "amd_status": attempt.amd_status,
            "amd_cause": attempt.amd_cause,
        }
        if disposition is not None:
            values["disposition"] = disposition.code
            values["notes"] = notes
        elif state is not AttemptState.COMPLETED:
            values["disposition"] = _SYSTEM_CODE.get(state)
        if detail:
            values["notes"] = detail[:500]
        self.writer.submit(store.update_attempt_op(attempt.id, **values))
        if attempt.lead_id is not None and run is not None:
            nxt = next_for_lead(
                state,
                attempts=attempt.lead_attempts,
                now=wall,
                rules=run.config.retry_rules,
                disposition=disposition,
                callback_at=callback_at,
                max_attempts=run.config.max_attempts or None,
            )
            cap = run.config.max_attempts_per_day
            per_day = (cap, *self._day_bounds()) if cap else None
            self.writer.submit(
                store.lead_after_attempt_op(
                    attempt.lead_id, nxt, values.get("disposition"), wall, per_day=per_day
                )
            )
            if nxt.suppress:
                self._suppress(attempt, nxt.reason, agent, wall)
            if nxt.status is LeadStatus.CALLBACK and nxt.next_call_at is not None:
                self.writer.submit(
                    store.callback_op(
                        attempt.lead_id,
                        attempt.campaign_id,
                        agent.agent_id if agent and callback_agent_only else None,
                        nxt.next_call_at,
                        notes,
                    )
                )
        if run is not None:
            _count(run, state)
        reserved = self._reserved_agent(attempt)
        if reserved is not None and state is not AttemptState.COMPLETED:
            self._agent_transition(reserved, AgentState.READY)
        self.metrics.outcomes.labels(str(attempt.campaign_id), state.value).inc()
        self._publish_call(attempt)

    def _suppress(
        self, attempt: LiveAttempt, reason: str, agent: AgentSession | None, at: datetime
    ) -> None:
        """The number is never called again (a refusal, a complaint, a DNC request)."""
        source = f"campaign {attempt.campaign_id}" + (" inbound" if attempt.inbound else "")
        self.writer.submit(
            store.suppress_op(
                attempt.number,
                self.gate.number_hash(attempt.number),
                reason=reason,
                source=source,
                created_by=f"agent {agent.extension}" if agent else "dialer",
                at=at,
            )
        )

    # ------------------------------------------------------------------ agents

    def _agent_by_leg(self, uniqueid: str) -> AgentSession | None:
        return self.board.by_leg(uniqueid) if uniqueid else None

    def _agent_transition(
        self, agent: AgentSession, state: AgentState, *, reason: str | None = None
    ) -> None:
        agent.transition(state, self.clock.monotonic(), reason=reason)
        self._publish_agent(agent)
        if state is AgentState.READY:
            if self._offer_agent(agent):
                self._publish_agent(agent)
                return
            for hook in self.on_agent_ready:
                hook(agent)

    def _agent_offline(self, agent: AgentSession) -> None:
        held = self._previews.pop(agent.extension, None)
        if held is not None:
            lead = held[1]
            self.writer.submit(store.unclaim_op(lead.id, lead.status, None, "agent left"))
        timer = self._wrap_timers.pop(agent.extension, None)
        if timer is not None:
            timer.cancel()
        attempt = self.calls.get(agent.attempt_id or "")
        if attempt is not None and attempt.state in (AttemptState.CONNECTED, AttemptState.WRAPUP):
            if attempt.state is AttemptState.CONNECTED:
                port = self.pbx.get(attempt.server)
                if port is not None:
                    self._spawn(port.hangup(attempt.id))
            self.dispose(agent, "AGENT_GONE", notes="agent phone hung up", system=True)
        if agent.state is not AgentState.OFFLINE:
            agent.transition(AgentState.OFFLINE, self.clock.monotonic())
        agent.leg_uniqueid = None
        self._publish_agent(agent)

    async def agent_login(self, agent_id: int, *, via_phone: bool = False) -> AgentSession:
        row = self.agent_rows.get(agent_id)
        if row is None:
            await self.load()
            row = self.agent_rows.get(agent_id)
        if row is None or not row.active:
            raise LookupError(f"no active agent {agent_id}")
        server = row.asterisk_server or next(iter(self.pbx))
        agent = self.board.get(row.extension)
        if agent is None:
            agent = self.board.add(
                AgentSession(
                    agent_id=row.id,
                    extension=row.extension,
                    server=server,
                    campaign_ids=frozenset(c.id for c in row.campaigns),
                    daily_cap=self._agent_cap(row),
                )
            )
        if agent.state is not AgentState.OFFLINE:
            return agent
        today = self.today()
        if self._agent_day.get(agent.extension) != today:  # calls already made today count
            async with self.sessions() as session:
                agent.calls_today = await store.agent_calls_on(session, agent.agent_id, today)
            self._agent_day[agent.extension] = today
        agent.transition(AgentState.CONNECTING, self.clock.monotonic())
        self._publish_agent(agent)
        if via_phone:
            self._desk_phones.add(agent.extension)
            return agent  # the phone is already calling in; its ConfbridgeJoin makes it ready
        self._desk_phones.discard(agent.extension)
        self._leg_seq += 1
        leg = f"agent-{row.extension}-{uuid.uuid4().hex[:8]}"
        agent.leg_uniqueid = leg
        settings = self.settings.server(server)
        try:
            await self.pbx[server].originate(
                attempt_id=leg,
                channel=settings.agent_endpoint_template.format(ext=row.extension),
                context="dialer-agent",
                exten=row.extension,
                priority=1,
                timeout_ms=int(settings.originate_timeout_s * 1000),
                caller_id=_caller_id("Dialer", row.extension),
                variables={"DIALER_AGENT": row.extension},
            )
        except (PbxNotConnected, PbxRefused, PbxOutcomeUnknown) as exc:
            agent.transition(AgentState.OFFLINE, self.clock.monotonic())
            agent.leg_uniqueid = None
            self._publish_agent(agent)
            raise ConnectionError(f"could not ring agent {row.extension}: {exc}") from exc
        return agent

    def _day_bounds(self) -> tuple[datetime, datetime]:
        """Today's and tomorrow's midnight in the call centre's zone, as UTC."""
        local = self.clock.now().astimezone(self._zone)
        midnight = datetime.min.time()
        start = datetime.combine(local.date(), midnight, self._zone)
        tomorrow = datetime.combine(local.date() + timedelta(days=1), midnight, self._zone)
        return start.astimezone(UTC), tomorrow.astimezone(UTC)

    def today(self) -> date:
        """The call centre's calendar day (daily caps and counters follow its midnight)."""
        return self.clock.now().astimezone(self._zone).date()

    def _agent_cap(self, row: Agent) -> int | None:
        caps = [
            run.config.compliance.agent_daily_cap
            for c in row.campaigns
            if (run := self.campaigns.get(c.id)) is not None
        ]
        caps = [c for c in caps if c]
        if caps:
            return min(caps)
        return (
            200
            if any(
                "CN" in run.config.compliance.rulesets
                for c in row.campaigns
                if (run := self.campaigns.get(c.id)) is not None
            )
            else None
        )

    async def agent_logout(self, agent: AgentSession) -> None:
        leg = agent.leg_uniqueid
        self._agent_offline(agent)
        port = self.pbx.get(agent.server)
        if leg and port is not None:
            await _quiet(port.hangup(leg))

    def agent_pause(self, agent: AgentSession, reason: str) -> None:
        self._agent_transition(agent, AgentState.PAUSED, reason=reason)

    def agent_ready(self, agent: AgentSession) -> None:
        self._agent_transition(agent, AgentState.READY)

    # ------------------------------------------------------------------ preview, manual

    def _agent_run(
        self, agent: AgentSession, modes: tuple[str, ...], campaign_id: int | None = None
    ) -> CampaignRun:
        for cid in sorted(agent.campaign_ids):
            run = self.campaigns.get(cid)
            if run is None or (campaign_id is not None and cid != campaign_id):
                continue
            if run.config.status == CampaignStatus.ACTIVE and run.config.dial_mode in modes:
                return run
        wanted = f"campaign {campaign_id}" if campaign_id is not None else "an active campaign"
        raise LookupError(f"agent {agent.extension} has no {wanted} in mode {'/'.join(modes)}")

    def preview_lead(self, agent: AgentSession) -> tuple[int, store.ClaimedLead] | None:
        return self._previews.get(agent.extension)

    async def preview_next(self, agent: AgentSession) -> store.ClaimedLead | None:
        """Give a ready agent the next lead of its preview campaign to look at; the agent is
        paused ("preview") until it dials or skips. None when the list has nothing callable."""
        held = self._previews.get(agent.extension)
        if held is not None:
            return held[1]
        if agent.state is not AgentState.READY:
            raise LookupError(f"agent {agent.extension} must be ready to preview a lead")
        run = self._agent_run(agent, (DialMode.PREVIEW,))
        for _ in range(self.hopper_batch):
            leads = await self._take_leads(run, 1)
            if not leads:
                return None
            lead = leads[0]
            decision = await self._check_for(agent, run, lead)
            if not decision.allowed:
                self._blocked(run, lead, decision)
                continue
            self._previews[agent.extension] = (run.config.id, lead)
            self._agent_transition(agent, AgentState.PAUSED, reason="preview")
            return lead
        return None

    def preview_skip(self, agent: AgentSession) -> None:
        """The agent passes on the lead: it goes back to the list for an hour."""
        held = self._previews.pop(agent.extension, None)
        if held is None:
            raise LookupError(f"agent {agent.extension} has no lead in preview")
        _, lead = held
        later = self.clock.now() + timedelta(hours=1)
        self.writer.submit(store.unclaim_op(lead.id, lead.status, later, "skipped in preview"))
        self._agent_transition(agent, AgentState.READY)

    async def preview_dial(self, agent: AgentSession) -> LiveAttempt:
        held = self._previews.pop(agent.extension, None)
        if held is None:
            raise LookupError(f"agent {agent.extension} has no lead in preview")
        campaign_id, lead = held
        run = self.campaigns.get(campaign_id)
        if run is None:
            self.writer.submit(store.unclaim_op(lead.id, lead.status, None, "campaign gone"))
            raise LookupError(f"campaign {campaign_id} is not loaded")
        return await self._dial_for(agent, run, lead)

    async def manual_dial(
        self, agent: AgentSession, number: str, campaign_id: int | None = None
    ) -> LiveAttempt:
        """The agent typed a number. It becomes (or finds) a lead of the campaign, so the
        attempt is on the books like any other, and compliance decides as for any dial."""
        if agent.state not in (AgentState.READY, AgentState.PAUSED):
            raise LookupError(f"agent {agent.extension} is busy ({agent.state.value})")
        if agent.extension in self._previews:
            raise LookupError(f"agent {agent.extension} has a lead in preview: dial or skip it")
        if campaign_id is None:  # the agent's manual campaign, else any it works in
            try:
                run = self._agent_run(agent, (DialMode.MANUAL,))
            except LookupError:
                run = self._agent_run(agent, tuple(DialMode))
        else:
            run = self._agent_run(agent, tuple(DialMode), campaign_id)
        parsed = normalise_number(number, self.settings.default_region)  # InvalidNumber
        async with self.sessions() as session, session.begin():
            lead = await store.claim_number(
                session, run.config.id, parsed, number, self.owner, self.clock.now()
            )
        if lead is None:
            raise LookupError(f"{parsed.e164} is already being dialled in this campaign")
        decision = await self._check_for(agent, run, lead)
        if not decision.allowed:
            self._blocked(run, lead, decision)
            reasons = "; ".join(f"{r.rule}: {r.detail}" for r in decision.reasons)
            raise PermissionError(f"compliance blocks {parsed.e164}: {reasons}")
        return await self._dial_for(agent, run, lead)

    async def _check_for(
        self, agent: AgentSession, run: CampaignRun, lead: store.ClaimedLead
    ) -> Any:
        """The gate's decision for a call an agent is already waiting on."""
        counters = AgentCounters(
            agent_id=str(agent.agent_id),
            calls_today=agent.calls_today,
            day_zone=self.settings.default_timezone,
        )
        return await self.gate.check_lead(
            run.config, lead, self.clock.now(), agent=counters, agent_guaranteed=True
        )

    async def _dial_for(
        self, agent: AgentSession, run: CampaignRun, lead: store.ClaimedLead
    ) -> LiveAttempt:
        now = self.clock.monotonic()
        if agent.state is AgentState.PAUSED:
            agent.transition(AgentState.READY, now)  # not offered to waiting calls: it is ours
        self._agent_transition(agent, AgentState.TALKING)
        await self._dial(run, agent.server, lead, agent=agent)
        attempt = self.calls.get(agent.attempt_id or "")
        if attempt is None:
            if agent.state is AgentState.TALKING:
                self._agent_transition(agent, AgentState.READY)
            raise ConnectionError(f"the call to {lead.phone_e164} could not be placed")
        attempt.agent_ext = agent.extension
        return attempt

    # ------------------------------------------------------------------ reconciliation

    async def reconcile(self, server: str) -> dict[str, int]:
        """After a (re)connect: compare what we think is live with what Asterisk has.
        Nothing is re-dialled; attempts whose channel is gone end in a terminal state."""
        port = self.pbx[server]
        # Judge only what existed before asking: a call or agent leg started while the
        # listing is on its way is not in it yet, and is not gone.
        attempts = [a for a in self.calls if a.server == server]
        agents = [
            a
            for a in self.board
            if a.server == server and a.state not in (AgentState.OFFLINE, AgentState.CONNECTING)
        ]
        channels = await port.core_show_channels()
        present = {c.uniqueid for c in channels} | {c.linkedid for c in channels}
        counts = {"kept": 0, "ended": 0, "agents_gone": 0}
        for attempt in attempts:
            if attempt.state in TERMINAL:
                continue
            if attempt.id in present:
                counts["kept"] += 1
                if attempt.state is AttemptState.ORIGINATING:
                    attempt.move(AttemptState.RINGING)
                if attempt.state is AttemptState.RINGING:
                    attempt.response_lost = True
                continue
            counts["ended"] += 1
            if attempt.state is AttemptState.CONNECTED:
                self._customer_left(attempt)
            elif attempt.state is AttemptState.WRAPUP:
                continue  # waiting for the agent's disposition, channel gone is normal
            elif attempt.state in (AttemptState.ANSWERED, AttemptState.ROUTING):
                self._cancel_waiter(attempt)
                self._finish(attempt, AttemptState.DROPPED, detail="reconciled: channel gone")
            else:
                self._finish(attempt, AttemptState.LOST, detail="reconciled: channel gone")
        for agent in agents:
            gone = agent.leg_uniqueid and agent.leg_uniqueid not in present
            if gone and agent.state is not AgentState.OFFLINE:
                counts["agents_gone"] += 1
                self._agent_offline(agent)
        log.info("reconciled %s: %s", server, counts)
        return counts

    async def adopt_open_attempts(self, campaign_ids: set[int]) -> int:
        """Attempts of these campaigns left open by a process that is gone (this one before
        a restart, or the campaign's previous owner) come back into memory, to be reconciled
        against each server's channels. Called when the campaign's lease is taken, so an
        attempt another live process still owns is never adopted."""
        if not campaign_ids:
            return 0
        live_inbound = [a.id for a in self.calls if a.inbound]
        self.writer.submit(
            store.close_open_inbound_op(
                sorted(campaign_ids), list(self.pbx), live_inbound, self.clock.now()
            )
        )
        async with self.sessions() as session:
            rows = await store.open_attempts(session, list(self.pbx), campaign_ids)
            counts = await store.lead_attempt_counts(session, [r.lead_id for r in rows])
        now = self.clock.monotonic()
        for row in rows:
            if row.id in self.calls:
                continue
            attempt = LiveAttempt(
                id=row.id,
                campaign_id=row.campaign_id,
                lead_id=row.lead_id,
                number=row.number_dialed,
                server=row.asterisk_server,
                caller_id=row.caller_id,
                lead_attempts=counts.get(row.lead_id, 1) if row.lead_id is not None else 1,
                lead_status=LeadStatus.RETRY,
                created=now,
                state=AttemptState.RINGING,
                originated=now,
                response_lost=True,
            )
            if row.connect_at is not None:
                attempt.state = AttemptState.WRAPUP  # no agent session survives a restart
                attempt.customer_left = now
            elif row.answer_at is not None:
                attempt.state = AttemptState.ANSWERED
                attempt.answered = now
            self.calls.add(attempt)
        if rows:
            log.warning("adopted %d open attempts from the database", len(rows))
        return len(rows)

    def close_orphans(self) -> int:
        """Attempts in wrap-up with no agent session (after a restart) get a system close."""
        n = 0
        for attempt in self.calls:
            if attempt.state is AttemptState.WRAPUP and self.board.by_attempt(attempt.id) is None:
                self._finish(
                    attempt,
                    AttemptState.COMPLETED,
                    detail="closed after restart",
                    disposition=DispositionFlags("SYSTEM_CLOSED"),
                )
                n += 1
        return n

    # ------------------------------------------------------------------ events out

    def _publish_agent(self, agent: AgentSession) -> None:
        self.bus.publish(
            f"agent/{agent.extension}/state",
            {
                "agent_id": agent.agent_id,
                "extension": agent.extension,
                "state": agent.state.value,
                "pause_reason": agent.pause_reason,
                "attempt_id": agent.attempt_id,
                "calls_today": agent.calls_today,
                "server": agent.server,
            },
            retain=True,
        )

    def _publish_call(self, attempt: LiveAttempt) -> None:
        event = {
            "attempt_id": attempt.id,
            "campaign_id": attempt.campaign_id,
            "lead_id": attempt.lead_id,
            "state": attempt.state.value,
            "agent": attempt.agent_ext,
            "server": attempt.server,
        }
        if attempt.inbound:  # its own topic: `call/` is the outbound books (and webhooks)
            event["did"] = attempt.did
            self.bus.publish(f"inbound/{attempt.campaign_id}/{attempt.id}", event)
            return
        self.bus.publish(f"call/{attempt.campaign_id}/{attempt.id}", event)

    def campaign_stats(self, campaign_id: int) -> dict[str, Any] | None:
        run = self.campaigns.get(campaign_id)
        if run is None:
            return None
        stats = run.stats.as_dict()
        stats["campaign_id"] = campaign_id
        stats["status"] = run.config.status
        stats["in_flight"] = self.calls.count(campaign_id)
        stats["hopper"] = len(run.hopper)
        agents = self.board.in_campaign(campaign_id)
        stats["agents"] = {s.value: sum(1 for a in agents if a.state is s) for s in AgentState}
        stats["pacers"] = {server: _pacer_stats(p) for server, p in run.pacers.items()}
        if run.config.inbound.enabled:
            queue = self._inbound_waiters.get(campaign_id, ())
            waiting = sum(1 for w in queue if not w.future.done())
            stats["inbound"] = run.inbound_stats.as_dict(waiting)
            stats["inbound"]["reserved_agents"] = run.config.inbound.reserved_agents  # None: auto
            stats["inbound"]["arrivals_per_hour"] = round(
                3600 * run.inbound_arrivals.per_second(self.clock.monotonic()), 1
            )
            stats["inbound"]["service_level_target_s"] = run.config.inbound.service_level_s
        return stats


_SYSTEM_CODE = {
    AttemptState.NO_ANSWER: "NA",
    AttemptState.BUSY: "BUSY",
    AttemptState.CONGESTION: "CONGESTION",
    AttemptState.FAILED: "FAILED",
    AttemptState.MACHINE: "MACHINE",
    AttemptState.ABANDONED: "ABANDONED",
    AttemptState.DROPPED: "DROPPED",
    AttemptState.LOST: "LOST",
}


# The running total (a `CampaignStats` field) each terminal state adds to.
_STATS_FIELD = {
    AttemptState.NO_ANSWER: "no_answer",
    AttemptState.BUSY: "busy",
    AttemptState.CONGESTION: "congestion",
    AttemptState.FAILED: "failed",
    AttemptState.MACHINE: "machines",
    AttemptState.DROPPED: "dropped",
    AttemptState.LOST: "lost",
    AttemptState.COMPLETED: "completed",
}


def _count(run: CampaignRun, state: AttemptState) -> None:
    name = _STATS_FIELD.get(state)
    if name is not None:
        setattr(run.stats, name, getattr(run.stats, name) + 1)


def _pacer_stats(pacer: Any) -> dict[str, Any]:
    st = pacer.stats()
    return {k: getattr(st, k) for k in st.__dataclass_fields__}


def _caller_id(name: str, number: str) -> str:
    """`"Name" <number>`, or nothing when the campaign has no caller ID to present."""
    if not number:
        return ""
    return format_caller_id(name or None, number)


def _caller_e164(caller: str, region: str) -> str:
    """The caller's number as leads store it (E.164), or its digits when it is not one."""
    caller = (caller or "").strip()
    if not caller or caller.lower() in ("unknown", "anonymous", "<unknown>"):
        return ""
    try:
        return normalise_number(caller, region).e164
    except InvalidNumber:
        return "".join(ch for ch in caller if ch.isdigit() or ch == "+")[:40]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


async def _quiet(coro: Any) -> None:
    try:
        await coro
    except Exception as exc:
        log.info("ignored: %s", exc)
