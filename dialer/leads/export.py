"""Export a campaign's leads or call attempts as CSV or XLSX, streamed from the database.

CSV is UTF-8 with a BOM so Excel shows Chinese correctly. In the leads export, the columns the
dialer owns are prefixed with `#`; the importer ignores those, so an export imports back as
phone, name, priority and the custom fields.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.db.engine import SessionFactory
from dialer.db.models import CallAttempt, Lead

STREAM_ROWS = 2_000


class ExportKind(StrEnum):
    LEADS = "leads"
    ATTEMPTS = "attempts"


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


_LEAD_HEAD = ("phone", "name", "priority")
_LEAD_TAIL = (
    "#lead_id",
    "#phone_raw",
    "#status",
    "#attempts",
    "#last_attempt_at",
    "#next_call_at",
    "#last_disposition",
    "#region",
    "#timezones",
    "#list_id",
    "#created_at",
)
_ATTEMPT_COLUMNS = tuple(column.name for column in CallAttempt.__table__.columns)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


async def _custom_keys(session: AsyncSession, campaign_id: int) -> list[str]:
    """Every custom field name used by the campaign's leads (sorted)."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        query = text(
            "SELECT DISTINCT json_object_keys(custom_fields) FROM leads "
            "WHERE campaign_id = :campaign_id"
        )
    else:
        query = text(
            "SELECT DISTINCT j.key FROM leads, json_each(leads.custom_fields) AS j "
            "WHERE leads.campaign_id = :campaign_id"
        )
    keys = (await session.scalars(query, {"campaign_id": campaign_id})).all()
    return sorted(str(key) for key in keys)


async def _stream(session: AsyncSession, statement: Select[Any]) -> AsyncIterator[Sequence[Any]]:
    """Rows in partitions; plain column rows, so nothing accumulates in the identity map."""
    result = await session.stream(statement.execution_options(yield_per=STREAM_ROWS))
    async for partition in result.partitions():
        yield partition


async def _lead_rows(
    session: AsyncSession, campaign_id: int, custom_keys: list[str]
) -> AsyncIterator[list[Any]]:
    leads_table = Lead.__table__
    statement = (
        select(*leads_table.columns)
        .where(leads_table.c.campaign_id == campaign_id)
        .order_by(leads_table.c.id)
    )
    async for leads in _stream(session, statement):
        for lead in leads:
            custom = lead.custom_fields or {}
            yield [
                lead.phone_e164,
                lead.name,
                lead.priority,
                *(custom.get(key, "") for key in custom_keys),
                lead.id,
                lead.phone_raw,
                lead.status,
                lead.attempt_count,
                _cell(lead.last_attempt_at),
                _cell(lead.next_call_at),
                lead.last_disposition or "",
                lead.region,
                "|".join(lead.timezones or []),
                lead.list_id or "",
                _cell(lead.created_at),
            ]


async def _attempt_rows(session: AsyncSession, campaign_id: int) -> AsyncIterator[list[Any]]:
    attempts_table = CallAttempt.__table__
    statement = (
        select(*attempts_table.columns)
        .where(attempts_table.c.campaign_id == campaign_id)
        .order_by(attempts_table.c.originate_at, attempts_table.c.id)
    )
    async for attempts in _stream(session, statement):
        for attempt in attempts:
            yield [_cell(value) for value in attempt]


async def _write_csv(
    destination: IO[bytes], header: list[str], rows: AsyncIterator[list[Any]]
) -> int:
    handle = io.TextIOWrapper(destination, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
    try:
        writer = csv.writer(handle)
        writer.writerow(header)
        count = 0
        async for row in rows:
            writer.writerow(row)
            count += 1
        handle.flush()
    finally:
        handle.detach()  # the caller owns the stream
    return count


async def _write_xlsx(
    destination: IO[bytes], sheet_name: str, header: list[str], rows: AsyncIterator[list[Any]]
) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append(header)
    count = 0
    async for row in rows:
        # Empty cells are left out of the sheet entirely (openpyxl's writer is the bottleneck).
        sheet.append([None if value == "" else value for value in row])
        count += 1
    workbook.save(destination)
    return count


async def export_campaign(
    session_factory: SessionFactory,
    campaign_id: int,
    destination: Path | IO[bytes],
    *,
    kind: ExportKind | str = ExportKind.LEADS,
    fmt: ExportFormat | str = ExportFormat.CSV,
) -> int:
    """Write the campaign's leads or attempts to `destination`; return the number of rows."""
    kind = ExportKind(kind)
    fmt = ExportFormat(fmt)
    if isinstance(destination, Path):
        with destination.open("wb") as handle:
            return await export_campaign(session_factory, campaign_id, handle, kind=kind, fmt=fmt)
    async with session_factory() as session:
        if kind is ExportKind.LEADS:
            custom_keys = await _custom_keys(session, campaign_id)
            header = [*_LEAD_HEAD, *custom_keys, *_LEAD_TAIL]
            rows = _lead_rows(session, campaign_id, custom_keys)
        else:
            header = list(_ATTEMPT_COLUMNS)
            rows = _attempt_rows(session, campaign_id)
        if fmt is ExportFormat.CSV:
            return await _write_csv(destination, header, rows)
        return await _write_xlsx(destination, kind.value, header, rows)
