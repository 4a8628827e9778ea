"""Reports as JSON, CSV or XLSX (`?format=`); every CSV/XLSX export is audited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.paging import DbId, Since, Until
from api.security import Ctx, Supervisor
from api.tables import TableFormat, table_response
from dialer.services import pdf_reports
from dialer.services import reports as service
from dialer.services.audit import record_audit
from dialer.services.users import Principal

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Format = Annotated[TableFormat, Query(alias="format")]


async def _answer(
    ctx: Any,
    who: Principal,
    name: str,
    fmt: TableFormat,
    compute: Callable[[], Awaitable[list[dict[str, Any]]]],
    detail: dict[str, Any],
) -> Response:
    rows = await compute()
    if fmt != TableFormat.JSON:
        await record_audit(
            ctx.session_factory,
            who.username,
            "report.export",
            "report",
            name,
            {"format": fmt.value, "rows": len(rows), **detail},
        )
    return table_response(rows, fmt, name)


def _window(since: Any, until: Any) -> dict[str, Any]:
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }


@router.get("/campaigns/{campaign_id}/summary")
async def campaign_summary(
    ctx: Ctx,
    who: Supervisor,
    campaign_id: DbId,
    since: Since = None,
    until: Until = None,
    fmt: Format = TableFormat.JSON,
) -> Response:
    return await _answer(
        ctx,
        who,
        f"campaign-{campaign_id}-summary",
        fmt,
        lambda: service.campaign_summary(ctx.session_factory, campaign_id, since, until),
        {"campaign_id": campaign_id, **_window(since, until)},
    )


@router.get("/campaigns/{campaign_id}/inbound")
async def inbound_summary(
    ctx: Ctx,
    who: Supervisor,
    campaign_id: DbId,
    since: Since = None,
    until: Until = None,
    fmt: Format = TableFormat.JSON,
) -> Response:
    """Calls to the campaign's numbers and the inbound service level (blended campaigns)."""
    return await _answer(
        ctx,
        who,
        f"campaign-{campaign_id}-inbound",
        fmt,
        lambda: service.inbound_summary(ctx.session_factory, campaign_id, since, until),
        {"campaign_id": campaign_id, **_window(since, until)},
    )


@router.get("/campaigns/{campaign_id}/hourly")
async def hourly(
    ctx: Ctx,
    who: Supervisor,
    campaign_id: DbId,
    since: Since = None,
    until: Until = None,
    fmt: Format = TableFormat.JSON,
) -> Response:
    return await _answer(
        ctx,
        who,
        f"campaign-{campaign_id}-hourly",
        fmt,
        lambda: service.hourly(ctx.session_factory, campaign_id, since, until),
        {"campaign_id": campaign_id, **_window(since, until)},
    )


@router.get("/campaigns/{campaign_id}/dispositions")
async def dispositions(
    ctx: Ctx,
    who: Supervisor,
    campaign_id: DbId,
    since: Since = None,
    until: Until = None,
    fmt: Format = TableFormat.JSON,
) -> Response:
    return await _answer(
        ctx,
        who,
        f"campaign-{campaign_id}-dispositions",
        fmt,
        lambda: service.dispositions(ctx.session_factory, campaign_id, since, until),
        {"campaign_id": campaign_id, **_window(since, until)},
    )


@router.get("/campaigns/{campaign_id}/blocked")
async def blocked_by_rule(
    ctx: Ctx,
    who: Supervisor,
    campaign_id: DbId,
    since: Since = None,
    until: Until = None,
    fmt: Format = TableFormat.JSON,
) -> Response:
    return await _answer(
        ctx,
        who,
        f"campaign-{campaign_id}-blocked",
        fmt,
        lambda: service.blocked_by_rule(ctx.session_factory, campaign_id, since, until),
        {"campaign_id": campaign_id, **_window(since, until)},
    )


@router.get("/agents")
async def agent_performance(
    ctx: Ctx,
    who: Supervisor,
    campaign_id: DbId | None = None,
    since: Since = None,
    until: Until = None,
    daily_cap: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    fmt: Format = TableFormat.JSON,
) -> Response:
    return await _answer(
        ctx,
        who,
        "agents",
        fmt,
        lambda: service.agent_performance(
            ctx.session_factory, campaign_id, since, until, daily_cap=daily_cap
        ),
        {"campaign_id": campaign_id, **_window(since, until)},
    )


@router.get(
    "/campaigns/{campaign_id}/daily.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the PDF report"}},
)
async def daily_pdf(
    ctx: Ctx,
    who: Supervisor,
    campaign_id: DbId,
    day: Annotated[
        date | None,
        Query(description="the call centre's calendar day (default: today in its time zone)"),
    ] = None,
) -> Response:
    """The daily campaign report as PDF: KPIs, abandonment per window, hourly and disposition
    charts, and the agent performance table. Audited like the CSV/XLSX exports."""
    zone = ctx.settings.default_timezone
    day = day or datetime.now(ZoneInfo(zone)).date()
    report = await pdf_reports.daily_report(ctx.session_factory, campaign_id, day, zone)
    pdf = await asyncio.to_thread(pdf_reports.render_daily_pdf, report)
    name = f"campaign-{campaign_id}-daily-{day.isoformat()}"
    await record_audit(
        ctx.session_factory,
        who.username,
        "report.export",
        "report",
        name,
        {
            "format": "pdf",
            "campaign_id": campaign_id,
            "day": day.isoformat(),
            "agents": len(report.agents),
            "bytes": len(pdf),
        },
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )
