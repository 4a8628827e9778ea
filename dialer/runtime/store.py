"""The runtime's database statements: the hopper claim, attempt rows, lead updates.

Claims and the attempt insert are awaited (no dial without its row); everything after the
dial goes through `StoreWriter` as idempotent operations built here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.db.enums import DIALABLE_LEAD_STATUSES, CallbackStatus, LeadStatus
from dialer.db.models import (
    AgentDailyCounter,
    CallAttempt,
    Callback,
    ComplianceDecision,
    InboundCall,
    Lead,
    SuppressionEntry,
)
from dialer.leads.phone import NormalisedNumber
from dialer.runtime.retry import LeadNext

WriteOp = Callable[[AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class ClaimedLead:
    id: int
    campaign_id: int
    phone_e164: str
    timezones: list[str]
    region: str
    attempt_count: int
    status: str  # the status it had before the claim (new / retry / callback)
    priority: int


def _insert_for(session: AsyncSession):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def claim_leads(
    session: AsyncSession, campaign_id: int, owner: str, limit: int, now: datetime
) -> list[ClaimedLead]:
    """Take up to `limit` dialable leads, callbacks first, then by priority and due time.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two dialer processes never take the same lead.
    SQLite: the UPDATE takes the database's single write lock, which gives the same guarantee.
    """
    if limit <= 0:
        return []
    due = or_(Lead.next_call_at.is_(None), Lead.next_call_at <= now)
    personal = (
        select(Callback.id)
        .where(
            Callback.lead_id == Lead.id,
            Callback.status == CallbackStatus.PENDING,
            Callback.agent_id.is_not(None),
        )
        .exists()
    )
    pick = (
        select(Lead.id)
        .where(
            Lead.campaign_id == campaign_id,
            Lead.status.in_(DIALABLE_LEAD_STATUSES),
            due,
            # a callback promised by one agent is that agent's to make (claim_personal_callbacks)
            or_(Lead.status != LeadStatus.CALLBACK, ~personal),
        )
        .order_by(
            (Lead.status == LeadStatus.CALLBACK).desc(),
            Lead.priority.desc(),
            Lead.next_call_at.asc().nulls_first(),
            Lead.id,
        )
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = list((await session.execute(pick)).scalars())
    if not ids:
        return []
    rows = (
        await session.execute(
            select(
                Lead.id,
                Lead.campaign_id,
                Lead.phone_e164,
                Lead.timezones,
                Lead.region,
                Lead.attempt_count,
                Lead.status,
                Lead.priority,
            ).where(Lead.id.in_(ids), Lead.status.in_(DIALABLE_LEAD_STATUSES))
        )
    ).all()
    await session.execute(
        update(Lead)
        .where(Lead.id.in_([r.id for r in rows]))
        .values(status=LeadStatus.IN_HOPPER, claimed_by=owner, claimed_at=now)
    )
    order = {lead_id: i for i, lead_id in enumerate(ids)}
    claimed = [ClaimedLead(*r) for r in rows]
    claimed.sort(key=lambda c: order[c.id])
    return claimed


async def release_claims(
    session: AsyncSession, owner: str, *, older_than: datetime | None = None
) -> int:
    """Give back leads claimed but never dialled (a stopped campaign, a restart)."""
    cond = [Lead.claimed_by == owner, Lead.status == LeadStatus.IN_HOPPER]
    if older_than is not None:
        cond.append(Lead.claimed_at < older_than)
    result = await session.execute(
        update(Lead)
        .where(and_(*cond))
        .values(
            status=case((Lead.attempt_count == 0, LeadStatus.NEW), else_=LeadStatus.RETRY),
            claimed_by=None,
            claimed_at=None,
        )
    )
    return int(result.rowcount or 0)


def unclaim_op(lead_id: int, status: str, next_call_at: datetime | None, why: str) -> WriteOp:
    """A claimed lead that will not be dialled now (compliance said later)."""

    async def op(session: AsyncSession) -> None:
        await session.execute(
            update(Lead)
            .where(Lead.id == lead_id, Lead.status == LeadStatus.IN_HOPPER)
            .values(status=status, next_call_at=next_call_at, claimed_by=None, claimed_at=None)
        )

    op.__name__ = f"unclaim lead {lead_id} ({why})"
    return op


async def claim_personal_callbacks(
    session: AsyncSession, campaign_id: int, agent_ids: list[int], owner: str, now: datetime
) -> list[tuple[int, ClaimedLead]]:
    """Due callbacks promised by these (ready) agents: (agent id, claimed lead), at most
    one per agent, earliest due first."""
    if not agent_ids:
        return []
    rows = (
        await session.execute(
            select(Callback.agent_id, Lead.id)
            .join(Lead, Lead.id == Callback.lead_id)
            .where(
                Callback.campaign_id == campaign_id,
                Callback.status == CallbackStatus.PENDING,
                Callback.agent_id.in_(agent_ids),
                Callback.due_at <= now,
                Lead.status == LeadStatus.CALLBACK,
            )
            .order_by(Callback.due_at)
        )
    ).all()
    chosen: dict[int, int] = {}
    for agent_id, lead_id in rows:
        if agent_id not in chosen and lead_id not in chosen.values():
            chosen[agent_id] = lead_id
    claimed: list[tuple[int, ClaimedLead]] = []
    for agent_id, lead_id in chosen.items():
        result = await session.execute(
            update(Lead)
            .where(Lead.id == lead_id, Lead.status == LeadStatus.CALLBACK)
            .values(status=LeadStatus.IN_HOPPER, claimed_by=owner, claimed_at=now)
        )
        if not result.rowcount:
            continue  # another process took it
        row = (
            await session.execute(
                select(
                    Lead.id,
                    Lead.campaign_id,
                    Lead.phone_e164,
                    Lead.timezones,
                    Lead.region,
                    Lead.attempt_count,
                    Lead.priority,
                ).where(Lead.id == lead_id)
            )
        ).one()
        claimed.append(
            (
                agent_id,
                ClaimedLead(
                    row.id,
                    row.campaign_id,
                    row.phone_e164,
                    row.timezones,
                    row.region,
                    row.attempt_count,
                    LeadStatus.CALLBACK,
                    row.priority,
                ),
            )
        )
    return claimed


async def insert_attempt(session: AsyncSession, **values: Any) -> None:
    """The attempt row, written before the Originate so no dial is ever forgotten. Due
    callbacks of the lead are kept by this dial."""
    session.add(CallAttempt(**values))
    await session.execute(
        update(Callback)
        .where(
            Callback.lead_id == values.get("lead_id"),
            Callback.status == CallbackStatus.PENDING,
            Callback.due_at <= values["originate_at"],
        )
        .values(status=CallbackStatus.DONE)
    )
    await session.execute(
        update(Lead)
        .where(Lead.id == values.get("lead_id"))
        .values(
            status=LeadStatus.DIALING,
            attempt_count=Lead.attempt_count + 1,
            last_attempt_at=values["originate_at"],
        )
    )


def update_attempt_op(attempt_id: str, **values: Any) -> WriteOp:
    """Fill in timestamps/outcome; a terminal state is written once and never changed."""

    async def op(session: AsyncSession) -> None:
        await session.execute(
            update(CallAttempt)
            .where(CallAttempt.id == attempt_id, CallAttempt.terminal_state.is_(None))
            .values(**values)
        )

    op.__name__ = f"attempt {attempt_id} {sorted(values)}"
    return op


def insert_inbound_op(**values: Any) -> WriteOp:
    """The row of an inbound call when it arrives, linked to the campaign's lead with the
    caller's number if there is one (looked up here, off the routing path)."""

    async def op(session: AsyncSession) -> None:
        number = values.get("caller_number") or ""
        if number and values.get("lead_id") is None:
            values["lead_id"] = (
                await session.execute(
                    select(Lead.id)
                    .where(Lead.campaign_id == values["campaign_id"], Lead.phone_e164 == number)
                    .limit(1)
                )
            ).scalar_one_or_none()
        session.add(InboundCall(**values))

    op.__name__ = f"inbound {values.get('id')} arrived"
    return op


