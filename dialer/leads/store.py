"""The database side of a lead import: one batch of validated leads per transaction.

For each batch it inserts the numbers the campaign does not have yet (the per-campaign unique
constraint has the final word), marks numbers on an active DNC/suppression entry as `dnc`, and
reports which lead list the numbers it skipped belong to (to tell file duplicates from campaign
duplicates).

PostgreSQL: `COPY` into a temporary table, then one `INSERT ... SELECT ... ON CONFLICT DO
NOTHING RETURNING` that screens against the suppression table in SQL (the fast path for
millions of rows), and a look-up of the owners of the numbers that were already there.
SQLite: the same steps as separate queries and an `INSERT OR IGNORE` executemany. Both write
the JSON columns as the JSON text already encoded while the batch was prepared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.db.enums import LeadStatus, SuppressionScope
from dialer.db.models import Lead, SuppressionEntry

# Parameters per IN (...) query stay well below SQLite's limit.
LOOKUP_CHUNK = 5_000


class NewLead(NamedTuple):
    """A validated row, ready to insert."""

    row: int
    phone_e164: str
    number_hash: str
    phone_raw: str
    name: str
    custom_json: str  # the custom fields, JSON-encoded off the event loop
    timezones_json: str
    region: str
    priority: int


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    # Numbers of the batch that were not inserted because the campaign has them, with the lead
    # list each belongs to (this import's own list: a repeat within the file).
    existing: dict[str, int | None]
    inserted: int  # new leads stored as dialable
    inserted_dnc: int  # new leads stored with status dnc (suppressed)


# -- PostgreSQL -----------------------------------------------------------------------------

_PG_STAGE_COLUMNS = (
    "id",
    "phone_e164",
    "number_hash",
    "phone_raw",
    "name",
    "custom_fields",
    "timezones",
    "region",
    "priority",
)
_PG_RESERVE_IDS = """
SELECT nextval(pg_get_serial_sequence('leads', 'id')) FROM generate_series(1, $1)
"""
# Rows carry ids reserved in file order; they are inserted in number order, so transactions
# that share numbers (two imports into one campaign at once) take their unique-index locks in
# the same order and do not deadlock.
_PG_CREATE_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS lead_import_stage (
    id bigint NOT NULL,
    phone_e164 text NOT NULL,
    number_hash text NOT NULL,
    phone_raw text NOT NULL,
    name text NOT NULL,
    custom_fields json NOT NULL,
    timezones json NOT NULL,
    region text NOT NULL,
    priority integer NOT NULL
) ON COMMIT DELETE ROWS
"""
_PG_INSERT = """
INSERT INTO leads (id, campaign_id, list_id, phone_e164, phone_raw, name, custom_fields,
                   timezones, region, status, attempt_count, priority, created_at)
SELECT s.id, $1, $2, s.phone_e164, s.phone_raw, s.name, s.custom_fields, s.timezones, s.region,
       CASE WHEN EXISTS (
           SELECT 1 FROM suppression_entries d
           WHERE d.number_hash = s.number_hash
             AND (d.expires_at IS NULL OR d.expires_at > $3)
             AND (d.scope <> 'campaign' OR d.campaign_id = $1)
       ) THEN 'dnc' ELSE 'new' END,
       0, s.priority, $3
FROM lead_import_stage s
ORDER BY s.phone_e164
ON CONFLICT (campaign_id, phone_e164) DO NOTHING
RETURNING phone_e164, status
"""
_PG_OWNERS = """
SELECT phone_e164, list_id FROM leads WHERE campaign_id = $1 AND phone_e164 = ANY($2::text[])
"""


