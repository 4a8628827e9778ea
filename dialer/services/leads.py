"""Lead reads, edits and erasure. Erasure deletes the person's data but keeps the number's hash
on the suppression list, so a later import cannot bring the number back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from dialer.db.engine import SessionFactory
from dialer.db.enums import LeadStatus, SuppressionScope
from dialer.db.hashing import number_hash
from dialer.db.models import CallAttempt, Callback, Complaint, Lead, SuppressionEntry
from dialer.services.audit import add_audit
from dialer.services.errors import Invalid, NotFound

EDITABLE = {"name", "custom_fields", "status", "priority", "next_call_at", "timezones"}
ERASURE_REASON = "erasure"


async def list_leads(
    session_factory: SessionFactory,
    *,
    campaign_id: int | None = None,
    status: str | None = None,
    phone: str | None = None,
    list_id: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[Lead], int]:
    query = select(Lead)
    if campaign_id is not None:
        query = query.where(Lead.campaign_id == campaign_id)
    if status:
        query = query.where(Lead.status == status)
    if phone:
        query = query.where(Lead.phone_e164.contains(phone, autoescape=True))
    if list_id is not None:
        query = query.where(Lead.list_id == list_id)
    async with session_factory() as session:
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await session.scalars(query.order_by(Lead.id).offset(offset).limit(limit))
        return list(rows), int(total or 0)


async def get_lead(session_factory: SessionFactory, lead_id: int) -> Lead:
    async with session_factory() as session:
        lead = await session.get(Lead, lead_id)
    if lead is None:
        raise NotFound(f"no lead {lead_id}")
    return lead


async def update_lead(
    session_factory: SessionFactory, lead_id: int, fields: dict[str, Any]
) -> Lead:
    unknown = set(fields) - EDITABLE
    if unknown:
        raise Invalid(f"these lead fields cannot be changed: {sorted(unknown)}")
    if "status" in fields:
        try:
            fields["status"] = LeadStatus(fields["status"]).value
        except ValueError as exc:
            raise Invalid(f"status: {exc}") from exc
    async with session_factory() as session, session.begin():
        lead = await session.get(Lead, lead_id)
        if lead is None:
            raise NotFound(f"no lead {lead_id}")
        for key, value in fields.items():
            setattr(lead, key, value)
    return lead


async def lead_history(session_factory: SessionFactory, lead_id: int) -> list[CallAttempt]:
    async with session_factory() as session:
        if await session.get(Lead, lead_id) is None:
            raise NotFound(f"no lead {lead_id}")
        rows = await session.scalars(
            select(CallAttempt)
            .where(CallAttempt.lead_id == lead_id)
            .order_by(CallAttempt.originate_at)
        )
        return list(rows)


async def erase_lead(
    session_factory: SessionFactory, lead_id: int, actor: str, reason: str = ""
) -> str:
    """Erase a lead (GDPR/PIPL): delete the row, scrub the number from attempts and complaints,
    keep only its sha256 on the company suppression list. Returns the hash."""
    async with session_factory() as session, session.begin():
        lead = await session.get(Lead, lead_id)
        if lead is None:
            raise NotFound(f"no lead {lead_id}")
        digest = number_hash(lead.phone_e164)
        session.add(
            SuppressionEntry(
                scope=SuppressionScope.COMPANY,
                phone_e164=None,
                number_hash=digest,
                reason=ERASURE_REASON,
                source=reason or "erasure request",
                created_by=actor,
            )
        )
        # Personal data elsewhere: the number in attempts and complaints, notes.
        await session.execute(
            update(CallAttempt)
            .where(CallAttempt.lead_id == lead_id)
            .values(number_dialed="erased", notes="", recording_path=None)
        )
        await session.execute(
            update(Complaint).where(Complaint.lead_id == lead_id).values(phone_e164="erased")
        )
        await session.execute(
            update(SuppressionEntry)
            .where(SuppressionEntry.phone_e164 == lead.phone_e164)
            .values(phone_e164=None)
        )
        await session.execute(Callback.__table__.delete().where(Callback.lead_id == lead_id))
        await session.delete(lead)
        add_audit(session, actor, "lead.erase", "lead", lead_id, {"number_hash": digest})
    return digest
