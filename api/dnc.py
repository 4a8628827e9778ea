"""The do-not-call list: add, remove, check, CSV import; every entry records who, when, why."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.paging import DbId, Limit, Offset
from api.security import Ctx, Supervisor
from dialer.services import dnc as service
from dialer.services.errors import Invalid

router = APIRouter(prefix="/v1/dnc", tags=["dnc"])

DNC_CSV_LIMIT_BYTES = 50 * 1024 * 1024


class DncAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=3, max_length=32)
    reason: str = Field(default="", max_length=200)
    campaign_id: DbId | None = None
    expires_at: AwareDatetime | None = None


class DncCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=3, max_length=32)
    campaign_id: DbId | None = None


class DncEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    scope: str
    campaign_id: DbId | None
    phone_e164: str | None
    number_hash: str
    reason: str
    source: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None


@router.get("", response_model=list[DncEntryOut])
async def list_entries(ctx: Ctx, _: Supervisor, offset: Offset = 0, limit: Limit = 100) -> Any:
    return await service.list_entries(ctx.session_factory, offset=offset, limit=limit)


@router.post("", response_model=DncEntryOut, status_code=201)
async def add_entry(ctx: Ctx, who: Supervisor, body: DncAdd) -> Any:
    return await service.add_entry(
        ctx.session_factory,
        body.number,
        default_region=ctx.settings.default_region,
        actor=who.username,
        reason=body.reason,
        campaign_id=body.campaign_id,
        expires_at=body.expires_at,
    )


@router.delete("/{entry_id}", status_code=204)
async def remove_entry(ctx: Ctx, _: Supervisor, entry_id: DbId) -> Response:
    await service.remove_entry(ctx.session_factory, entry_id)
    return Response(status_code=204)


@router.post("/check")
async def check_number(ctx: Ctx, _: Supervisor, body: DncCheck) -> dict[str, Any]:
    entries = await service.check_number(
        ctx.session_factory,
        body.number,
        default_region=ctx.settings.default_region,
        campaign_id=body.campaign_id,
    )
    return {
        "suppressed": bool(entries),
        "entries": [DncEntryOut.model_validate(e).model_dump(mode="json") for e in entries],
    }


@router.post("/import")
async def import_csv(
    ctx: Ctx,
    who: Supervisor,
    file: Annotated[UploadFile, File(description="CSV: number[,reason] per line")],
    reason: Annotated[str, Form(max_length=200)] = "",
    campaign_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    raw = await file.read(DNC_CSV_LIMIT_BYTES + 1)
    if len(raw) > DNC_CSV_LIMIT_BYTES:
        raise Invalid("DNC file larger than 50 MB: split it")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")
    report = await service.import_csv(
        ctx.session_factory,
        text,
        default_region=ctx.settings.default_region,
        actor=who.username,
        reason=reason,
        source=f"csv import: {file.filename or ''}"[:200],
        campaign_id=campaign_id,
    )
    return {"added": report.added, "invalid": report.invalid, "invalid_rows": report.invalid_rows}
