"""Leads: upload (CSV/XLSX), list, read, update, erasure and call history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.paging import BigDbId, DbId, Limit, Offset
from api.security import Ctx, Supervisor
from dialer.db.enums import LeadStatus
from dialer.leads.importer import import_leads
from dialer.services import leads as service
from dialer.services.audit import record_audit
from dialer.services.errors import NotFound

router = APIRouter(prefix="/v1/leads", tags=["leads"])

UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")


class LeadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: DbId
    list_id: DbId | None
    phone_e164: str
    name: str
    custom_fields: dict[str, Any]
    timezones: list[str]
    region: str
    status: str
    attempt_count: int
    last_attempt_at: datetime | None
    next_call_at: datetime | None
    priority: int
    last_disposition: str | None
    created_at: datetime


class LeadPage(BaseModel):
    items: list[LeadOut]
    total: int


class LeadUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    custom_fields: dict[str, Any] | None = None
    status: LeadStatus | None = None
    priority: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    next_call_at: AwareDatetime | None = None
    timezones: list[str] | None = None


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    campaign_id: DbId
    agent_id: DbId | None
    originate_at: datetime
    answer_at: datetime | None
    connect_at: datetime | None
    end_at: datetime | None
    outcome: str | None
    abandoned: bool
    disposition: str | None
    notes: str
    recording_path: str | None
    terminal_state: str | None


class ErasureOut(BaseModel):
    erased_lead_id: int
    suppression_hash: str


@router.post("/upload")
async def upload_leads(
    ctx: Ctx,
    who: Supervisor,
    campaign_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    file: Annotated[UploadFile, File(description="CSV or XLSX lead file")],
) -> dict[str, Any]:
    """The body is spooled to a temporary file while it arrives, then imported in batches."""
    filename = file.filename or "upload.csv"
    if not filename.lower().endswith(UPLOAD_SUFFIXES):
        raise HTTPException(422, f"file must be one of {', '.join(UPLOAD_SUFFIXES)}")
    try:
        report = await import_leads(
            ctx.session_factory,
            campaign_id,
            file.file,
            filename=filename,
            default_region=ctx.settings.default_region,
        )
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    finally:
        await file.close()
    await record_audit(
        ctx.session_factory,
        who.username,
        "leads.import",
        "campaign",
        campaign_id,
        {"filename": filename, "imported": report.imported, "list_id": report.list_id},
    )
    return report.to_dict()


@router.get("", response_model=LeadPage)
async def list_leads(
    ctx: Ctx,
    _: Supervisor,
    campaign_id: DbId | None = None,
    status: LeadStatus | None = None,
    phone: Annotated[str | None, Query(max_length=20)] = None,
    list_id: DbId | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> LeadPage:
    items, total = await service.list_leads(
        ctx.session_factory,
        campaign_id=campaign_id,
        status=status,
        phone=phone,
        list_id=list_id,
        offset=offset,
        limit=limit,
    )
    return LeadPage(items=[LeadOut.model_validate(x) for x in items], total=total)


@router.get("/{lead_id}", response_model=LeadOut)
async def read_lead(ctx: Ctx, _: Supervisor, lead_id: BigDbId) -> Any:
    return await service.get_lead(ctx.session_factory, lead_id)


@router.patch("/{lead_id}", response_model=LeadOut)
async def update_lead(ctx: Ctx, _: Supervisor, lead_id: BigDbId, body: LeadUpdate) -> Any:
    fields = body.model_dump(exclude_unset=True)
    return await service.update_lead(ctx.session_factory, lead_id, fields)


@router.delete("/{lead_id}", response_model=ErasureOut)
async def erase_lead(ctx: Ctx, who: Supervisor, lead_id: BigDbId, reason: str = "") -> ErasureOut:
    """Erasure (GDPR/PIPL): personal data goes, the number's hash stays on the DNC list."""
    digest = await service.erase_lead(ctx.session_factory, lead_id, who.username, reason[:200])
    return ErasureOut(erased_lead_id=lead_id, suppression_hash=digest)


@router.get("/{lead_id}/history", response_model=list[AttemptOut])
async def lead_history(ctx: Ctx, who: Supervisor, lead_id: BigDbId) -> Any:
    attempts = await service.lead_history(ctx.session_factory, lead_id)
    recordings = [a.id for a in attempts if a.recording_path]
    if recordings:
        await record_audit(
            ctx.session_factory,
            who.username,
            "recording.read",
            "lead",
            lead_id,
            {"attempts": recordings},
        )
    return attempts