def update_inbound_op(call_id: str, **values: Any) -> WriteOp:
    """Fill in an inbound call; its outcome is written once and never changed."""

    async def op(session: AsyncSession) -> None:
        await session.execute(
            update(InboundCall)
            .where(InboundCall.id == call_id, InboundCall.outcome.is_(None))
            .values(**values)
        )

    op.__name__ = f"inbound {call_id} {sorted(values)}"
    return op


def close_open_inbound_op(
    campaign_ids: list[int], servers: list[str], keep: list[str], at: datetime
) -> WriteOp:
    """Inbound calls a gone process left open: their AGI session died with it, so nobody
    serves them any more. Answered ones are closed as answered, the others as lost."""

    async def op(session: AsyncSession) -> None:
        await session.execute(
            update(InboundCall)
            .where(
                InboundCall.campaign_id.in_(campaign_ids),
                InboundCall.asterisk_server.in_(servers),
                InboundCall.outcome.is_(None),
                InboundCall.id.not_in(keep),
            )
            .values(
                outcome=case((InboundCall.connect_at.is_not(None), "answered"), else_="lost"),
                disposition=case(
                    (InboundCall.connect_at.is_not(None), "SYSTEM_CLOSED"), else_=None
                ),
                end_at=at,
            )
        )

    op.__name__ = f"close open inbound calls of {sorted(campaign_ids)}"
    return op


