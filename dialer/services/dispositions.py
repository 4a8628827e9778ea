"""Disposition codes: the global set plus each campaign's own codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from dialer.db.engine import SessionFactory
from dialer.db.models import Disposition
from dialer.services.errors import Conflict, Invalid, NotFound

FIELDS = {
    "campaign_id",
    "code",
    "label",
    "dtmf",
    "human_answered",
    "success",
    "final",
    "callback",
    "dnc",
    "refusal",
    "complaint",
    "system",
    "sort_order",
}


async def list_dispositions(
    session_factory: SessionFactory, campaign_id: int | None = None, *, agent_only: bool = False
) -> list[Disposition]:
    """Global codes, plus the campaign's when one is given; `agent_only` drops system codes."""
    query = select(Disposition).order_by(Disposition.sort_order, Disposition.id)
    if campaign_id is None:
        query = query.where(Disposition.campaign_id.is_(None))
    else:
        query = query.where(
            or_(Disposition.campaign_id.is_(None), Disposition.campaign_id == campaign_id)
        )
    if agent_only:
        query = query.where(Disposition.system.is_(False))
    async with session_factory() as session:
        return list(await session.scalars(query))


async def _code_taken(session: Any, campaign_id: int | None, code: str, other: int | None) -> bool:
    query = select(Disposition.id).where(Disposition.code == code)
    query = query.where(
        Disposition.campaign_id.is_(None)
        if campaign_id is None
        else Disposition.campaign_id == campaign_id
    )
    if other is not None:
        query = query.where(Disposition.id != other)
    return await session.scalar(query) is not None


async def create_disposition(
    session_factory: SessionFactory, fields: dict[str, Any]
) -> Disposition:
    unknown = set(fields) - FIELDS
    if unknown:
        raise Invalid(f"unknown disposition fields: {sorted(unknown)}")
    async with session_factory() as session, session.begin():
        if await _code_taken(session, fields.get("campaign_id"), fields["code"], None):
            raise Conflict(f"disposition code {fields['code']!r} exists already")
        disposition = Disposition(**fields)
        session.add(disposition)
        await session.flush()
    return disposition


async def update_disposition(
    session_factory: SessionFactory, disposition_id: int, fields: dict[str, Any]
) -> Disposition:
    unknown = set(fields) - (FIELDS - {"campaign_id"})
    if unknown:
        raise Invalid(f"these disposition fields cannot be changed: {sorted(unknown)}")
    async with session_factory() as session, session.begin():
        disposition = await session.get(Disposition, disposition_id)
        if disposition is None:
            raise NotFound(f"no disposition {disposition_id}")
        if "code" in fields and await _code_taken(
            session, disposition.campaign_id, fields["code"], disposition_id
        ):
            raise Conflict(f"disposition code {fields['code']!r} exists already")
        for key, value in fields.items():
            setattr(disposition, key, value)
    return disposition


async def delete_disposition(session_factory: SessionFactory, disposition_id: int) -> None:
    async with session_factory() as session, session.begin():
        disposition = await session.get(Disposition, disposition_id)
        if disposition is None:
            raise NotFound(f"no disposition {disposition_id}")
        await session.delete(disposition)
