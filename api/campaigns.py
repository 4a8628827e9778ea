"""Campaigns: CRUD, clone, start/pause/stop and live pacing settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.paging import DbId, Limit, Offset
from api.security import Ctx, Supervisor
from dialer.db.enums import CampaignStatus, DialMode, MachineAction, RecordingMode
from dialer.runtime.inbound import normalise_did
from dialer.services import campaigns as service

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


class InboundSettingsIn(BaseModel):
    """Inbound blending: the numbers (DIDs) this campaign answers and how callers queue."""

    model_config = ConfigDict(extra="forbid")

    dids: list[str] = Field(default_factory=list, max_length=200)
    reserved_agents: int | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="ready agents kept from outbound for callers; null: the callers expected "
        "within an outbound call's ring time (from the last 15 minutes' arrivals)",
    )
    max_wait_s: float = Field(default=60.0, ge=5, le=600)
    service_level_s: float = Field(default=15.0, ge=1, le=300)
    overflow_message: str = Field(
        default="dialer-inbound-overflow", pattern=r"^[A-Za-z0-9_./&:-]+$", max_length=200
    )
    closed_message: str = Field(
        default="dialer-inbound-closed", pattern=r"^[A-Za-z0-9_./&:-]+$", max_length=200
    )

    @field_validator("dids")
    @classmethod
    def _numbers(cls, dids: list[str]) -> list[str]:
        try:
            out = [normalise_did(d) for d in dids]
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        if len(set(out)) != len(out):
            raise ValueError("a number is listed twice")
        return out


class CampaignFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=10_000)
    dial_mode: DialMode | None = None
    pacing: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    caller_id_pool: list[str] | None = None
    caller_id_name: str | None = Field(default=None, max_length=80)
    script_text: str | None = Field(default=None, max_length=100_000)
    amd_enabled: bool | None = None
    amd_machine_action: MachineAction | None = None
    voicemail_message: str | None = Field(default=None, max_length=200)
    safe_harbor_message: str | None = Field(default=None, max_length=200)
    retry_rules: dict[str, Any] | None = None
    compliance_profile: list[str] | None = None
    trunk: str | None = Field(default=None, max_length=80)
    asterisk_server: str | None = Field(default=None, max_length=80)
    recording_mode: RecordingMode | None = None
    wrapup_timeout_s: int | None = Field(default=None, ge=0, le=3600)
    max_attempts: int | None = Field(default=None, ge=1, le=100)
    inbound: InboundSettingsIn | None = None


class CampaignCreate(CampaignFields):
    name: str = Field(min_length=1, max_length=200)


class CampaignUpdate(CampaignFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    dial_mode: str
    status: str
    pacing: dict[str, Any]
    schedule: dict[str, Any]
    caller_id_pool: list[str]
    caller_id_name: str
    script_text: str
    amd_enabled: bool
    amd_machine_action: str
    voicemail_message: str
    safe_harbor_message: str
    retry_rules: dict[str, Any]
    compliance_profile: list[str]
    trunk: str
    asterisk_server: str
    recording_mode: str
    wrapup_timeout_s: int
    max_attempts: int
    inbound: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    total: int


class CloneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class PacingSettings(BaseModel):
    """Live pacing knobs; unset fields are left as they are."""

    model_config = ConfigDict(extra="forbid")

    mode: DialMode | None = None
    target_abandon_rate: float | None = Field(default=None, ge=0, le=0.5)
    ratio: float | None = Field(default=None, ge=1, le=20)
    max_lines_per_agent: float | None = Field(default=None, ge=1, le=20)
    max_calls_per_second: float | None = Field(default=None, gt=0, le=1000)
    max_dials_per_agent_day: int | None = Field(default=None, ge=1, le=100_000)


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


async def _notify(ctx: Any, campaign_id: DbId) -> None:
    if ctx.runtime is not None:
        await ctx.runtime.campaign_changed(campaign_id)


@router.get("", response_model=CampaignPage)
async def list_campaigns(
    ctx: Ctx,
    _: Supervisor,
    status: CampaignStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> CampaignPage:
    items, total = await service.list_campaigns(
        ctx.session_factory, status=status, offset=offset, limit=limit
    )
    return CampaignPage(items=[CampaignOut.model_validate(c) for c in items], total=total)


@router.post("", response_model=CampaignOut, status_code=201)
async def create_campaign(ctx: Ctx, _: Supervisor, body: CampaignCreate) -> Any:
    return await service.create_campaign(ctx.session_factory, _dump(body))


@router.get("/{campaign_id}", response_model=CampaignOut)
async def read_campaign(ctx: Ctx, _: Supervisor, campaign_id: DbId) -> Any:
    return await service.get_campaign(ctx.session_factory, campaign_id)


@router.patch("/{campaign_id}", response_model=CampaignOut)
async def update_campaign(ctx: Ctx, _: Supervisor, campaign_id: DbId, body: CampaignUpdate) -> Any:
    campaign = await service.update_campaign(ctx.session_factory, campaign_id, _dump(body))
    await _notify(ctx, campaign_id)
    return campaign


@router.post("/{campaign_id}/clone", response_model=CampaignOut, status_code=201)
async def clone_campaign(ctx: Ctx, _: Supervisor, campaign_id: DbId, body: CloneRequest) -> Any:
    return await service.clone_campaign(ctx.session_factory, campaign_id, body.name)


@router.post("/{campaign_id}/{action}", response_model=CampaignOut)
async def change_status(
    ctx: Ctx, who: Supervisor, campaign_id: DbId, action: Literal["start", "pause", "stop"]
) -> Any:
    campaign = await service.change_status(ctx.session_factory, campaign_id, action, who.username)
    await _notify(ctx, campaign_id)
    return campaign


@router.get("/{campaign_id}/pacing")
async def read_pacing(ctx: Ctx, _: Supervisor, campaign_id: DbId) -> dict[str, Any]:
    campaign = await service.get_campaign(ctx.session_factory, campaign_id)
    live = ctx.runtime.campaign_stats(campaign_id) if ctx.runtime is not None else None
    return {"settings": service.pacing_view(campaign), "live": live}


@router.patch("/{campaign_id}/pacing")
async def change_pacing(
    ctx: Ctx, who: Supervisor, campaign_id: DbId, body: PacingSettings
) -> dict[str, Any]:
    changes = _dump(body)
    if not changes:
        raise HTTPException(422, "no pacing setting given")
    settings = await service.patch_pacing(ctx.session_factory, campaign_id, changes, who.username)
    await _notify(ctx, campaign_id)
    return {"settings": settings}
