"""Exponential forgetting without touching every weight on every observation.

New observations get weight 2**((now - origin) / half_life) instead of shrinking all old
ones; ratios of weighted sums are unchanged by the common factor. When the weights grow
large the origin moves forward and the owner rescales what it holds.
"""

from __future__ import annotations

import math

_RESCALE_EXPONENT = 60.0


class DecayClock:
    """Hands out the weight of an observation made at `now` (seconds, any monotonic scale)."""

    __slots__ = ("half_life", "origin")

    def __init__(self, half_life: float, origin: float | None = None) -> None:
        self.half_life = half_life
        self.origin = origin

    def weight(self, now: float) -> tuple[float, float]:
        """(weight of a new observation, factor to rescale every stored weight by).

        The factor is 1.0 unless the origin just moved forward; the caller multiplies its
        stored sums by it before adding the new weight.
        """
        if self.origin is None:
            self.origin = now
        exponent = (now - self.origin) / self.half_life
        rescale = 1.0
        if exponent > _RESCALE_EXPONENT:
            rescale = math.pow(2.0, -exponent)
            self.origin = now
            exponent = 0.0
        return math.pow(2.0, exponent), rescale

    def present_weight(self, now: float) -> float:
        """Weight an observation made at `now` would get, without moving the origin."""
        if self.origin is None:
            return 1.0
        return math.pow(2.0, (now - self.origin) / self.half_life)
