"""Calendars and windows: China's official working days, DST-safe next-open answers."""

from __future__ import annotations

from datetime import date, time

import pytest

from compliance.calendars import is_official_working_day
from compliance.rulesets import CN_WORKING_DAYS, FR_WORKING_DAYS
from compliance.windows import CallingWindow, first_common_open
from tests.compliance.builders import NEW_YORK, SHANGHAI, local, utc

CN_WINDOW = CallingWindow.of((time(9), time(18)), calendar=CN_WORKING_DAYS)
US_WINDOW = CallingWindow.of((time(8), time(21)))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 9, 26), True),  # Friday before the holiday
        (date(2025, 9, 27), False),  # ordinary Saturday
        (date(2025, 9, 28), True),  # make-up Sunday for Golden Week 2025
        *[(date(2025, 10, d), False) for d in range(1, 9)],  # Golden Week 2025: Oct 1-8
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),  # make-up Saturday
        (date(2026, 9, 20), True),  # make-up Sunday for Golden Week 2026
        *[(date(2026, 10, d), False) for d in range(1, 8)],  # Golden Week 2026: Oct 1-7
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # make-up Saturday
        (date(2026, 10, 11), False),
    ],
)
def test_china_official_working_days(day: date, working: bool) -> None:
    assert is_official_working_day("CN", day) is working
    assert CN_WORKING_DAYS.is_open_day(day) is working


def test_france_closes_weekends_and_holidays() -> None:
    assert FR_WORKING_DAYS.is_open_day(date(2026, 5, 4))  # Monday
    assert not FR_WORKING_DAYS.is_open_day(date(2026, 5, 1))  # Labour Day, a Friday
    assert not FR_WORKING_DAYS.is_open_day(date(2026, 5, 2))  # Saturday
    assert not FR_WORKING_DAYS.is_open_day(date(2026, 7, 14))  # Bastille Day


def test_end_of_span_is_exclusive() -> None:
    assert US_WINDOW.is_open(local(NEW_YORK, 2026, 7, 15, 20, 59, 59), "America/New_York")
    assert not US_WINDOW.is_open(local(NEW_YORK, 2026, 7, 15, 21, 0), "America/New_York")
    assert US_WINDOW.is_open(local(NEW_YORK, 2026, 7, 15, 8, 0), "America/New_York")
    assert not US_WINDOW.is_open(local(NEW_YORK, 2026, 7, 15, 7, 59, 59), "America/New_York")


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # spring forward (2026-03-08): 08:00 EDT is 12:00 UTC, not 13:00
        (utc(2026, 3, 8, 2, 0), utc(2026, 3, 8, 12, 0)),
        # fall back (2026-11-01): 08:00 EST is 13:00 UTC, not 12:00
        (utc(2026, 11, 1, 2, 0), utc(2026, 11, 1, 13, 0)),
        # already open: the moment itself
        (utc(2026, 3, 8, 12, 30), utc(2026, 3, 8, 12, 30)),
    ],
)
def test_next_open_across_dst(at, expected) -> None:
    assert US_WINDOW.next_open(at, "America/New_York") == expected


def test_next_open_skips_golden_week() -> None:
    at = local(SHANGHAI, 2025, 9, 30, 18, 0)
    assert CN_WINDOW.next_open(at, "Asia/Shanghai") == local(SHANGHAI, 2025, 10, 9, 9, 0)


def test_split_window_reopens_after_lunch() -> None:
    window = CallingWindow.of((time(10), time(13)), (time(14), time(20)))
    at = utc(2026, 5, 4, 11, 30)  # 13:30 in Paris (CEST)
    assert not window.is_open(at, "Europe/Paris")
    assert window.next_open(at, "Europe/Paris") == utc(2026, 5, 4, 12, 0)


def test_all_zones_must_be_open_together() -> None:
    zones = ("America/New_York", "America/Los_Angeles")
    at = utc(2026, 7, 15, 12, 0)  # 08:00 New York, 05:00 Los Angeles
    assert first_common_open([US_WINDOW], zones, at) == utc(2026, 7, 15, 15, 0)


def test_windows_that_never_overlap_give_none() -> None:
    morning = CallingWindow.of((time(9), time(10)))
    zones = ("Asia/Shanghai", "America/New_York")
    assert first_common_open([morning], zones, utc(2026, 1, 5)) is None


def test_empty_span_is_rejected() -> None:
    with pytest.raises(ValueError):
        CallingWindow.of((time(18), time(9)))
