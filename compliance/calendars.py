"""Which local dates allow calls: weekdays, public holidays, official working days.

China's official calendar moves weekends around public holidays (make-up workdays), so
its rule is "an official working day" from `holidays` (`is_working_day`), not a weekday
test. Answers are cached per date: the calendar is asked on every check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays

ALL_DAYS = frozenset(range(7))
MONDAY_TO_FRIDAY = frozenset(range(5))


@lru_cache(maxsize=64)
def _country_calendar(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country)


@lru_cache(maxsize=32768)
def is_public_holiday(country: str, day: date) -> bool:
    return day in _country_calendar(country)


@lru_cache(maxsize=32768)
def is_official_working_day(country: str, day: date) -> bool:
    """Working day per the country's official calendar, make-up workdays included."""
    return bool(_country_calendar(country).is_working_day(day))


@dataclass(frozen=True, slots=True)
class DayCalendar:
    """The local dates on which a calling window opens."""

    weekdays: frozenset[int] = ALL_DAYS  # Monday = 0
    closed_on_holidays_of: str | None = None  # public holidays of this country close the day
    official_workdays_of: str | None = None  # this country's working-day calendar decides

    def is_open_day(self, day: date) -> bool:
        if self.official_workdays_of is not None:
            return is_official_working_day(self.official_workdays_of, day)
        if day.weekday() not in self.weekdays:
            return False
        return not (
            self.closed_on_holidays_of is not None
            and is_public_holiday(self.closed_on_holidays_of, day)
        )

    def describe(self) -> str:
        if self.official_workdays_of:
            return f"{self.official_workdays_of} working days"
        text = "every day" if self.weekdays == ALL_DAYS else "Mon-Fri"
        if self.weekdays not in (ALL_DAYS, MONDAY_TO_FRIDAY):
            text = "days " + ",".join(str(d) for d in sorted(self.weekdays))
        if self.closed_on_holidays_of:
            text += f" except {self.closed_on_holidays_of} public holidays"
        return text


EVERY_DAY = DayCalendar()
