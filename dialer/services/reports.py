"""Campaign reports computed from stored attempts, counters and compliance decisions.

Every report is a list of flat rows (dicts with the same keys), so the API can answer it as
JSON, CSV or XLSX alike. Rates: connect rate = answered / dials; abandonment rate =
abandoned / live answers; conversion = success dispositions / live answers.
Rows are streamed and folded in Python: portable across SQLite and PostgreSQL date arithmetic.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select

from dialer.db.engine import SessionFactory
from dialer.db.enums import AttemptOutcome, AttemptTerminalState
from dialer.db.models import (
    Agent,
    AgentDailyCounter,
    CallAttempt,
    Campaign,
    ComplianceDecision,
    Disposition,
    InboundCall,
)
from dialer.services.errors import NotFound

Row = dict[str, Any]
STREAM_CHUNK = 5_000


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


def _window(query: Select[Any], column: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column < until)
    return query


def _talk_seconds(connect_at: datetime | None, end: datetime | None) -> float:
    if connect_at is None or end is None:
        return 0.0
    return max(0.0, (end - connect_at).total_seconds())


async def _campaign(session_factory: SessionFactory, campaign_id: int) -> Campaign:
    async with session_factory() as session:
        campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


async def _success_codes(session_factory: SessionFactory, campaign_id: int) -> dict[str, Row]:
    async with session_factory() as session:
        rows = await session.scalars(
            select(Disposition).where(
                or_(Disposition.campaign_id.is_(None), Disposition.campaign_id == campaign_id)
            )
        )
        codes: dict[str, Row] = {}
        for d in rows:  # the campaign's own code wins over the global one
            if d.code not in codes or d.campaign_id is not None:
                codes[d.code] = {"label": d.label, "success": d.success}
        return codes


_ATTEMPT_COLUMNS = (
    CallAttempt.originate_at,
    CallAttempt.answer_at,
    CallAttempt.connect_at,
    CallAttempt.hangup_at,
    CallAttempt.end_at,
    CallAttempt.outcome,
    CallAttempt.abandoned,
    CallAttempt.disposition,
    CallAttempt.agent_id,
    CallAttempt.terminal_state,
)


async def _attempts(
    session_factory: SessionFactory,
    campaign_id: int | None,
    since: datetime | None,
    until: datetime | None,
) -> list[Any]:
    query = select(*_ATTEMPT_COLUMNS).where(
        or_(
            CallAttempt.terminal_state.is_(None),
            CallAttempt.terminal_state != AttemptTerminalState.CANCELLED,
        )
    )
    if campaign_id is not None:
        query = query.where(CallAttempt.campaign_id == campaign_id)
    query = _window(query, CallAttempt.originate_at, since, until)
    rows: list[Any] = []
    async with session_factory() as session:
        result = await session.stream(query.execution_options(yield_per=STREAM_CHUNK))
        async for partition in result.partitions():
            rows.extend(partition)
    return rows


class _Tally:
    """Counts for one bucket (a campaign, an hour)."""

    def __init__(self) -> None:
        self.dials = 0
        self.answered = 0
        self.live = 0
        self.abandoned = 0
        self.connected = 0
        self.talk = 0.0
        self.conversions = 0

    def add(self, row: Any, success: set[str]) -> None:
        self.dials += 1
        if row.answer_at is not None:
            self.answered += 1
        if row.outcome == AttemptOutcome.HUMAN:
            self.live += 1
        if row.abandoned:
            self.abandoned += 1
        if row.connect_at is not None:
            self.connected += 1
            self.talk += _talk_seconds(row.connect_at, row.hangup_at or row.end_at)
        if row.disposition in success:
            self.conversions += 1

    def as_row(self) -> Row:
        return {
            "dials": self.dials,
            "answered": self.answered,
            "connect_rate": _ratio(self.answered, self.dials),
            "live_answers": self.live,
            "abandoned": self.abandoned,
            "abandon_rate": _ratio(self.abandoned, self.live),
            "connected_to_agent": self.connected,
            "talk_seconds": round(self.talk, 1),
            "avg_talk_seconds": round(self.talk / self.connected, 1) if self.connected else 0.0,
            "conversions": self.conversions,
            "conversion_rate": _ratio(self.conversions, self.live),
        }


async def campaign_summary(
    session_factory: SessionFactory,
    campaign_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Row]:
    campaign = await _campaign(session_factory, campaign_id)
    codes = await _success_codes(session_factory, campaign_id)
    success = {code for code, info in codes.items() if info["success"]}
    tally = _Tally()
    for row in await _attempts(session_factory, campaign_id, since, until):
        tally.add(row, success)
    return [{"campaign_id": campaign.id, "campaign": campaign.name, **tally.as_row()}]


async def inbound_summary(
    session_factory: SessionFactory,
    campaign_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Row]:
    """Calls to the campaign's numbers: offered, answered (within the service-level target),
    abandoned by the caller, overflowed, closed; service level = answered within the target
    / (offered - still waiting - closed - callers who hung up within the target); ASA = the
    average wait of answered calls."""
    campaign = await _campaign(session_factory, campaign_id)
    target = float((campaign.inbound or {}).get("service_level_s") or 15.0)
    query = select(
        InboundCall.outcome, InboundCall.wait_seconds, InboundCall.connect_at, InboundCall.hangup_at
    ).where(InboundCall.campaign_id == campaign_id)
    query = _window(query, InboundCall.arrived_at, since, until)
    counts: Counter[str] = Counter()
    in_target = short_abandons = 0
    answered_wait = talk = 0.0
    async with session_factory() as session:
        for outcome, wait, connect_at, hangup_at in await session.execute(query):
            counts[outcome or "live"] += 1
            wait = wait or 0.0
            if outcome == "answered":
                in_target += wait <= target
                answered_wait += wait
                if connect_at is not None and hangup_at is not None:
                    talk += (hangup_at - connect_at).total_seconds()
            elif outcome == "abandoned" and wait <= target:
                short_abandons += 1
    answered = counts["answered"]
    counted = answered + counts["overflow"] + counts["abandoned"] - short_abandons
    return [
        {
            "campaign_id": campaign.id,
            "campaign": campaign.name,
            "offered": sum(counts.values()),
            "answered": answered,
            "answered_in_target": in_target,
            "abandoned": counts["abandoned"],
            "abandoned_in_target": short_abandons,
            "overflow": counts["overflow"],
            "closed": counts["closed"],
            "lost": counts["lost"],
            "live": counts["live"],
            "service_level_target_s": target,
            "service_level": _ratio(in_target, counted),
            "average_speed_of_answer_s": round(answered_wait / answered, 1) if answered else 0.0,
            "average_talk_s": round(talk / answered, 1) if answered else 0.0,
        }
    ]


async def hourly(
    session_factory: SessionFactory,
    campaign_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Row]:
    """One row per UTC hour that had dials."""
    await _campaign(session_factory, campaign_id)
    codes = await _success_codes(session_factory, campaign_id)
    success = {code for code, info in codes.items() if info["success"]}
    buckets: dict[datetime, _Tally] = defaultdict(_Tally)
    for row in await _attempts(session_factory, campaign_id, since, until):
        buckets[row.originate_at.replace(minute=0, second=0, microsecond=0)].add(row, success)
    return [{"hour": hour.isoformat(), **buckets[hour].as_row()} for hour in sorted(buckets)]


async def dispositions(
    session_factory: SessionFactory,
    campaign_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Row]:
    await _campaign(session_factory, campaign_id)
    codes = await _success_codes(session_factory, campaign_id)
    counts = Counter(
        row.disposition or "(none)"
        for row in await _attempts(session_factory, campaign_id, since, until)
    )
    total = sum(counts.values())
    return [
        {
            "code": code,
            "label": codes.get(code, {}).get("label", ""),
            "count": count,
            "share": _ratio(count, total),
        }
        for code, count in counts.most_common()
    ]


async def agent_performance(
    session_factory: SessionFactory,
    campaign_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    daily_cap: int | None = None,
) -> list[Row]:
    """Calls and talk from attempts; wrap-up time from the daily counters (all campaigns).
    Pause time by reason is not stored yet, so it is not reported."""
    calls: Counter[int] = Counter()
    talk: defaultdict[int, float] = defaultdict(float)
    days: defaultdict[int, set[Any]] = defaultdict(set)
    for row in await _attempts(session_factory, campaign_id, since, until):
        if row.agent_id is None:
            continue
        calls[row.agent_id] += 1
        talk[row.agent_id] += _talk_seconds(row.connect_at, row.hangup_at or row.end_at)
        days[row.agent_id].add(row.originate_at.date())
    async with session_factory() as session:
        agents = {a.id: a for a in await session.scalars(select(Agent).order_by(Agent.id))}
        counter_query = select(AgentDailyCounter)
        if since is not None:
            counter_query = counter_query.where(AgentDailyCounter.day >= since.date())
        if until is not None:
            counter_query = counter_query.where(AgentDailyCounter.day <= until.date())
        wrap: defaultdict[int, int] = defaultdict(int)
        for counter in await session.scalars(counter_query):
            wrap[counter.agent_id] += counter.wrap_seconds
    rows = []
    for agent_id, agent in agents.items():
        if campaign_id is not None and calls[agent_id] == 0:
            continue
        active_days = len(days[agent_id]) or 1
        per_day = round(calls[agent_id] / active_days, 1)
        rows.append(
            {
                "agent_id": agent_id,
                "extension": agent.extension,
                "name": agent.name,
                "calls": calls[agent_id],
                "talk_seconds": round(talk[agent_id], 1),
                "wrap_seconds": wrap[agent_id],
                "days_active": len(days[agent_id]),
                "calls_per_day": per_day,
                "daily_cap": daily_cap,
                "cap_used": _ratio(per_day, daily_cap) if daily_cap else None,
            }
        )
    return rows


async def blocked_by_rule(
    session_factory: SessionFactory,
    campaign_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Row]:
    """How many dials each compliance rule refused (a refusal may name several rules)."""
    await _campaign(session_factory, campaign_id)
    query = select(ComplianceDecision.rule_ids).where(
        ComplianceDecision.campaign_id == campaign_id, ComplianceDecision.allowed.is_(False)
    )
    query = _window(query, ComplianceDecision.at, since, until)
    counts: Counter[str] = Counter()
    refusals = 0
    async with session_factory() as session:
        for rule_ids in await session.scalars(query):
            refusals += 1
            counts.update(rule_ids or ["(unspecified)"])
    return [
        {"rule": rule, "blocked": count, "share": _ratio(count, refusals)}
        for rule, count in counts.most_common()
    ]
