"""Caller-ID health as stored: per-campaign policies, per-number status (flagged, resting,
daily cap), the evaluation that flags and rests numbers, the report, and what the rotation
needs (`rotation_state`). The rule itself is `dialer.runtime.caller_ids.assess`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.db.engine import SessionFactory
from dialer.db.models import CallAttempt, CallerIdPolicy, CallerIdStatus, Campaign
from dialer.runtime.caller_ids import Assessment, HealthPolicy, RateSample, assess
from dialer.services.audit import add_audit
from dialer.services.errors import Invalid, NotFound

# Dials that reached a phone; trunk failures and congestion say nothing about the number.
REACHED_OUTCOMES = ("human", "machine", "no_answer", "busy")
LIVE_OUTCOME = "human"
POLICY_FIELDS = tuple(HealthPolicy.__dataclass_fields__)


def policy_of(row: CallerIdPolicy | None) -> HealthPolicy:
    if row is None:
        return HealthPolicy()
    return HealthPolicy(**{name: getattr(row, name) for name in POLICY_FIELDS})


async def _campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


async def get_policy(session_factory: SessionFactory, campaign_id: int) -> HealthPolicy:
    async with session_factory() as session:
        await _campaign(session, campaign_id)
        return policy_of(await session.get(CallerIdPolicy, campaign_id))


async def update_policy(
    session_factory: SessionFactory, campaign_id: int, changes: dict[str, Any], actor: str = ""
) -> HealthPolicy:
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise Invalid(f"unknown caller-ID policy fields: {sorted(unknown)}")
    async with session_factory() as session, session.begin():
        await _campaign(session, campaign_id)
        row = await session.get(CallerIdPolicy, campaign_id)
        policy = replace(policy_of(row), **changes)
        if row is None:
            row = CallerIdPolicy(campaign_id=campaign_id)
            session.add(row)
        for name, value in asdict(policy).items():
            setattr(row, name, value)
        add_audit(session, actor, "caller_id.policy", "campaign", campaign_id, changes)
    return policy


# ---------------------------------------------------------------------- evaluation


@dataclass
class NumberHealth:
    caller_id: str
    in_pool: bool
    attempts: int  # judged dials in the window (since the end of its last rest)
    live: int
    rate: float | None
    baseline: float | None
    ratio: float | None
    z: float | None
    suspect: bool  # what the rule says now
    assessment: str
    flagged: bool  # stored: probably labelled as spam
    flagged_at: datetime | None
    reason: str
    rested_until: datetime | None
    resting: bool
    daily_cap: int  # effective; 0 = none
    dials_today: int = 0

    @property
    def available(self) -> bool:
        capped = self.daily_cap > 0 and self.dials_today >= self.daily_cap
        return self.in_pool and not self.resting and not capped


@dataclass
class Evaluation:
    campaign_id: int
    evaluated_at: datetime
    window_start: datetime
    policy: HealthPolicy
    campaign: RateSample
    numbers: list[NumberHealth]
    newly_flagged: list[str] = field(default_factory=list)


async def _samples(
    session: AsyncSession,
    campaign_id: int,
    since: datetime,
    until: datetime,
    caller_id: str | None = None,
) -> dict[str, RateSample]:
    query = (
        select(
            CallAttempt.caller_id,
            func.count(),
            func.sum(case((CallAttempt.outcome == LIVE_OUTCOME, 1), else_=0)),
        )
        .where(
            CallAttempt.campaign_id == campaign_id,
            CallAttempt.originate_at >= since,
            CallAttempt.originate_at < until,
            CallAttempt.outcome.in_(REACHED_OUTCOMES),
        )
        .group_by(CallAttempt.caller_id)
    )
    if caller_id is not None:
        query = query.where(CallAttempt.caller_id == caller_id)
    rows = await session.execute(query)
    return {number: RateSample(int(n), int(live or 0)) for number, n, live in rows}


async def _assess_all(
    session: AsyncSession, campaign: Campaign, now: datetime
) -> tuple[Evaluation, dict[str, CallerIdStatus], dict[str, RateSample]]:
    policy = policy_of(await session.get(CallerIdPolicy, campaign.id))
    since = now - timedelta(hours=policy.window_hours)
    full = await _samples(session, campaign.id, since, now)
    total = RateSample(sum(s.attempts for s in full.values()), sum(s.live for s in full.values()))
    statuses = {
        row.caller_id: row
        for row in await session.scalars(
            select(CallerIdStatus).where(CallerIdStatus.campaign_id == campaign.id)
        )
    }
    pool = list(dict.fromkeys(campaign.caller_id_pool or []))
    numbers = pool + sorted((set(statuses) | set(full)) - set(pool) - {""})
    judged: dict[str, RateSample] = {}
    out: list[NumberHealth] = []
    for number in numbers:
        status = statuses.get(number)
        rested_until = status.rested_until if status is not None else None
        sample = full.get(number, RateSample())
        if rested_until is not None and since < rested_until <= now:
            # after a rest only new calls count, or the old ones would flag it again at once
            sample = (await _samples(session, campaign.id, rested_until, now, number)).get(
                number, RateSample()
            )
        judged[number] = sample
        verdict: Assessment = assess(sample, total - full.get(number, RateSample()), policy)
        cap = status.daily_cap if status is not None and status.daily_cap is not None else None
        out.append(
            NumberHealth(
                caller_id=number,
                in_pool=number in pool,
                attempts=sample.attempts,
                live=sample.live,
                rate=verdict.rate,
                baseline=verdict.baseline,
                ratio=verdict.ratio,
                z=verdict.z if verdict.z is None or verdict.z != float("inf") else 99.0,
                suspect=verdict.suspect,
                assessment=verdict.reason,
                flagged=bool(status and status.flagged),
                flagged_at=status.flagged_at if status else None,
                reason=status.reason if status else "",
                rested_until=rested_until,
                resting=rested_until is not None and rested_until > now,
                daily_cap=cap if cap is not None else policy.daily_cap,
            )
        )
    evaluation = Evaluation(campaign.id, now, since, policy, total, out)
    return evaluation, statuses, judged


async def evaluate_campaign(
    session_factory: SessionFactory, campaign_id: int, now: datetime, actor: str = "dialer"
) -> Evaluation:
    """Judge the campaign's numbers and store the result: a newly suspect number is flagged
    and (with `auto_rest`) rested for `rest_hours`; a flagged one judged healthy again after
    its rest is cleared."""
    async with session_factory() as session, session.begin():
        campaign = await _campaign(session, campaign_id)
        evaluation, statuses, judged = await _assess_all(session, campaign, now)
        policy = evaluation.policy
        for health in evaluation.numbers:
            if not health.in_pool:
                continue
            row = statuses.get(health.caller_id)
            if row is None:
                row = CallerIdStatus(campaign_id=campaign_id, caller_id=health.caller_id)
                session.add(row)
            row.answer_rate = health.rate
            row.baseline_rate = health.baseline
            row.samples = judged[health.caller_id].attempts
            row.evaluated_at = now
            if health.suspect and not health.resting and not health.flagged:
                row.flagged, row.flagged_at, row.reason = True, now, health.assessment[:300]
                if policy.auto_rest:
                    row.rested_until = now + timedelta(hours=policy.rest_hours)
                evaluation.newly_flagged.append(health.caller_id)
                add_audit(
                    session,
                    actor,
                    "caller_id.flag",
                    "campaign",
                    campaign_id,
                    {
                        "caller_id": health.caller_id,
                        "reason": health.assessment,
                        "rested_until": row.rested_until.isoformat() if row.rested_until else None,
                    },
                )
            elif health.suspect and health.flagged and not health.resting and policy.auto_rest:
                # still suspect with new calls after its rest (or flagged while auto-rest
                # was off): rest it again
                row.flagged_at, row.reason = now, health.assessment[:300]
                row.rested_until = now + timedelta(hours=policy.rest_hours)
                evaluation.newly_flagged.append(health.caller_id)
                add_audit(
                    session,
                    actor,
                    "caller_id.rest",
                    "campaign",
                    campaign_id,
                    {"caller_id": health.caller_id, "reason": health.assessment},
                )
            elif (
                health.flagged
                and not health.suspect
                and not health.resting
                and health.attempts >= policy.min_attempts
            ):
                row.flagged = False
                row.reason = f"recovered: {health.assessment}"[:300]
            health.flagged, health.flagged_at, health.reason = (
                row.flagged,
                row.flagged_at,
                row.reason,
            )
            health.rested_until = row.rested_until
            health.resting = row.rested_until is not None and row.rested_until > now
    return evaluation


async def _dials_since(
    session: AsyncSession, numbers: Sequence[str], since: datetime
) -> dict[str, int]:
    """Dials per presented number since `since`, across campaigns (caps are per number)."""
    if not numbers:
        return {}
    rows = await session.execute(
        select(CallAttempt.caller_id, func.count())
        .where(CallAttempt.caller_id.in_(list(numbers)), CallAttempt.originate_at >= since)
        .group_by(CallAttempt.caller_id)
    )
    return {number: int(n) for number, n in rows}


async def report(
    session_factory: SessionFactory, campaign_id: int, now: datetime, day_start: datetime
) -> Evaluation:
    """The numbers as the rule sees them now (nothing is stored), with today's dials."""
    async with session_factory() as session:
        campaign = await _campaign(session, campaign_id)
        evaluation, _, _ = await _assess_all(session, campaign, now)
        used = await _dials_since(session, [n.caller_id for n in evaluation.numbers], day_start)
    for health in evaluation.numbers:
        health.dials_today = used.get(health.caller_id, 0)
    return evaluation


