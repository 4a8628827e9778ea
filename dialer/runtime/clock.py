"""Time for the runtime: a monotonic clock for durations and pacing, a wall clock for
records and compliance. `scale` lets a demo or test run simulated minutes in seconds, in
step with the simulated PBX's own time scale."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self, scale: float = 1.0, *, start_wall: datetime | None = None) -> None:
        if scale <= 0:
            raise ValueError("clock scale must be positive")
        self.scale = scale
        self._mono0 = time.monotonic()
        self._wall0 = start_wall or datetime.now(UTC)

    def monotonic(self) -> float:
        """Seconds of (possibly accelerated) time since the clock started."""
        return (time.monotonic() - self._mono0) * self.scale

    def now(self) -> datetime:
        """Aware UTC wall time, advancing at the same rate as `monotonic`."""
        return self._wall0 + timedelta(seconds=self.monotonic())

    def real_seconds(self, simulated: float) -> float:
        """How long to sleep for `simulated` seconds to pass on this clock."""
        return simulated / self.scale
