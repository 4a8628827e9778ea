"""Caller-ID health: which presented numbers are probably labelled as spam, and the rotation
that rests them.

Phone apps and carriers label numbers that many people decline; a labelled number's calls
go unanswered while the rest of the pool does as before. So a number is judged against the
rest of its campaign over the same rolling window: suspect when its live-answer rate is at
most `max_ratio` of the others' AND the shortfall is `min_z` standard errors or more (a
one-sided binomial test, so a few unlucky calls on a quiet number flag nothing).

`assess` and `pick_caller_id` are pure. `CallerIdMonitor` runs them: it evaluates the
campaigns this process owns every few minutes (flagging and resting numbers in the
database) and, more often, copies the rested set, caps and today's counts into each
`CampaignRun`, so choosing a caller ID per dial never touches the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from dialer.db.engine import SessionFactory

if TYPE_CHECKING:
    from dialer.runtime.campaigns import CampaignRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthPolicy:
    """A campaign's settings (`caller_id_policies`; these defaults without a row)."""

    auto_rest: bool = True  # rest a suspect number by itself (else only flag it)
    window_hours: int = 24
    min_attempts: int = 50  # dials reaching a phone before a number (or the baseline) counts
    max_ratio: float = 0.5
    min_z: float = 2.5
    rest_hours: int = 24
    daily_cap: int = 0  # dials per number per call-centre day, all campaigns; 0 = no cap
    # Caps are hard: with every number at its cap the campaign stops dialing until the next
    # day (False: dial on with the least used number).
    hard_caps: bool = True


@dataclass(frozen=True)
class RateSample:
    """Dials that reached a phone (answered by a person or machine, no answer, busy: not
    trunk failures) and how many of them a person answered."""

    attempts: int = 0
    live: int = 0

    @property
    def rate(self) -> float | None:
        return self.live / self.attempts if self.attempts else None

    def __sub__(self, other: RateSample) -> RateSample:
        return RateSample(max(0, self.attempts - other.attempts), max(0, self.live - other.live))


@dataclass(frozen=True)
class Assessment:
    rate: float | None  # the number's live-answer rate
    baseline: float | None  # the rest of the campaign's
    ratio: float | None  # rate / baseline
    z: float | None  # standard errors below the baseline
    suspect: bool
    reason: str


def assess(number: RateSample, others: RateSample, policy: HealthPolicy) -> Assessment:
    """Is this number's rate sharply below the rest of the campaign's? (pure)"""
    rate, baseline = number.rate, others.rate
    if number.attempts < policy.min_attempts:
        return Assessment(
            rate, baseline, None, None, False, f"{number.attempts} of {policy.min_attempts} dials"
        )
    if baseline is None or others.attempts < policy.min_attempts or baseline == 0:
        return Assessment(rate, baseline, None, None, False, "no baseline from the other numbers")
    assert rate is not None
    ratio = rate / baseline
    spread = math.sqrt(baseline * (1 - baseline) / number.attempts)
    # spread 0: the others answered every call, so any shortfall is certain
    shortfall = math.inf if rate < baseline else 0.0
    z = (baseline - rate) / spread if spread > 0 else shortfall
    suspect = ratio <= policy.max_ratio and z >= policy.min_z
    reason = (
        f"live-answer rate {rate:.1%} over {number.attempts} dials vs {baseline:.1%} for the "
        f"other numbers (ratio {ratio:.2f}, {z:.1f} standard errors below)"
    )
    return Assessment(rate, baseline, ratio, z, suspect, reason)


def pick_caller_id(
    pool: Sequence[str],
    start: int,
    rested: frozenset[str] | set[str],
    caps: Mapping[str, int],
    used: Mapping[str, int],
    hard_caps: bool = False,
) -> tuple[str, int, bool]:
    """The next number of the rotation from position `start`, skipping rested numbers and
    those at their daily cap: (number, where the next search starts, fallback). When none is
    left, a rested number under its cap, then the least used one (`fallback` True: the pool
    is exhausted and the dial goes ahead with a number that should have been spared). With
    `hard_caps` a capped number is never returned: ("", start, True) when all are capped."""
    n = len(pool)
    start %= n

    def capped(number: str) -> bool:
        cap = caps.get(number, 0)
        return cap > 0 and used.get(number, 0) >= cap

    for k in range(n):
        i = (start + k) % n
        if pool[i] not in rested and not capped(pool[i]):
            return pool[i], i + 1, False
    for k in range(n):
        i = (start + k) % n
        if not capped(pool[i]):
            return pool[i], i + 1, True
    if hard_caps:
        return "", start, True
    i = min(range(n), key=lambda j: (used.get(pool[j], 0), (j - start) % n))
    return pool[i], i + 1, True