async def update_number(
    session_factory: SessionFactory,
    campaign_id: int,
    caller_id: str,
    now: datetime,
    *,
    rest_hours: float | None = None,
    end_rest: bool = False,
    clear_flag: bool = False,
    daily_cap: int | None = None,
    clear_daily_cap: bool = False,
    actor: str = "",
) -> CallerIdStatus:
    """A supervisor rests a number, ends its rest (its older calls are then no longer
    judged), clears its flag, or sets its own daily cap."""
    if rest_hours is not None and end_rest:
        raise Invalid("rest_hours and end_rest contradict each other")
    async with session_factory() as session, session.begin():
        campaign = await _campaign(session, campaign_id)
        if caller_id not in (campaign.caller_id_pool or []):
            raise NotFound(f"{caller_id} is not in campaign {campaign_id}'s caller-ID pool")
        row = await session.get(CallerIdStatus, (campaign_id, caller_id))
        if row is None:
            row = CallerIdStatus(campaign_id=campaign_id, caller_id=caller_id, samples=0)
            session.add(row)
        if rest_hours is not None:
            row.rested_until = now + timedelta(hours=rest_hours)
        if end_rest:
            row.rested_until = now
        if clear_flag:
            row.flagged = False
            row.reason = f"cleared by {actor}" if actor else "cleared"
        if daily_cap is not None:
            row.daily_cap = daily_cap
        if clear_daily_cap:
            row.daily_cap = None
        add_audit(
            session,
            actor,
            "caller_id.update",
            "campaign",
            campaign_id,
            {
                "caller_id": caller_id,
                "rest_hours": rest_hours,
                "end_rest": end_rest,
                "clear_flag": clear_flag,
                "daily_cap": daily_cap,
                "clear_daily_cap": clear_daily_cap,
            },
        )
        await session.flush()
    return row