def lead_after_attempt_op(
    lead_id: int,
    nxt: LeadNext,
    disposition: str | None,
    now: datetime,
    *,
    per_day: tuple[int, datetime, datetime] | None = None,
) -> WriteOp:
    """`per_day` = (cap, start of today, start of tomorrow): a lead retried that many times
    today waits for tomorrow (counted here, in the database, where every attempt is)."""

    async def op(session: AsyncSession) -> None:
        next_call_at = nxt.next_call_at
        if per_day is not None and nxt.status == LeadStatus.RETRY:
            cap, day_start, tomorrow = per_day
            today = await session.scalar(
                select(func.count())
                .select_from(CallAttempt)
                .where(CallAttempt.lead_id == lead_id, CallAttempt.originate_at >= day_start)
            )
            if (today or 0) >= cap and (next_call_at is None or next_call_at < tomorrow):
                next_call_at = tomorrow
        values: dict[str, Any] = {
            "status": nxt.status,
            "next_call_at": next_call_at,
            "claimed_by": None,
            "claimed_at": None,
        }
        if disposition:
            values["last_disposition"] = disposition
        await session.execute(update(Lead).where(Lead.id == lead_id).values(**values))

    op.__name__ = f"lead {lead_id} -> {nxt.status}"
    return op


def suppress_op(
    number: str, number_hash: str, *, reason: str, source: str, created_by: str, at: datetime
) -> WriteOp:
    """Company-wide suppression: a refusal or a complaint applies across campaigns."""

    async def op(session: AsyncSession) -> None:
        exists = await session.execute(
            select(SuppressionEntry.id).where(
                SuppressionEntry.number_hash == number_hash,
                SuppressionEntry.scope == "company",
            )
        )
        if exists.first() is None:
            session.add(
                SuppressionEntry(
                    scope="company",
                    phone_e164=number,
                    number_hash=number_hash,
                    reason=reason,
                    source=source,
                    created_by=created_by,
                    created_at=at,
                )
            )
        await session.execute(
            update(Lead)
            .where(Lead.phone_e164 == number, Lead.status.in_(DIALABLE_LEAD_STATUSES))
            .values(status=LeadStatus.DNC)
        )

    op.__name__ = "suppress number"
    return op


def callback_op(
    lead_id: int, campaign_id: int, agent_id: int | None, due_at: datetime, note: str
) -> WriteOp:
    async def op(session: AsyncSession) -> None:
        session.add(
            Callback(
                lead_id=lead_id,
                campaign_id=campaign_id,
                agent_id=agent_id,
                due_at=due_at,
                note=note,
            )
        )

    op.__name__ = f"callback lead {lead_id}"
    return op


def agent_counter_op(agent_id: int, day: date, **increments: int) -> WriteOp:
    """Add to an agent's daily counters (attempts, connects, talk_seconds, wrap_seconds)."""

    async def op(session: AsyncSession) -> None:
        insert = _insert_for(session)
        stmt = insert(AgentDailyCounter).values(agent_id=agent_id, day=day, **increments)
        stmt = stmt.on_conflict_do_update(
            index_elements=["agent_id", "day"],
            set_={k: getattr(AgentDailyCounter, k) + v for k, v in increments.items()},
        )
        await session.execute(stmt)

    op.__name__ = f"agent {agent_id} counters {day}"
    return op


