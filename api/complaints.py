"""Complaints: intake with an SLA due date, updates, resolution."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.paging import BigDbId, DbId
from api.security import Ctx, Supervisor
from dialer.db.enums import ComplaintStatus
from dialer.services import complaints as service
from dialer.services.dnc import normalise

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])


class ComplaintCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=3, max_length=32)
    text: str = Field(default="", max_length=20_000)
    channel: str = Field(default="phone", max_length=32)
    campaign_id: DbId | None = None
    lead_id: BigDbId | None = None
    attempt_id: str | None = Field(default=None, max_length=64)
    received_at: AwareDatetime | None = None
    sla_hours: float = Field(default=72, gt=0, le=24 * 365)


class ComplaintUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ComplaintStatus | None = None
    text: str | None = Field(default=None, max_length=20_000)
    channel: str | None = Field(default=None, max_length=32)
    sla_due_at: AwareDatetime | None = None
    resolution: str | None = Field(default=None, max_length=20_000)


class ComplaintResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: str = Field(min_length=1, max_length=20_000)
    rejected: bool = False


class ComplaintOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    phone_e164: str
    campaign_id: DbId | None
    lead_id: BigDbId | None
    attempt_id: str | None
    received_at: datetime
    channel: str
    text: str
    sla_due_at: datetime | None
    status: str
    resolution: str
    resolved_at: datetime | None


@router.get("", response_model=list[ComplaintOut])
async def list_complaints(
    ctx: Ctx, _: Supervisor, status: ComplaintStatus | None = None, overdue: bool = False
) -> Any:
    return await service.list_complaints(ctx.session_factory, status=status, overdue=overdue)


@router.post("", response_model=ComplaintOut, status_code=201)
async def open_complaint(ctx: Ctx, who: Supervisor, body: ComplaintCreate) -> Any:
    return await service.open_complaint(
        ctx.session_factory,
        phone_e164=normalise(body.number, ctx.settings.default_region),
        text=body.text,
        actor=who.username,
        channel=body.channel,
        campaign_id=body.campaign_id,
        lead_id=body.lead_id,
        attempt_id=body.attempt_id,
        received_at=body.received_at,
        sla=timedelta(hours=body.sla_hours),
    )


@router.get("/{complaint_id}", response_model=ComplaintOut)
async def read_complaint(ctx: Ctx, _: Supervisor, complaint_id: DbId) -> Any:
    return await service.get_complaint(ctx.session_factory, complaint_id)


@router.patch("/{complaint_id}", response_model=ComplaintOut)
async def update_complaint(
    ctx: Ctx, who: Supervisor, complaint_id: DbId, body: ComplaintUpdate
) -> Any:
    fields = body.model_dump(exclude_none=True)
    return await service.update_complaint(ctx.session_factory, complaint_id, fields, who.username)


@router.post("/{complaint_id}/resolve", response_model=ComplaintOut)
async def resolve_complaint(
    ctx: Ctx, who: Supervisor, complaint_id: DbId, body: ComplaintResolve
) -> Any:
    return await service.resolve_complaint(
        ctx.session_factory, complaint_id, body.resolution, who.username, rejected=body.rejected
    )
