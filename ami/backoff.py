"""Reconnect delays: exponential, capped, with jitter so many dialers do not reconnect in step."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    initial_s: float = 0.5
    maximum_s: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.2  # +/- this fraction of the delay
    max_attempts: int | None = None  # None: keep trying for as long as the client is open

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.maximum_s:
            raise ValueError("need 0 < initial_s <= maximum_s")
        if self.multiplier < 1 or not 0 <= self.jitter < 1:
            raise ValueError("need multiplier >= 1 and 0 <= jitter < 1")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (or None)")

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before reconnect attempt number `attempt` (0 = first retry)."""
        base = min(self.maximum_s, self.initial_s * self.multiplier ** min(attempt, 64))
        return base * (1.0 + rng.uniform(-self.jitter, self.jitter))
