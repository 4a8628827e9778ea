"""Complaint intake and resolution, each with a response deadline (SLA)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from dialer.db.engine import SessionFactory
from dialer.db.enums import ComplaintStatus
from dialer.db.models import Complaint
from dialer.db.types import utcnow
from dialer.services.audit import add_audit
from dialer.services.errors import Conflict, Invalid, NotFound

# Regulators commonly expect an answer within a few working days; 72 h is a safe default.
DEFAULT_SLA = timedelta(hours=72)
_CLOSED = {ComplaintStatus.RESOLVED, ComplaintStatus.REJECTED}


async def open_complaint(
    session_factory: SessionFactory,
    *,
    phone_e164: str,
    text: str,
    actor: str,
    channel: str = "phone",
    campaign_id: int | None = None,
    lead_id: int | None = None,
    attempt_id: str | None = None,
    received_at: datetime | None = None,
    sla: timedelta = DEFAULT_SLA,
) -> Complaint:
    received = received_at or utcnow()
    async with session_factory() as session, session.begin():
        complaint = Complaint(
            phone_e164=phone_e164,
            text=text,
            channel=channel,
            campaign_id=campaign_id,
            lead_id=lead_id,
            attempt_id=attempt_id,
            received_at=received,
            sla_due_at=received + sla,
        )
        session.add(complaint)
        await session.flush()
        add_audit(session, actor, "complaint.open", "complaint", complaint.id)
    return complaint


async def list_complaints(
    session_factory: SessionFactory, *, status: str | None = None, overdue: bool = False
) -> list[Complaint]:
    query = select(Complaint).order_by(Complaint.sla_due_at, Complaint.id)
    if status:
        query = query.where(Complaint.status == status)
    if overdue:
        query = query.where(
            Complaint.sla_due_at < utcnow(), Complaint.status.not_in([s.value for s in _CLOSED])
        )
    async with session_factory() as session:
        return list(await session.scalars(query))


async def get_complaint(session_factory: SessionFactory, complaint_id: int) -> Complaint:
    async with session_factory() as session:
        complaint = await session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id}")
    return complaint


async def update_complaint(
    session_factory: SessionFactory, complaint_id: int, fields: dict[str, Any], actor: str
) -> Complaint:
    allowed = {"status", "text", "channel", "sla_due_at", "resolution"}
    unknown = set(fields) - allowed
    if unknown:
        raise Invalid(f"these complaint fields cannot be changed: {sorted(unknown)}")
    async with session_factory() as session, session.begin():
        complaint = await session.get(Complaint, complaint_id)
        if complaint is None:
            raise NotFound(f"no complaint {complaint_id}")
        if complaint.status in _CLOSED:
            raise Conflict(f"complaint {complaint_id} is {complaint.status} already")
        if "status" in fields:
            fields["status"] = ComplaintStatus(fields["status"]).value
        for key, value in fields.items():
            setattr(complaint, key, value)
        if complaint.status in _CLOSED:
            complaint.resolved_at = utcnow()
        add_audit(
            session,
            actor,
            "complaint.update",
            "complaint",
            complaint_id,
            {"fields": sorted(fields)},
        )
    return complaint


async def resolve_complaint(
    session_factory: SessionFactory,
    complaint_id: int,
    resolution: str,
    actor: str,
    *,
    rejected: bool = False,
) -> Complaint:
    status = ComplaintStatus.REJECTED if rejected else ComplaintStatus.RESOLVED
    return await update_complaint(
        session_factory, complaint_id, {"status": status, "resolution": resolution}, actor
    )
