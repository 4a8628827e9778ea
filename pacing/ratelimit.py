"""Calls-per-second cap over the campaign's trunks, as a token bucket fed by `now`."""

from __future__ import annotations

import math


class CallRateLimiter:
    """Allows at most `rate` new calls per second, in bursts of at most one second's worth.

    The pacer assumes the calls it asks for are placed, so what it returns is charged.
    """

    __slots__ = ("_capacity", "_last", "_rate", "_tokens")

    def __init__(self, rate: float | None) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate) if rate is not None else math.inf
        self._tokens = self._capacity
        self._last: float | None = None

    def available(self, now: float) -> int:
        """Whole calls that may start at `now`."""
        if self._rate is None:
            return 1 << 30
        if self._last is not None and now > self._last:
            self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
        if self._last is None or now > self._last:
            self._last = now
        return int(self._tokens + 1e-9)

    def charge(self, calls: int) -> None:
        """Spend tokens for calls just handed out."""
        if self._rate is not None:
            self._tokens -= calls
