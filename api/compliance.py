"""`POST /v1/compliance/check`: would the engine let this number be dialled, and why not."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.paging import DbId
from api.security import Ctx, Supervisor

router = APIRouter(prefix="/v1/compliance", tags=["compliance"])


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=3, max_length=32, examples=["+13055550123"])
    campaign_id: DbId
    at: AwareDatetime | None = None


class Reason(BaseModel):
    rule: str
    detail: str


class CheckResponse(BaseModel):
    allowed: bool
    reasons: list[Reason]
    next_allowed_at: datetime | None


@router.post("/check", response_model=CheckResponse)
async def check(ctx: Ctx, _: Supervisor, body: CheckRequest) -> Any:
    if ctx.compliance_check is None:
        raise HTTPException(503, "the compliance engine is not configured in this process")
    return await ctx.compliance_check(body.number, body.campaign_id, body.at)