async def _driver(session: AsyncSession) -> Any:
    """The session's asyncpg connection, inside the session's transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    if raw.driver_connection is None:
        raise RuntimeError("no asyncpg connection")
    return raw.driver_connection


async def reserve_lead_ids(session: AsyncSession, count: int) -> list[int]:
    """`count` fresh lead ids in ascending order (PostgreSQL), so a batch keeps file order
    even when its parts are written by several connections."""
    driver = await _driver(session)
    return [row[0] for row in await driver.fetch(_PG_RESERVE_IDS, count)]


async def _store_postgresql(
    session: AsyncSession,
    leads: Sequence[NewLead],
    ids: Sequence[int],
    campaign_id: int,
    list_id: int,
    now: datetime,
) -> BatchOutcome:
    # Through SQLAlchemy first, so the session's transaction is open on the connection; the
    # COPY and the statements below then run inside it. A batch need not wait for its WAL flush:
    # after a crash the import is incomplete either way, and importing again fills the gap.
    await session.execute(text("SET LOCAL synchronous_commit = off"))
    await session.execute(text(_PG_CREATE_STAGE))
    driver = await _driver(session)
    records = [
        (
            lead_id,
            lead.phone_e164,
            lead.number_hash,
            lead.phone_raw,
            lead.name,
            lead.custom_json,
            lead.timezones_json,
            lead.region,
            lead.priority,
        )
        for lead, lead_id in zip(leads, ids, strict=True)
    ]
    await driver.copy_records_to_table(
        "lead_import_stage", records=records, columns=list(_PG_STAGE_COLUMNS)
    )
    inserted = {row[0]: row[1] for row in await driver.fetch(_PG_INSERT, campaign_id, list_id, now)}
    # The numbers the campaign already had (usually few): whose are they?
    taken = [lead.phone_e164 for lead in leads if lead.phone_e164 not in inserted]
    existing: dict[str, int | None] = {}
    if taken:
        existing = {row[0]: row[1] for row in await driver.fetch(_PG_OWNERS, campaign_id, taken)}
    dnc = sum(1 for status in inserted.values() if status == LeadStatus.DNC)
    return BatchOutcome(existing=existing, inserted=len(inserted) - dnc, inserted_dnc=dnc)


# -- SQLite (and anything else) ---------------------------------------------------------------


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i : i + LOOKUP_CHUNK] for i in range(0, len(items), LOOKUP_CHUNK)]


async def existing_numbers(
    session: AsyncSession, campaign_id: int, numbers: Sequence[str]
) -> dict[str, int | None]:
    """Numbers already in the campaign, with the lead list each came from."""
    found: dict[str, int | None] = {}
    for chunk in _chunks(numbers):
        result = await session.execute(
            select(Lead.phone_e164, Lead.list_id).where(
                Lead.campaign_id == campaign_id, Lead.phone_e164.in_(chunk)
            )
        )
        found.update({phone: list_id for phone, list_id in result.all()})
    return found


async def suppressed_hashes(
    session: AsyncSession, campaign_id: int, hashes: Sequence[str], now: datetime
) -> set[str]:
    """Which of these number hashes are on an active DNC entry that applies to the campaign."""
    found: set[str] = set()
    for chunk in _chunks(hashes):
        result = await session.scalars(
            select(SuppressionEntry.number_hash)
            .where(
                SuppressionEntry.number_hash.in_(chunk),
                or_(SuppressionEntry.expires_at.is_(None), SuppressionEntry.expires_at > now),
                or_(
                    SuppressionEntry.scope != SuppressionScope.CAMPAIGN,
                    SuppressionEntry.campaign_id == campaign_id,
                ),
            )
            .distinct()
        )
        found.update(result)
    return found


_GENERIC_INSERT = (
    "INSERT OR IGNORE INTO leads (campaign_id, list_id, phone_e164, phone_raw, name, "
    "custom_fields, timezones, region, status, attempt_count, priority, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)"
)


async def _store_generic(
    session: AsyncSession, leads: Sequence[NewLead], campaign_id: int, list_id: int, now: datetime
) -> BatchOutcome:
    existing = await existing_numbers(session, campaign_id, [lead.phone_e164 for lead in leads])
    fresh = [lead for lead in leads if lead.phone_e164 not in existing]
    blocked = await suppressed_hashes(session, campaign_id, [x.number_hash for x in fresh], now)
    if not fresh:
        return BatchOutcome(existing=existing, inserted=0, inserted_dnc=0)
    connection = await session.connection()
    # The column type's own conversion, so timestamps are stored exactly as the ORM stores them.
    created_at_type = Lead.__table__.c.created_at.type
    to_db = created_at_type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    created_at = to_db(now) if to_db else now
    records = [
        (
            campaign_id,
            list_id,
            lead.phone_e164,
            lead.phone_raw,
            lead.name,
            lead.custom_json,
            lead.timezones_json,
            lead.region,
            LeadStatus.DNC.value if lead.number_hash in blocked else LeadStatus.NEW.value,
            lead.priority,
            created_at,
        )
        for lead in fresh
    ]
    result = await connection.exec_driver_sql(_GENERIC_INSERT, records)
    rowcount = result.rowcount
    inserted = rowcount if rowcount >= 0 else len(records)
    dnc = min(inserted, sum(1 for lead in fresh if lead.number_hash in blocked))
    return BatchOutcome(existing=existing, inserted=inserted - dnc, inserted_dnc=dnc)


async def store_leads(
    session: AsyncSession,
    leads: Sequence[NewLead],
    campaign_id: int,
    list_id: int,
    now: datetime,
    ids: Sequence[int] | None = None,
) -> BatchOutcome:
    """Store leads (numbers unique among them) in the session's transaction.

    `ids` (PostgreSQL): ids from `reserve_lead_ids` for the leads, in the same order.
    """
    if not leads:
        return BatchOutcome(existing={}, inserted=0, inserted_dnc=0)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        if ids is None:
            ids = await reserve_lead_ids(session, len(leads))
        return await _store_postgresql(session, leads, ids, campaign_id, list_id, now)
    return await _store_generic(session, leads, campaign_id, list_id, now)
