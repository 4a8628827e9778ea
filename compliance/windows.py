"""Calling windows in the callee's local time, and when they next open.

A window is a few local time spans on the open days of a calendar. Local times are built
on the callee's date in its zone and converted to UTC per day, so next-open answers stay
right across DST changes. With several candidate zones (or several windows) a moment is
open only if every (window, zone) pair is open.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from compliance.calendars import EVERY_DAY, DayCalendar
from compliance.jurisdiction import zone

DAY_SECONDS = 86400
HORIZON_DAYS = 400  # beyond this a window is treated as never opening
MAX_ROUNDS = 4000  # zone hand-offs before windows are deemed never open together


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@dataclass(frozen=True, slots=True)
class CallingWindow:
    """Local spans [start, end) in seconds of the day, on the calendar's open days."""

    spans: tuple[tuple[int, int], ...]
    calendar: DayCalendar = EVERY_DAY

    @classmethod
    def of(cls, *spans: tuple[time, time], calendar: DayCalendar = EVERY_DAY) -> CallingWindow:
        """Spans as (start, end) local times; an end of 00:00 means midnight at day's end."""
        converted = []
        for start, end in spans:
            end_s = _seconds(end) or DAY_SECONDS
            if not 0 <= _seconds(start) < end_s:
                raise ValueError(f"empty calling span {start}-{end}")
            converted.append((_seconds(start), end_s))
        return cls(tuple(sorted(converted)), calendar)

    def describe(self) -> str:
        return _describe(self)

    def is_open(self, at: datetime, zone_name: str) -> bool:
        local = at.astimezone(zone(zone_name))
        if not self.calendar.is_open_day(local.date()):
            return False
        second = local.hour * 3600 + local.minute * 60 + local.second
        return any(start <= second < end for start, end in self.spans)

    def next_open(self, at: datetime, zone_name: str) -> datetime | None:
        """The first moment >= `at` when the window is open in the zone (UTC), or None."""
        tz = zone(zone_name)
        local = at.astimezone(tz)
        first_day = local.date()
        if self.calendar.is_open_day(first_day):
            second = local.hour * 3600 + local.minute * 60 + local.second
            for start, end in self.spans:
                if second < end:
                    if second >= start:
                        return at
                    midnight = datetime(first_day.year, first_day.month, first_day.day, tzinfo=tz)
                    return _local_to_utc(midnight, start)
        first_start = self.spans[0][0]
        for offset in range(1, HORIZON_DAYS):
            day = first_day + timedelta(days=offset)
            if self.calendar.is_open_day(day):
                midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
                return _local_to_utc(midnight, first_start)
        return None


def _local_to_utc(midnight: datetime, seconds: int) -> datetime:
    """Wall-clock `seconds` after local midnight, as UTC (wall-clock arithmetic keeps DST)."""
    if seconds >= DAY_SECONDS:
        next_day = midnight.date() + timedelta(days=1)
        wall = datetime(next_day.year, next_day.month, next_day.day, tzinfo=midnight.tzinfo)
        return wall.astimezone(UTC)
    return (midnight + timedelta(seconds=seconds)).astimezone(UTC)


@lru_cache(maxsize=256)
def _describe(window: CallingWindow) -> str:
    spans = ", ".join(f"{_hhmm(s)}-{_hhmm(e)}" for s, e in window.spans)
    return f"{spans} local, {window.calendar.describe()}"


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def closed_zones(window: CallingWindow, at: datetime, zones: Iterable[str]) -> list[str]:
    return [z for z in zones if not window.is_open(at, z)]


def first_common_open(
    windows: Sequence[CallingWindow], zones: Sequence[str], at: datetime
) -> datetime | None:
    """The first moment >= `at` when every window is open in every zone, or None."""
    if not zones:
        return None
    limit = at + timedelta(days=HORIZON_DAYS)
    moment = at
    for _ in range(MAX_ROUNDS):
        if moment > limit:
            return None
        latest = moment
        for window in windows:
            for zone_name in zones:
                candidate = window.next_open(moment, zone_name)
                if candidate is None:
                    return None
                latest = max(latest, candidate)
        if latest == moment:
            return moment
        moment = latest
    return None


def local_dates(at: datetime, zones: Iterable[str]) -> list[date]:
    return [at.astimezone(zone(z)).date() for z in zones]