# ---------------------------------------------------------------------- for the rotation


@dataclass
class RotationState:
    rested_and_caps: dict[int, tuple[frozenset[str], dict[str, int]]]
    used_today: dict[str, int]
    hard_caps: dict[int, bool] = field(default_factory=dict)


async def rotation_state(
    session_factory: SessionFactory,
    pools: Mapping[int, Sequence[str]],
    now: datetime,
    day_start: datetime,
) -> RotationState:
    """Per campaign: the numbers resting now and each number's daily cap; per number: dials
    since the call centre's midnight. Three indexed queries for every campaign together."""
    campaign_ids = list(pools)
    numbers = sorted({n for pool in pools.values() for n in pool if n})
    async with session_factory() as session:
        statuses = list(
            await session.scalars(
                select(CallerIdStatus).where(CallerIdStatus.campaign_id.in_(campaign_ids))
            )
        )
        policies = {
            row.campaign_id: policy_of(row)
            for row in await session.scalars(
                select(CallerIdPolicy).where(CallerIdPolicy.campaign_id.in_(campaign_ids))
            )
        }
        used = await _dials_since(session, numbers, day_start)
    by_campaign: dict[int, list[CallerIdStatus]] = {}
    for row in statuses:
        by_campaign.setdefault(row.campaign_id, []).append(row)
    result: dict[int, tuple[frozenset[str], dict[str, int]]] = {}
    for campaign_id, pool in pools.items():
        policy = policies.get(campaign_id, HealthPolicy())
        rows = {row.caller_id: row for row in by_campaign.get(campaign_id, [])}
        rested = frozenset(
            n
            for n, row in rows.items()
            if row.rested_until is not None and row.rested_until > now and n in pool
        )
        caps = {}
        for number in pool:
            row = rows.get(number)
            cap = row.daily_cap if row is not None and row.daily_cap is not None else None
            cap = policy.daily_cap if cap is None else cap
            if cap:
                caps[number] = cap
        result[campaign_id] = (rested, caps)
    hard = {cid: policies.get(cid, HealthPolicy()).hard_caps for cid in pools}
    return RotationState(result, used, hard)
