"""The runtime's database statements: the hopper claim, attempt rows, lead updates.

Claims and the attempt insert are awaited (no dial without its row); everything after the
dial goes through `StoreWriter` as idempotent operations built here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.db.enums import DIALABLE_LEAD_STATUSES, LeadStatus
from dialer.db.models import (
    AgentDailyCounter,
    CallAttempt,
    Callback,
    ComplianceDecision,
    Lead,
    SuppressionEntry,
)
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
    pick = (
        select(Lead.id)
        .where(Lead.campaign_id == campaign_id, Lead.status.in_(DIALABLE_LEAD_STATUSES), due)
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


async def insert_attempt(session: AsyncSession, **values: Any) -> None:
    """The attempt row, written before the Originate so no dial is ever forgotten."""
    session.add(CallAttempt(**values))
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


def lead_after_attempt_op(
    lead_id: int, nxt: LeadNext, disposition: str | None, now: datetime
) -> WriteOp:
    async def op(session: AsyncSession) -> None:
        values: dict[str, Any] = {
            "status": nxt.status,
            "next_call_at": nxt.next_call_at,
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


async def open_attempts(session: AsyncSession, servers: list[str]) -> list[CallAttempt]:
    """Attempts without a terminal state: what a restarted dialer must reconcile."""
    rows = await session.execute(
        select(CallAttempt).where(
            CallAttempt.terminal_state.is_(None), CallAttempt.asterisk_server.in_(servers)
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
