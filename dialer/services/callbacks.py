"""Scheduled callbacks: the lead goes to `callback` status and is due again at `due_at`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from dialer.db.engine import SessionFactory
from dialer.db.enums import CallbackStatus, LeadStatus
from dialer.db.models import Callback, Lead
from dialer.db.types import utcnow
from dialer.services.errors import Conflict, Invalid, NotFound


async def create_callback(
    session_factory: SessionFactory,
    lead_id: int,
    due_at: datetime,
    *,
    agent_id: int | None = None,
    note: str = "",
) -> Callback:
    if due_at <= utcnow():
        raise Invalid("due_at must be in the future")
    async with session_factory() as session, session.begin():
        lead = await session.get(Lead, lead_id)
        if lead is None:
            raise NotFound(f"no lead {lead_id}")
        if lead.status in (LeadStatus.DNC, LeadStatus.INVALID):
            raise Conflict(f"lead {lead_id} is {lead.status}: it cannot be called back")
        callback = Callback(
            lead_id=lead_id,
            campaign_id=lead.campaign_id,
            agent_id=agent_id,
            due_at=due_at,
            note=note,
        )
        lead.status = LeadStatus.CALLBACK
        lead.next_call_at = due_at
        session.add(callback)
        await session.flush()
    return callback


async def list_callbacks(
    session_factory: SessionFactory,
    *,
    campaign_id: int | None = None,
    agent_id: int | None = None,
    status: str | None = None,
) -> list[Callback]:
    query = select(Callback).order_by(Callback.due_at, Callback.id)
    if campaign_id is not None:
        query = query.where(Callback.campaign_id == campaign_id)
    if agent_id is not None:
        query = query.where(Callback.agent_id == agent_id)
    if status:
        query = query.where(Callback.status == status)
    async with session_factory() as session:
        return list(await session.scalars(query))


async def get_callback(session_factory: SessionFactory, callback_id: int) -> Callback:
    async with session_factory() as session:
        callback = await session.get(Callback, callback_id)
    if callback is None:
        raise NotFound(f"no callback {callback_id}")
    return callback


async def cancel_callback(session_factory: SessionFactory, callback_id: int) -> Callback:
    async with session_factory() as session, session.begin():
        callback = await session.get(Callback, callback_id)
        if callback is None:
            raise NotFound(f"no callback {callback_id}")
        if callback.status != CallbackStatus.PENDING:
            raise Conflict(f"callback {callback_id} is {callback.status}")
        callback.status = CallbackStatus.CANCELLED
        lead = await session.get(Lead, callback.lead_id)
        if lead is not None and lead.status == LeadStatus.CALLBACK:
            lead.status = LeadStatus.RETRY
    return callback
