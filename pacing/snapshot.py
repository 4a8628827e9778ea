"""The state of one campaign at a pacing tick, as the runtime sees it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the pacer needs to know right now; every time is in seconds.

    `agents_logged_in` counts agents that are neither paused nor offline; paused agents
    appear nowhere. `talking_elapsed`, `wrapping_elapsed` and `ringing_elapsed` hold one
    entry per busy agent or in-flight call.
    """

    now: float
    agents_logged_in: int
    agents_ready: int
    talking_elapsed: Sequence[float] = field(default_factory=tuple)
    wrapping_elapsed: Sequence[float] = field(default_factory=tuple)
    ringing_elapsed: Sequence[float] = field(default_factory=tuple)
    waiting_for_agent: int = 0
    in_amd: int = 0

    @property
    def calls_in_flight(self) -> int:
        """Customer calls launched and not yet connected or ended."""
        return len(self.ringing_elapsed) + self.in_amd + self.waiting_for_agent
