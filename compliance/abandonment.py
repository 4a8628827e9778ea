"""Per-campaign abandonment windows feeding the pacer's budget and the engine's rate rules.

US: abandoned calls over live answers across a rolling 30 days. UK: per calendar day, with
an estimate of answering-machine-detection false positives added (each machine verdict
counts `amd_false_positive_rate` of a live answer that was abandoned). Pure: fed with
timestamps, asked at a moment; nothing reads a clock.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from compliance.jurisdiction import zone
from compliance.models import AbandonmentStatus


@dataclass(slots=True)
class AbandonmentWindow:
    """Live answers, abandons and machine verdicts of one campaign in a sliding window.

    Use `AbandonmentWindow.rolling_days(30)` (US) or `AbandonmentWindow.calendar_day(zone)`
    (UK). An abandon is a live answer too: record it once, with `record_abandon`.
    """

    limit: float = 0.03
    rolling: timedelta | None = timedelta(days=30)
    calendar_zone: str | None = None
    amd_false_positive_rate: float = 0.0
    _answers: list[datetime] = field(default_factory=list)
    _abandons: list[datetime] = field(default_factory=list)
    _machines: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        if (self.rolling is None) == (self.calendar_zone is None):
            raise ValueError("give exactly one of rolling or calendar_zone")
        if self.calendar_zone is not None:
            zone(self.calendar_zone)
        if not 0.0 <= self.limit < 1.0:
            raise ValueError("limit must be in [0, 1)")

    @classmethod
    def rolling_days(cls, days: int = 30, limit: float = 0.03) -> AbandonmentWindow:
        return cls(limit=limit, rolling=timedelta(days=days))

    @classmethod
    def calendar_day(
        cls, zone_name: str, limit: float = 0.03, amd_false_positive_rate: float = 0.0
    ) -> AbandonmentWindow:
        return cls(limit=limit, rolling=None, calendar_zone=zone_name,
                   amd_false_positive_rate=amd_false_positive_rate)

    # -- feeding -------------------------------------------------------------------------

    def record_live_answer(self, at: datetime) -> None:
        """A person answered and was connected (or is being connected) to an agent."""
        bisect.insort(self._answers, at)

    def record_abandon(self, at: datetime) -> None:
        """A person answered and no agent came within the connect window."""
        bisect.insort(self._answers, at)
        bisect.insort(self._abandons, at)

    def record_machine(self, at: datetime) -> None:
        """AMD classified the answer as a machine (some of these were people)."""
        bisect.insort(self._machines, at)

    # -- asking --------------------------------------------------------------------------

    def window_start(self, now: datetime) -> datetime:
        if self.rolling is not None:
            return now - self.rolling
        assert self.calendar_zone is not None
        local = now.astimezone(zone(self.calendar_zone))
        return datetime(local.year, local.month, local.day, tzinfo=local.tzinfo)

    def _window_end(self, now: datetime) -> datetime:
        """When a calendar window resets (next local midnight)."""
        assert self.calendar_zone is not None
        local = now.astimezone(zone(self.calendar_zone)).date() + timedelta(days=1)
        return datetime(local.year, local.month, local.day, tzinfo=zone(self.calendar_zone))

    def _count(self, events: list[datetime], start: datetime, now: datetime) -> int:
        if self.rolling is not None:  # (start, now]
            return bisect.bisect_right(events, now) - bisect.bisect_right(events, start)
        return bisect.bisect_right(events, now) - bisect.bisect_left(events, start)  # [start, now]

    def status(self, now: datetime) -> AbandonmentStatus:
        """Counts, rate, budget and (when over the limit) when the rate recovers."""
        start = self.window_start(now)
        machines = self._count(self._machines, start, now) * self.amd_false_positive_rate
        live = self._count(self._answers, start, now) + machines
        abandons = self._count(self._abandons, start, now) + machines
        recovers_at = None
        if live > 0 and abandons / live > self.limit:
            recovers_at = self._recovery(start, now, live, abandons)
        return AbandonmentStatus(live, abandons, self.limit, start, recovers_at)

    def _recovery(self, start: datetime, now: datetime, live: float, abandons: float) -> datetime:
        if self.rolling is None:
            return self._window_end(now)
        fp = self.amd_false_positive_rate
        expiring: list[tuple[datetime, float, float]] = []  # (expires at, -live, -abandons)
        for events, d_live, d_abandon in (
            (self._answers, 1.0, 0.0),
            (self._abandons, 0.0, 1.0),
            (self._machines, fp, fp),
        ):
            lo = bisect.bisect_right(events, start)
            hi = bisect.bisect_right(events, now)
            expiring += [(t + self.rolling, d_live, d_abandon) for t in events[lo:hi]]
        expiring.sort(key=lambda item: item[0])
        moment = now
        for index, (expires, d_live, d_abandon) in enumerate(expiring):
            live -= d_live
            abandons -= d_abandon
            moment = expires
            if index + 1 < len(expiring) and expiring[index + 1][0] == expires:
                continue
            if live <= 1e-9 or abandons / live <= self.limit + 1e-12:
                return moment
        return moment

    def prune(self, now: datetime) -> None:
        """Forget events that can no longer fall inside any window at or after `now`."""
        start = self.window_start(now)
        for events in (self._answers, self._abandons, self._machines):
            del events[: bisect.bisect_left(events, start)]