def decision_op(
    number_hash: str,
    campaign_id: int,
    lead_id: int | None,
    allowed: bool,
    rule_ids: list[str],
    detail: dict[str, Any],
    at: datetime,
) -> WriteOp:
    async def op(session: AsyncSession) -> None:
        session.add(
            ComplianceDecision(
                number_hash=number_hash,
                campaign_id=campaign_id,
                lead_id=lead_id,
                rule_ids=rule_ids,
                allowed=allowed,
                detail=detail,
                at=at,
            )
        )

    op.__name__ = "compliance decision"
    return op


async def open_attempts(
    session: AsyncSession, servers: list[str], campaign_ids: set[int]
) -> list[CallAttempt]:
    """Attempts without a terminal state: what a restarted dialer must reconcile."""
    rows = await session.execute(
        select(CallAttempt).where(
            CallAttempt.terminal_state.is_(None),
            CallAttempt.asterisk_server.in_(servers),
            CallAttempt.campaign_id.in_(campaign_ids),
        )
    )
    return list(rows.scalars())


async def lead_attempt_counts(session: AsyncSession, lead_ids: list[int | None]) -> dict[int, int]:
    ids = [i for i in lead_ids if i is not None]
    if not ids:
        return {}
    rows = await session.execute(select(Lead.id, Lead.attempt_count).where(Lead.id.in_(ids)))
    return {lead_id: count for lead_id, count in rows.all()}


async def release_stale_claims(session: AsyncSession, campaign_id: int, owner: str) -> int:
    """Leads another process claimed for this campaign and never dialled: when we take the
    campaign's lease that process is gone, so its hopper goes back to the list."""
    result = await session.execute(
        update(Lead)
        .where(
            Lead.campaign_id == campaign_id,
            Lead.status == LeadStatus.IN_HOPPER,
            or_(Lead.claimed_by.is_(None), Lead.claimed_by != owner),
        )
        .values(
            status=case((Lead.attempt_count == 0, LeadStatus.NEW), else_=LeadStatus.RETRY),
            claimed_by=None,
            claimed_at=None,
        )
    )
    return int(result.rowcount or 0)


async def claim_number(
    session: AsyncSession,
    campaign_id: int,
    number: NormalisedNumber,
    raw: str,
    owner: str,
    now: datetime,
) -> ClaimedLead | None:
    """A manually dialled number as a claimed lead of the campaign: the existing lead, or a
    new one. None when that lead is being dialled right now; PermissionError if it is DNC."""
    pick = select(Lead).where(Lead.campaign_id == campaign_id, Lead.phone_e164 == number.e164)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update()
    lead = await session.scalar(pick)
    if lead is None:
        lead = Lead(
            campaign_id=campaign_id,
            phone_e164=number.e164,
            phone_raw=raw[:64],
            timezones=list(number.timezones),
            region=number.region,
            custom_fields={"source": "manual dial"},
            status=LeadStatus.NEW,
        )
        session.add(lead)
        await session.flush()
    if lead.status in (LeadStatus.IN_HOPPER, LeadStatus.DIALING):
        return None
    if lead.status == LeadStatus.DNC:
        raise PermissionError(f"{number.e164} is marked do-not-call in this campaign")
    before = lead.status
    lead.status, lead.claimed_by, lead.claimed_at = LeadStatus.IN_HOPPER, owner, now
    return ClaimedLead(
        lead.id,
        lead.campaign_id,
        lead.phone_e164,
        list(lead.timezones or []),
        lead.region,
        lead.attempt_count,
        before,
        lead.priority,
    )


async def agent_calls_on(session: AsyncSession, agent_id: int, day: date) -> int:
    """Connected calls the agent already had that day (its daily cap counts them)."""
    value = await session.scalar(
        select(AgentDailyCounter.connects).where(
            AgentDailyCounter.agent_id == agent_id, AgentDailyCounter.day == day
        )
    )
    return int(value or 0)
