"""Disposition codes configuration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from api.paging import DbId
from api.security import Admin, AnyUser, Ctx
from dialer.services import dispositions as service

router = APIRouter(prefix="/v1/dispositions", tags=["dispositions"])


class DispositionFlags(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(default=None, min_length=1, max_length=100)
    dtmf: str | None = Field(default=None, pattern=r"^[0-9*#]{1,4}$")
    human_answered: bool | None = None
    success: bool | None = None
    final: bool | None = None
    callback: bool | None = None
    dnc: bool | None = None
    refusal: bool | None = None
    complaint: bool | None = None
    system: bool | None = None
    sort_order: int | None = Field(default=None, ge=-100_000, le=100_000)


class DispositionCreate(DispositionFlags):
    campaign_id: DbId | None = None
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9_]+$")
    label: str = Field(min_length=1, max_length=100)


class DispositionUpdate(DispositionFlags):
    code: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[A-Z0-9_]+$")


class DispositionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: DbId | None
    code: str
    label: str
    dtmf: str | None
    human_answered: bool
    success: bool
    final: bool
    callback: bool
    dnc: bool
    refusal: bool
    complaint: bool
    system: bool
    sort_order: int


@router.get("", response_model=list[DispositionOut])
async def list_dispositions(ctx: Ctx, _: AnyUser, campaign_id: DbId | None = None) -> Any:
    return await service.list_dispositions(ctx.session_factory, campaign_id)


@router.post("", response_model=DispositionOut, status_code=201)
async def create_disposition(ctx: Ctx, _: Admin, body: DispositionCreate) -> Any:
    return await service.create_disposition(ctx.session_factory, body.model_dump(exclude_none=True))


@router.patch("/{disposition_id}", response_model=DispositionOut)
async def update_disposition(
    ctx: Ctx, _: Admin, disposition_id: DbId, body: DispositionUpdate
) -> Any:
    fields = body.model_dump(exclude_none=True)
    return await service.update_disposition(ctx.session_factory, disposition_id, fields)


@router.delete("/{disposition_id}", status_code=204)
async def delete_disposition(ctx: Ctx, _: Admin, disposition_id: DbId) -> Response:
    await service.delete_disposition(ctx.session_factory, disposition_id)
    return Response(status_code=204)
