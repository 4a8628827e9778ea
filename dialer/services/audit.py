"""Audit trail: exports, recording reads and settings changes are written to `audit_log`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.db.engine import SessionFactory
from dialer.db.models import AuditLog


def add_audit(
    session: AsyncSession,
    actor: str,
    action: str,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit row inside the caller's transaction, so it commits with the change."""
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=detail or {},
        )
    )


async def record_audit(
    session_factory: SessionFactory,
    actor: str,
    action: str,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one audit row in its own transaction (for reads such as exports)."""
    async with session_factory() as session, session.begin():
        add_audit(session, actor, action, object_type, object_id, detail)


async def list_audit(
    session_factory: SessionFactory, *, action: str | None = None, limit: int = 100
) -> list[AuditLog]:
    async with session_factory() as session:
        query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
        if action:
            query = query.where(AuditLog.action == action)
        return list(await session.scalars(query))
