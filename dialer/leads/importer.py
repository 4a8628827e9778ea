"""Lead import, the service the CLI and the API share: file in, leads and a report out.

The file is streamed in batches, each written in its own transaction, so memory stays flat and
an interrupted import keeps what it already stored. While the database writes a batch (on
PostgreSQL split by number into two transactions, each in its own server process), the next
one is parsed and normalised on the event loop in chunks of a few hundred rows, yielding in
between: the loop never stalls for long, and no thread competes with it for the GIL (which
costs far more than it gains here).

Nothing in the file's content raises: problems are counted in the `ImportReport` (row-level
for bad numbers, `error` for the file as a whole).

Numbers on an active DNC/suppression entry are stored with status `dnc` (never dialled), so the
campaign shows why they were not called and a later import does not bring them back as new.
"""

from __future__ import annotations

import asyncio
import csv
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from dialer.db.engine import SessionFactory
from dialer.db.models import Campaign, LeadList
from dialer.db.types import utcnow
from dialer.leads.columns import BadMapping, ColumnMap, MissingPhoneColumn, map_columns
from dialer.leads.prepare import BatchBuilder, PreparedBatch, RawRow, RowProblem
from dialer.leads.reader import LeadFile, LeadFileError, open_lead_file
from dialer.leads.store import BatchOutcome, NewLead, reserve_lead_ids, store_leads

__all__ = ["ImportProgress", "ImportReport", "RowProblem", "import_leads"]

BATCH_ROWS = 5_000
MAX_REPORTED_ROWS = 1_000
SUPPRESSED_POLICY = "stored_as_dnc"
# Rows parsed between two yields to the event loop (about 10 ms of work).
CHUNK_ROWS = 400
# PostgreSQL writes run in this many lanes, each a connection (a server process, so its own
# core) taking one part of every batch, split by number. SQLite has a single writer anyway.
POSTGRESQL_LANES = 2
# Batches handed to the lanes and not yet written.
BATCHES_IN_FLIGHT = 2
STORE_ATTEMPTS = 3
DEADLOCK_SQLSTATE = "40P01"


@dataclass(frozen=True, slots=True)
class ImportProgress:
    rows_read: int
    bytes_read: int
    bytes_total: int
    imported: int


ProgressCallback = Callable[[ImportProgress], None]


