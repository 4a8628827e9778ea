"""Lead and attempt exports (CSV/XLSX), written to a temporary file and streamed back.
Every export is audited; an attempts export also counts as a read of recording paths."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import FileResponse

from api.paging import DbId
from api.security import Ctx, Supervisor
from api.tables import XLSX_TYPE
from dialer.leads.export import ExportFormat, ExportKind, export_campaign
from dialer.services.audit import record_audit
from dialer.services.campaigns import get_campaign

router = APIRouter(prefix="/v1/campaigns", tags=["leads"])


@router.get("/{campaign_id}/export", response_class=FileResponse)
async def export(
    ctx: Ctx,
    who: Supervisor,
    campaign_id: DbId,
    cleanup: BackgroundTasks,
    kind: ExportKind = ExportKind.LEADS,
    fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.CSV,
) -> FileResponse:
    await get_campaign(ctx.session_factory, campaign_id)  # 404 before any work
    handle, path = tempfile.mkstemp(suffix=f".{fmt.value}")
    cleanup.add_task(os.unlink, path)
    with os.fdopen(handle, "wb") as destination:
        rows = await export_campaign(
            ctx.session_factory, campaign_id, destination, kind=kind, fmt=fmt
        )
    detail = {"kind": kind.value, "format": fmt.value, "rows": rows}
    await record_audit(ctx.session_factory, who.username, "export", "campaign", campaign_id, detail)
    if kind is ExportKind.ATTEMPTS:
        await record_audit(
            ctx.session_factory, who.username, "recording.read", "campaign", campaign_id, detail
        )
    media_type = XLSX_TYPE if fmt is ExportFormat.XLSX else "text/csv; charset=utf-8"
    return FileResponse(
        path, media_type=media_type, filename=f"campaign-{campaign_id}-{kind.value}.{fmt.value}"
    )