def all_capped(pool: Sequence[str], caps: Mapping[str, int], used: Mapping[str, int]) -> bool:
    """Every number of a non-empty pool has reached its daily cap."""
    return bool(pool) and all(0 < caps.get(n, 0) <= used.get(n, 0) for n in pool)


def day_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The call-centre day containing `now`, as UTC instants."""
    local = now.astimezone(zone)
    midnight = datetime.min.time()
    start = datetime.combine(local.date(), midnight, zone)
    end = datetime.combine(local.date() + timedelta(days=1), midnight, zone)
    return start.astimezone(UTC), end.astimezone(UTC)


class CallerIdMonitor:
    """Keeps `CampaignRun.caller_id_rested / _caps / _used` fresh (every `refresh_s`) and
    evaluates owned campaigns (every `evaluate_s`)."""

    def __init__(
        self,
        sessions: SessionFactory,
        campaigns: Callable[[], Mapping[int, CampaignRun]],
        owned: Callable[[], Iterable[int]],
        *,
        now: Callable[[], datetime],
        zone: str = "UTC",
        refresh_s: float = 15.0,
        evaluate_s: float = 300.0,
    ) -> None:
        self.sessions = sessions
        self.campaigns = campaigns
        self.owned = owned
        self.now = now
        self.zone = ZoneInfo(zone)
        self.refresh_s = refresh_s
        self.evaluate_s = evaluate_s
        self.refreshes = 0
        self.evaluations = 0
        self.last_error = ""
        self._task: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        """One refresh now (so the first dials already skip rested numbers), then the loop."""
        try:
            await self.refresh()
        except Exception as exc:
            self.last_error = str(exc)
            log.warning("caller-ID health: first refresh failed: %s", exc)
        self._task = asyncio.ensure_future(self._loop())
        self._task.set_name("caller-id-health")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_evaluation = loop.time() + min(self.evaluate_s, 60.0)
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                if loop.time() >= next_evaluation:
                    await self.evaluate()
                    next_evaluation = loop.time() + self.evaluate_s
                await self.refresh()
            except Exception as exc:
                self.last_error = str(exc)
                log.warning("caller-ID health: %s", exc)

    async def evaluate(self) -> int:
        """Judge every number of the owned campaigns; how many were newly flagged."""
        from dialer.services import caller_ids as service

        runs = self.campaigns()
        flagged = 0
        for campaign_id in sorted(self.owned()):
            run = runs.get(campaign_id)
            if run is None or not run.config.caller_id_pool:
                continue
            result = await service.evaluate_campaign(self.sessions, campaign_id, self.now())
            flagged += len(result.newly_flagged)
        self.evaluations += 1
        return flagged

    async def refresh(self) -> None:
        """Rested numbers, caps and today's dials per number into every campaign run."""
        from dialer.services import caller_ids as service

        runs = dict(self.campaigns())
        pools = {cid: list(run.config.caller_id_pool) for cid, run in runs.items()}
        pools = {cid: pool for cid, pool in pools.items() if pool}
        if not pools:
            return
        now = self.now()
        day_start, _ = day_bounds(now, self.zone)
        state = await service.rotation_state(self.sessions, pools, now, day_start)
        for campaign_id, (rested, caps) in state.rested_and_caps.items():
            run = runs[campaign_id]
            run.caller_id_rested = rested
            run.caller_id_caps = caps
            run.caller_id_hard_caps = state.hard_caps.get(campaign_id, True)
            if run.caller_id_day != day_start:  # a new day: the counts start again
                run.caller_id_day = day_start
                run.caller_id_used = {}
            for number in pools[campaign_id]:
                stored = state.used_today.get(number, 0)
                # dials since the count was read are only in memory: keep the larger
                run.caller_id_used[number] = max(stored, run.caller_id_used.get(number, 0))
        self.refreshes += 1