@dataclass
class ImportReport:
    """What an import did. total_rows = imported + suppressed + duplicates + invalid."""

    campaign_id: int
    filename: str
    list_id: int | None = None
    format: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    total_rows: int = 0
    blank_rows: int = 0
    imported: int = 0
    suppressed: int = 0
    suppressed_policy: str = SUPPRESSED_POLICY
    duplicates_in_file: int = 0
    duplicates_in_campaign: int = 0
    invalid: int = 0
    invalid_by_reason: dict[str, int] = field(default_factory=dict)
    invalid_rows: list[RowProblem] = field(default_factory=list)
    error: str | None = None
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def duplicates(self) -> int:
        return self.duplicates_in_file + self.duplicates_in_campaign

    @property
    def rows_per_s(self) -> float:
        return self.total_rows / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["duplicates"] = self.duplicates
        data["rows_per_s"] = round(self.rows_per_s, 1)
        return data

    def summary_lines(self) -> list[str]:
        lines = []
        if self.error:
            lines.append(f"error: {self.error}")
        lines += [
            f"file: {self.filename} ({self.format or '?'}, encoding {self.encoding or '-'}, "
            f"delimiter {self.delimiter!r})",
            f"rows: {self.total_rows} (blank lines skipped: {self.blank_rows})",
            f"imported: {self.imported}",
            f"suppressed (DNC, stored as dnc): {self.suppressed}",
            f"duplicates: {self.duplicates_in_file} in file, "
            f"{self.duplicates_in_campaign} already in campaign",
            f"invalid: {self.invalid}",
        ]
        for reason, count in sorted(self.invalid_by_reason.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {reason}: {count}")
        lines.append(f"elapsed: {self.elapsed_s:.2f} s, {self.rows_per_s:,.0f} rows/s")
        return lines


def _read_raw(rows: Iterator[RawRow], size: int) -> tuple[list[RawRow], str | None]:
    """Up to `size` raw rows; an undecodable or malformed file ends with an error message."""
    batch: list[RawRow] = []
    try:
        for item in rows:
            batch.append(item)
            if len(batch) >= size:
                break
    except (UnicodeDecodeError, csv.Error) as exc:
        last = batch[-1][0] if batch else "the header"
        return batch, f"the file cannot be read after row {last}: {exc}"
    return batch, None


def _is_deadlock(exc: BaseException) -> bool:
    candidates = (exc, getattr(exc, "orig", None), exc.__cause__)
    return any(getattr(c, "sqlstate", None) == DEADLOCK_SQLSTATE for c in candidates)


async def _next_batch(
    rows: Iterator[RawRow], columns: ColumnMap, default_region: str, size: int
) -> tuple[PreparedBatch, str | None, bool]:
    """The next batch, the error that ended the file (if any), and whether the file is done."""
    builder = BatchBuilder(columns, default_region)
    taken = 0
    while taken < size:
        wanted = min(CHUNK_ROWS, size - taken)
        raw, error = _read_raw(rows, wanted)
        builder.add(raw)
        taken += len(raw)
        await asyncio.sleep(0)  # let the writers and everything else on the loop run
        if error is not None:
            return builder.batch, error, True
        if len(raw) < wanted:
            return builder.batch, None, True
    return builder.batch, None, False


def _count(report: ImportReport, batch: PreparedBatch, reasons: Counter[str]) -> None:
    report.total_rows += batch.rows
    report.blank_rows += batch.blank_rows
    report.invalid += len(batch.problems)
    for problem in batch.problems:
        reasons[problem.reason] += 1
        if len(report.invalid_rows) < MAX_REPORTED_ROWS:
            report.invalid_rows.append(problem)


async def _store_part(
    session_factory: SessionFactory,
    leads: list[NewLead],
    ids: list[int] | None,
    campaign_id: int,
    list_id: int,
) -> BatchOutcome:
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            async with session_factory() as session, session.begin():
                return await store_leads(session, leads, campaign_id, list_id, utcnow(), ids)
        except Exception as exc:
            # Two imports into one campaign at once may still deadlock on shared numbers; the
            # database then aborts one transaction, which is simply written again.
            if not _is_deadlock(exc) or attempt == STORE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


_NOT_TAKEN = object()


def _attribute(
    report: ImportReport,
    leads: list[NewLead],
    repeats: dict[str, int],
    outcome: BatchOutcome,
    list_id: int,
) -> None:
    report.imported += outcome.inserted
    report.suppressed += outcome.inserted_dnc
    for lead in leads:
        # Rows repeating a number the campaign had before this import are campaign duplicates;
        # rows repeating a number first seen earlier in this file are file duplicates.
        rows = 1 + repeats.get(lead.phone_e164, 0)
        owner = outcome.existing.get(lead.phone_e164, _NOT_TAKEN)
        if owner is _NOT_TAKEN:
            report.duplicates_in_file += rows - 1
        elif owner == list_id:
            report.duplicates_in_file += rows
        else:
            report.duplicates_in_campaign += rows


async def _write_part(
    previous: asyncio.Task[None] | None,
    session_factory: SessionFactory,
    leads: list[NewLead],
    ids: list[int] | None,
    batch: PreparedBatch,
    list_id: int,
    report: ImportReport,
) -> None:
    if previous is not None:
        await previous  # the same numbers' part of the batch before: first occurrence wins
    outcome = await _store_part(session_factory, leads, ids, report.campaign_id, list_id)
    _attribute(report, leads, batch.repeats, outcome, list_id)


async def _start_batch(
    session_factory: SessionFactory,
    batch: PreparedBatch,
    list_id: int,
    report: ImportReport,
    lanes: list[asyncio.Task[None] | None],
) -> list[asyncio.Task[None]]:
    """Split a batch by number into one part per lane and start writing each part after the
    lane's previous part. Lanes share no number, so they never wait for each other."""
    parts = len(lanes)
    ids: list[int] | None = None
    if parts > 1 and batch.leads:
        async with session_factory() as session, session.begin():
            ids = await reserve_lead_ids(session, len(batch.leads))
    split: list[tuple[list[NewLead], list[int]]] = [([], []) for _ in range(parts)]
    for index, lead in enumerate(batch.leads):
        part_leads, part_ids = split[int(lead.number_hash[:4], 16) % parts]
        part_leads.append(lead)
        if ids is not None:
            part_ids.append(ids[index])
    tasks: list[asyncio.Task[None]] = []
    for lane, (part_leads, part_ids) in enumerate(split):
        if not part_leads:
            continue
        task = asyncio.create_task(
            _write_part(
                lanes[lane],
                session_factory,
                part_leads,
                part_ids or None,
                batch,
                list_id,
                report,
            )
        )
        lanes[lane] = task
        tasks.append(task)
    return tasks


async def import_leads(
    session_factory: SessionFactory,
    campaign_id: int,
    source: Path | IO[bytes],
    *,
    filename: str | None = None,
    mapping: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    default_region: str,
    progress: ProgressCallback | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    """Import a CSV/XLSX lead file into a campaign and report what happened.

    `filename` decides the format (`.xlsx`/`.xlsm` or CSV); it defaults to the path's name.
    `mapping` overrides header detection (header -> phone/name/priority/`-`/custom key).
    Raises `LookupError` only for an unknown campaign; problems in the file go in the report.
    """
    started = time.perf_counter()
    if filename is None:
        filename = source.name if isinstance(source, Path) else "upload.csv"
    report = ImportReport(campaign_id=campaign_id, filename=filename)
    async with session_factory() as session:
        if await session.get(Campaign, campaign_id) is None:
            raise LookupError(f"no campaign with id {campaign_id}")

    try:
        lead_file = await asyncio.to_thread(
            open_lead_file, source, filename=filename, delimiter=delimiter, encoding=encoding
        )
    except LeadFileError as exc:
        report.error = str(exc)
        report.elapsed_s = time.perf_counter() - started
        return report
    try:
        report.format = lead_file.format
        report.encoding = lead_file.encoding
        report.delimiter = lead_file.delimiter
        try:
            columns = map_columns(lead_file.headers, mapping)
        except (MissingPhoneColumn, BadMapping) as exc:
            report.error = str(exc)
            return report
        report.columns = columns.describe(lead_file.headers)
        await _run(
            session_factory,
            lead_file,
            columns,
            default_region,
            report,
            progress,
            batch_rows,
        )
    finally:
        lead_file.close()
        report.elapsed_s = time.perf_counter() - started
    return report


async def _run(
    session_factory: SessionFactory,
    lead_file: LeadFile,
    columns: ColumnMap,
    default_region: str,
    report: ImportReport,
    progress: ProgressCallback | None,
    batch_rows: int,
) -> None:
    async with session_factory() as session, session.begin():
        lead_list = LeadList(
            campaign_id=report.campaign_id,
            name=report.filename[:200],
            source_filename=report.filename[:500],
        )
        session.add(lead_list)
        await session.flush()
        list_id = lead_list.id
    report.list_id = list_id

    async with session_factory() as session:
        dialect = (await session.connection()).dialect.name
    lanes: list[asyncio.Task[None] | None] = [None] * (
        POSTGRESQL_LANES if dialect == "postgresql" else 1
    )
    writing: deque[list[asyncio.Task[None]]] = deque()  # per batch, its parts being written
    reasons: Counter[str] = Counter()
    exhausted = False
    try:
        while True:
            if not exhausted and len(writing) < BATCHES_IN_FLIGHT:
                # Parsed while earlier batches are being written.
                batch, error, exhausted = await _next_batch(
                    lead_file.rows, columns, default_region, batch_rows
                )
                if error is not None:
                    report.error = error
                if batch.rows or batch.blank_rows:
                    _count(report, batch, reasons)
                    writing.append(
                        await _start_batch(session_factory, batch, list_id, report, lanes)
                    )
                continue
            if not writing:
                break
            await asyncio.gather(*writing.popleft())
            if progress is not None:
                progress(
                    ImportProgress(
                        rows_read=report.total_rows,
                        bytes_read=lead_file.bytes_read(),
                        bytes_total=lead_file.size_bytes,
                        imported=report.imported,
                    )
                )
    finally:
        # After a failure, let the remaining writes finish (each lane's last task awaits the
        # ones before it) before the file is closed.
        unfinished = [task for task in lanes if task is not None and not task.done()]
        unfinished += [task for tasks in writing for task in tasks if not task.done()]
        if unfinished:
            await asyncio.gather(*unfinished, return_exceptions=True)
        report.invalid_by_reason = dict(reasons)

    async with session_factory() as session, session.begin():
        stored = await session.get(LeadList, list_id)
        if stored is not None:
            stored.total_rows = report.total_rows
            stored.imported_rows = report.imported + report.suppressed
