"""`POST /v1/campaigns/{id}/pacing/what-if`: simulated occupancy and abandonment for a proposed
mode or target, starting from the campaign's stored settings and observed statistics."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.paging import DbId
from api.security import Ctx, Supervisor
from dialer.runtime.campaigns import pacer_config
from dialer.services import reports
from dialer.services.campaigns import get_campaign
from pacing.whatif import what_if

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])

# When the campaign has too little history to measure from.
DEFAULT_LIVE_ANSWER_RATE = 0.3
DEFAULT_TALK_SECONDS = 120.0
MIN_HISTORY_DIALS = 50


class WhatIfRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["predictive", "progressive", "ratio"] | None = None
    target_abandon_rate: float | None = Field(default=None, ge=0, le=0.5)
    ratio: float | None = Field(default=None, ge=1, le=20)
    agents: int = Field(default=10, ge=1, le=100)
    live_answer_rate: float | None = Field(default=None, ge=0.02, le=1)
    talk_mean_seconds: float | None = Field(default=None, ge=5, le=3600)
    hours: float = Field(default=0.5, gt=0, le=1)
    runs: int = Field(default=2, ge=1, le=3)


@router.post("/{campaign_id}/pacing/what-if")
async def pacing_what_if(
    ctx: Ctx, _: Supervisor, campaign_id: DbId, body: WhatIfRequest
) -> dict[str, Any]:
    campaign = await get_campaign(ctx.session_factory, campaign_id)
    [observed] = await reports.campaign_summary(ctx.session_factory, campaign_id)
    enough = observed["dials"] >= MIN_HISTORY_DIALS
    answer_rate = body.live_answer_rate or (
        max(0.02, observed["live_answers"] / observed["dials"]) if enough else None
    )
    talk = body.talk_mean_seconds or (
        observed["avg_talk_seconds"] if enough and observed["avg_talk_seconds"] >= 5 else None
    )
    pacing = dict(campaign.pacing or {})
    if body.target_abandon_rate is not None:
        pacing["target_abandon_rate"] = body.target_abandon_rate
    if body.ratio is not None:
        pacing["ratio"] = body.ratio
    config = pacer_config(body.mode or campaign.dial_mode, pacing)
    assumptions = {
        "mode": config.mode,
        "target_abandon_rate": config.target_abandon_rate,
        "ratio": config.ratio,
        "agents": body.agents,
        "live_answer_rate": answer_rate or DEFAULT_LIVE_ANSWER_RATE,
        "talk_mean_seconds": talk or DEFAULT_TALK_SECONDS,
        "from_history": {"live_answer_rate": answer_rate is not None, "talk": talk is not None},
        "hours": body.hours,
    }
    # CPU-bound simulation: off the event loop.
    result = await asyncio.to_thread(
        what_if,
        config,
        body.agents,
        assumptions["live_answer_rate"],
        assumptions["talk_mean_seconds"],
        hours=body.hours,
        runs=body.runs,
    )
    return {"assumptions": assumptions, "result": asdict(result)}
