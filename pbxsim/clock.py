"""Simulated time: every duration in the simulator is in simulated seconds, run faster than real
time by `time_scale`, so minutes of calls fit in seconds of a test."""

from __future__ import annotations

import asyncio


class SimClock:
    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = time_scale
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()

    def now(self) -> float:
        """Simulated seconds since the simulator started."""
        if self._loop is None:
            return 0.0
        return (self._loop.time() - self._t0) * self.time_scale

    def real(self, sim_seconds: float) -> float:
        return max(0.0, sim_seconds) / self.time_scale

    async def sleep(self, sim_seconds: float) -> None:
        await asyncio.sleep(self.real(sim_seconds))
