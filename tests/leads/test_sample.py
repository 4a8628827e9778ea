"""The sample lead generator is deterministic and says what it put in the file."""

from __future__ import annotations

import csv
from pathlib import Path

from dialer.leads.phone import InvalidNumber, normalise_number
from dialer.leads.sample import SAMPLE_HEADERS, iter_sample_rows, write_sample_leads


def test_seeded_and_counted(tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    second = tmp_path / "b.csv"
    stats = write_sample_leads(first, 2000, seed=9, invalid_fraction=0.1, duplicate_fraction=0.1)
    write_sample_leads(second, 2000, seed=9, invalid_fraction=0.1, duplicate_fraction=0.1)
    assert first.read_bytes() == second.read_bytes()
    with first.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == SAMPLE_HEADERS and len(rows) == 2001
    numbers: list[str] = []
    invalid = 0
    for row in rows[1:]:
        try:
            numbers.append(normalise_number(row[0], "CN").e164)
        except InvalidNumber:
            invalid += 1
    assert invalid == stats.invalid
    assert len(numbers) - len(set(numbers)) == stats.duplicates
    assert 150 < stats.invalid < 250 and 150 < stats.duplicates < 250


def test_clean_sample_is_all_valid_and_unique() -> None:
    numbers = {normalise_number(row[0], "CN").e164 for row in iter_sample_rows(5000, seed=2)}
    assert len(numbers) == 5000


def test_xlsx_sample(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    assert write_sample_leads(path, 10).rows == 10
    assert path.read_bytes()[:2] == b"PK"
