"""Caller-ID health: the per-number report, the campaign's policy, and a supervisor's
manual rest / daily cap. The running dialer picks changes up within its refresh interval
(15 s) and re-evaluates owned campaigns every few minutes."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from api.paging import DbId
from api.security import Ctx, Supervisor
from dialer.db.types import utcnow
from dialer.runtime.caller_ids import day_bounds
from dialer.services import caller_ids as service

router = APIRouter(prefix="/v1/campaigns/{campaign_id}/caller-ids", tags=["caller IDs"])

CallerId = Annotated[str, Path(min_length=1, max_length=80)]


class PolicyIn(BaseModel):
    """Unset fields are left as they are."""

    model_config = ConfigDict(extra="forbid")

    auto_rest: bool | None = Field(default=None, description="rest suspect numbers by itself")
    window_hours: int | None = Field(default=None, ge=1, le=24 * 14)
    min_attempts: int | None = Field(default=None, ge=5, le=100_000)
    max_ratio: float | None = Field(default=None, gt=0, lt=1)
    min_z: float | None = Field(default=None, ge=0, le=20)
    rest_hours: int | None = Field(default=None, ge=1, le=24 * 90)
    daily_cap: int | None = Field(default=None, ge=0, le=1_000_000, description="0 = none")
    hard_caps: bool | None = Field(
        default=None, description="every number at its cap: stop dialing (else least used)"
    )


class PolicyOut(BaseModel):
    auto_rest: bool
    window_hours: int
    min_attempts: int
    max_ratio: float
    min_z: float
    rest_hours: int
    daily_cap: int
    hard_caps: bool


class NumberChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rest_hours: float | None = Field(default=None, gt=0, le=24 * 90)
    end_rest: bool = Field(
        default=False, description="back in rotation; older calls no longer judged"
    )
    clear_flag: bool = False
    daily_cap: int | None = Field(default=None, ge=0, le=1_000_000, description="0 = no cap")
    clear_daily_cap: bool = Field(default=False, description="use the policy's cap again")


class NumberStatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    caller_id: str
    flagged: bool
    flagged_at: datetime | None
    reason: str
    rested_until: datetime | None
    daily_cap: int | None


class NumberHealthOut(BaseModel):
    caller_id: str
    in_pool: bool
    attempts: int = Field(description="judged dials that reached a phone (since its last rest)")
    live: int
    rate: float | None = Field(description="live-answer rate")
    baseline: float | None = Field(description="the other numbers' live-answer rate")
    ratio: float | None
    z: float | None = Field(description="standard errors below the baseline")
    suspect: bool = Field(description="what the rule says now")
    assessment: str
    flagged: bool = Field(description="stored: probably labelled as spam")
    flagged_at: datetime | None
    reason: str
    rested_until: datetime | None
    resting: bool
    daily_cap: int
    dials_today: int
    available: bool = Field(description="in the rotation now (in the pool, not resting or capped)")


class CampaignRate(BaseModel):
    attempts: int
    live: int
    rate: float | None


class HealthReport(BaseModel):
    campaign_id: int
    evaluated_at: datetime
    window_start: datetime
    policy: PolicyOut
    campaign: CampaignRate
    numbers: list[NumberHealthOut]
    available: int = Field(description="numbers in the rotation now")
    newly_flagged: list[str]


def _report(evaluation: service.Evaluation) -> HealthReport:
    numbers = [NumberHealthOut(**asdict(n), available=n.available) for n in evaluation.numbers]
    return HealthReport(
        campaign_id=evaluation.campaign_id,
        evaluated_at=evaluation.evaluated_at,
        window_start=evaluation.window_start,
        policy=PolicyOut(**asdict(evaluation.policy)),
        campaign=CampaignRate(
            attempts=evaluation.campaign.attempts,
            live=evaluation.campaign.live,
            rate=evaluation.campaign.rate,
        ),
        numbers=numbers,
        available=sum(n.available for n in numbers),
        newly_flagged=evaluation.newly_flagged,
    )


def _day_start(ctx: Any, now: datetime) -> datetime:
    return day_bounds(now, ZoneInfo(ctx.settings.default_timezone))[0]


@router.get("/health", response_model=HealthReport)
async def caller_id_health(ctx: Ctx, _: Supervisor, campaign_id: DbId) -> HealthReport:
    """Each number's rolling live-answer rate against the other numbers', its flag, rest,
    daily cap and today's dials (across campaigns)."""
    now = utcnow()
    evaluation = await service.report(ctx.session_factory, campaign_id, now, _day_start(ctx, now))
    return _report(evaluation)


@router.post("/evaluate", response_model=HealthReport)
async def evaluate_now(ctx: Ctx, _: Supervisor, campaign_id: DbId) -> HealthReport:
    """Run the check now (the dialer runs it every few minutes): suspect numbers are
    flagged and, with auto-rest, rested."""
    now = utcnow()
    await service.evaluate_campaign(ctx.session_factory, campaign_id, now)
    evaluation = await service.report(ctx.session_factory, campaign_id, now, _day_start(ctx, now))
    return _report(evaluation)


@router.get("/policy", response_model=PolicyOut)
async def read_policy(ctx: Ctx, _: Supervisor, campaign_id: DbId) -> PolicyOut:
    return PolicyOut(**asdict(await service.get_policy(ctx.session_factory, campaign_id)))


@router.patch("/policy", response_model=PolicyOut)
async def change_policy(ctx: Ctx, who: Supervisor, campaign_id: DbId, body: PolicyIn) -> PolicyOut:
    policy = await service.update_policy(
        ctx.session_factory, campaign_id, body.model_dump(exclude_none=True), who.username
    )
    return PolicyOut(**asdict(policy))


@router.patch("/{caller_id}", response_model=NumberStatusOut)
async def change_number(
    ctx: Ctx, who: Supervisor, campaign_id: DbId, caller_id: CallerId, body: NumberChange
) -> Any:
    """Rest a number for some hours, end its rest, clear its flag, or set its daily cap."""
    return await service.update_number(
        ctx.session_factory,
        campaign_id,
        caller_id,
        utcnow(),
        rest_hours=body.rest_hours,
        end_rest=body.end_rest,
        clear_flag=body.clear_flag,
        daily_cap=body.daily_cap,
        clear_daily_cap=body.clear_daily_cap,
        actor=who.username,
    )
