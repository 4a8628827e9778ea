"""Scheduled callbacks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.paging import BigDbId, DbId
from api.security import AnyUser, Ctx, Supervisor
from dialer.db.enums import CallbackStatus, Role
from dialer.services import callbacks as service

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])


class CallbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead_id: BigDbId
    due_at: AwareDatetime
    agent_id: DbId | None = None
    note: str = Field(default="", max_length=5_000)


class CallbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    lead_id: BigDbId
    campaign_id: DbId
    agent_id: DbId | None
    due_at: AwareDatetime
    status: str
    note: str
    created_at: datetime


@router.get("", response_model=list[CallbackOut])
async def list_callbacks(
    ctx: Ctx,
    who: AnyUser,
    campaign_id: DbId | None = None,
    agent_id: DbId | None = None,
    status: CallbackStatus | None = None,
) -> Any:
    """Agents see only their own callbacks."""
    if who.role == Role.AGENT:
        agent_id = who.agent_id
    return await service.list_callbacks(
        ctx.session_factory, campaign_id=campaign_id, agent_id=agent_id, status=status
    )


@router.post("", response_model=CallbackOut, status_code=201)
async def create_callback(ctx: Ctx, _: Supervisor, body: CallbackCreate) -> Any:
    return await service.create_callback(
        ctx.session_factory, body.lead_id, body.due_at, agent_id=body.agent_id, note=body.note
    )


@router.post("/{callback_id}/cancel", response_model=CallbackOut)
async def cancel_callback(ctx: Ctx, _: Supervisor, callback_id: DbId) -> Any:
    return await service.cancel_callback(ctx.session_factory, callback_id)
