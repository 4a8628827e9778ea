"""The audit log, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from api.paging import Limit
from api.security import Admin, Ctx
from dialer.services.audit import list_audit

router = APIRouter(prefix="/v1/audit", tags=["auth"])


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]
    at: datetime


@router.get("", response_model=list[AuditOut])
async def read_audit(
    ctx: Ctx,
    _: Admin,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
) -> Any:
    return await list_audit(ctx.session_factory, action=action, limit=limit)
