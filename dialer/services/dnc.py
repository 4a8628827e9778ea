"""The do-not-call list: add, remove, check and import, each entry saying who, when and why."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update

from dialer.db.engine import SessionFactory
from dialer.db.enums import LeadStatus, SuppressionScope
from dialer.db.hashing import number_hash
from dialer.db.models import Lead, SuppressionEntry
from dialer.db.types import utcnow
from dialer.leads.phone import InvalidNumber, parse_number
from dialer.services.errors import Invalid, NotFound


def normalise(number: str, default_region: str) -> str:
    try:
        return parse_number(number, default_region).e164
    except InvalidNumber as exc:
        raise Invalid(f"not a valid phone number: {number!r} ({exc})") from exc


def _active(now: datetime) -> Any:
    return or_(SuppressionEntry.expires_at.is_(None), SuppressionEntry.expires_at > now)


async def add_entry(
    session_factory: SessionFactory,
    number: str,
    *,
    default_region: str,
    actor: str,
    reason: str = "",
    source: str = "api",
    campaign_id: int | None = None,
    expires_at: datetime | None = None,
) -> SuppressionEntry:
    """Suppress a number (company-wide, or for one campaign); its pending leads become `dnc`."""
    e164 = normalise(number, default_region)
    scope = SuppressionScope.CAMPAIGN if campaign_id is not None else SuppressionScope.COMPANY
    async with session_factory() as session, session.begin():
        entry = SuppressionEntry(
            scope=scope,
            campaign_id=campaign_id,
            phone_e164=e164,
            number_hash=number_hash(e164),
            reason=reason,
            source=source,
            created_by=actor,
            expires_at=expires_at,
        )
        session.add(entry)
        leads = update(Lead).where(Lead.phone_e164 == e164).values(status=LeadStatus.DNC)
        if campaign_id is not None:
            leads = leads.where(Lead.campaign_id == campaign_id)
        await session.execute(leads)
        await session.flush()
    return entry


async def remove_entry(session_factory: SessionFactory, entry_id: int) -> None:
    async with session_factory() as session, session.begin():
        result = await session.execute(
            delete(SuppressionEntry).where(SuppressionEntry.id == entry_id)
        )
        if result.rowcount == 0:
            raise NotFound(f"no DNC entry {entry_id}")


async def list_entries(
    session_factory: SessionFactory, *, offset: int = 0, limit: int = 100
) -> list[SuppressionEntry]:
    async with session_factory() as session:
        rows = await session.scalars(
            select(SuppressionEntry).order_by(SuppressionEntry.id).offset(offset).limit(limit)
        )
        return list(rows)


async def check_number(
    session_factory: SessionFactory,
    number: str,
    *,
    default_region: str,
    campaign_id: int | None = None,
) -> list[SuppressionEntry]:
    """The active entries that suppress this number (for the campaign, when given)."""
    e164 = normalise(number, default_region)
    scope = SuppressionEntry.scope != SuppressionScope.CAMPAIGN
    if campaign_id is not None:
        scope = or_(scope, SuppressionEntry.campaign_id == campaign_id)
    async with session_factory() as session:
        rows = await session.scalars(
            select(SuppressionEntry).where(
                and_(SuppressionEntry.number_hash == number_hash(e164), _active(utcnow()), scope)
            )
        )
        return list(rows)


@dataclass
class DncImportReport:
    added: int = 0
    invalid: int = 0
    invalid_rows: list[dict[str, Any]] = field(default_factory=list)


async def import_csv(
    session_factory: SessionFactory,
    text: str,
    *,
    default_region: str,
    actor: str,
    reason: str = "",
    source: str = "csv import",
    campaign_id: int | None = None,
) -> DncImportReport:
    """One number per row (first column; a header row is skipped when not a number)."""
    report = DncImportReport()
    scope = SuppressionScope.CAMPAIGN if campaign_id is not None else SuppressionScope.COMPANY
    entries: list[SuppressionEntry] = []
    for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not row[0].strip():
            continue
        try:
            e164 = parse_number(row[0], default_region).e164
        except InvalidNumber as exc:
            if line_no == 1:
                continue  # a header
            report.invalid += 1
            if len(report.invalid_rows) < 100:
                report.invalid_rows.append({"line": line_no, "value": row[0], "error": str(exc)})
            continue
        entries.append(
            SuppressionEntry(
                scope=scope,
                campaign_id=campaign_id,
                phone_e164=e164,
                number_hash=number_hash(e164),
                reason=row[1].strip() if len(row) > 1 and row[1].strip() else reason,
                source=source,
                created_by=actor,
            )
        )
    async with session_factory() as session, session.begin():
        session.add_all(entries)
        numbers = [e.phone_e164 for e in entries]
        for start in range(0, len(numbers), 500):
            leads = update(Lead).where(Lead.phone_e164.in_(numbers[start : start + 500]))
            if campaign_id is not None:
                leads = leads.where(Lead.campaign_id == campaign_id)
            await session.execute(leads.values(status=LeadStatus.DNC))
    report.added = len(entries)
    return report
