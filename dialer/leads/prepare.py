"""Turning raw rows into validated leads: pure, CPU-bound work, done in small chunks between
which the importer yields to the event loop."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

from dialer.db.hashing import number_hash
from dialer.leads.columns import ColumnMap
from dialer.leads.phone import InvalidNumber, normalise_number
from dialer.leads.store import NewLead

MAX_NAME = 200
MAX_RAW = 64
MAX_CUSTOM_VALUE = 1_000

RawRow = tuple[int, list[str]]  # (row number in the file, cells)


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # row number in the file, the header being row 1
    reason: str
    value: str


@dataclass
class PreparedBatch:
    leads: list[NewLead] = field(default_factory=list)  # one per number (first occurrence)
    repeats: dict[str, int] = field(default_factory=dict)  # number -> further rows with it
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0  # non-blank rows
    blank_rows: int = 0


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


@lru_cache(maxsize=1024)
def _json_list(items: tuple[str, ...]) -> str:
    return json.dumps(items)


def _priority(text: str) -> int:
    try:
        return int(float(text)) if text else 0
    except (ValueError, OverflowError):
        return 0


class BatchBuilder:
    """Accumulates validated leads for one batch; rows may be added in several chunks."""

    def __init__(self, columns: ColumnMap, default_region: str) -> None:
        self._columns = columns
        self._region = default_region
        self._seen: dict[str, NewLead] = {}
        self.batch = PreparedBatch()

    def add(self, rows: list[RawRow]) -> None:
        columns = self._columns
        batch = self.batch
        seen = self._seen
        repeats = batch.repeats
        dumps = json.dumps
        for row, cells in rows:
            if not any(cell.strip() for cell in cells):
                batch.blank_rows += 1
                continue
            batch.rows += 1
            raw = _cell(cells, columns.phone)
            try:
                number = normalise_number(raw, self._region)
            except InvalidNumber as exc:
                batch.problems.append(RowProblem(row, exc.reason, raw[:MAX_RAW]))
                continue
            if number.e164 in seen:
                repeats[number.e164] = repeats.get(number.e164, 0) + 1
                continue
            custom = {}
            for index, key in columns.custom:
                value = _cell(cells, index)
                if value:
                    custom[key] = value[:MAX_CUSTOM_VALUE]
            lead = NewLead(
                row=row,
                phone_e164=number.e164,
                number_hash=number_hash(number.e164),
                phone_raw=raw[:MAX_RAW],
                name=_cell(cells, columns.name)[:MAX_NAME],
                custom_json=dumps(custom, ensure_ascii=False),
                timezones_json=_json_list(number.timezones),
                region=number.region,
                priority=_priority(_cell(cells, columns.priority)),
            )
            seen[number.e164] = lead
            batch.leads.append(lead)


def prepare_rows(rows: list[RawRow], columns: ColumnMap, default_region: str) -> PreparedBatch:
    """Validate and normalise rows; duplicates within the batch are counted, not repeated."""
    builder = BatchBuilder(columns, default_region)
    builder.add(rows)
    return builder.batch
