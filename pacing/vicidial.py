"""A port of VICIdial's adaptive pacing (ADAPT_AVERAGE / ADAPT_HARD_LIMIT), for benchmarks.

It follows the logic of AST_VDadapt.pl and AST_VDauto_dial.pl, driven through the same
surface as `Pacer`:
- once a second it samples the ready agents, the live calls waiting for an agent and the
  logged-in agents (VICIdial's one-second stats);
- every 15 s the dial level is multiplied by 1 + (avg ready − avg waiting) ÷ avg agents over
  the last 15 samples, kept within [1.0, 3.0] (adaptive_maximum_level);
- when today's drop rate (abandoned ÷ live answers) exceeds the limit (3 %) once 50 live
  answers were counted, ADAPT_AVERAGE halves the level and ADAPT_HARD_LIMIT resets it to
  1.0 instead of adapting;
- every 2.5 s it places round(level × (ready + talking agents)) − calls in progress, where
  calls in progress are ringing, in AMD, waiting and talking calls (VICIdial's
  vicidial_auto_calls rows stay LIVE while an agent talks).

Simplifications: no adaptive intensity modifier (0), no dial-level difference target (0),
no ADAPT_TAPERED shift schedule, and "today" is the whole run.
"""

from __future__ import annotations

from collections import deque
from typing import Literal

from pacing.snapshot import Snapshot

VicidialVariant = Literal["average", "hard_limit"]


class VicidialAdaptPacer:
    """VICIdial's adaptive dial level, as a pacing policy."""

    def __init__(
        self,
        variant: VicidialVariant = "average",
        drop_limit: float = 0.03,
        max_level: float = 3.0,
        adapt_interval: float = 15.0,
        dial_interval: float = 2.5,
        min_answers_for_drop_rate: int = 50,
    ) -> None:
        if variant not in ("average", "hard_limit"):
            raise ValueError("variant must be 'average' or 'hard_limit'")
        self.variant = variant
        self.drop_limit = drop_limit
        self.max_level = max_level
        self.adapt_interval = adapt_interval
        self.dial_interval = dial_interval
        self.min_answers = min_answers_for_drop_rate
        self.level = 1.0
        self._samples: deque[tuple[int, int, int]] = deque(maxlen=round(adapt_interval))
        self._next_sample: float | None = None
        self._next_adapt: float | None = None
        self._next_dial: float | None = None
        self._answers = 0
        self._drops = 0

    def observe_outcome(self, outcome: str, ring_seconds: float, now: float) -> None:
        """Counts live answers for today's drop rate."""
        if outcome == "human":
            self._answers += 1

    def observe_connect(self, wait_seconds: float, now: float) -> None:
        """Not used by VICIdial's pacing."""

    def observe_abandon(self, now: float) -> None:
        """Counts a drop."""
        self._drops += 1

    def observe_talk(self, seconds: float, now: float) -> None:
        """Not used by VICIdial's pacing."""

    def observe_wrap(self, seconds: float, now: float) -> None:
        """Not used by VICIdial's pacing."""

    @property
    def drop_rate(self) -> float:
        """Today's drops ÷ live answers."""
        return self._drops / self._answers if self._answers else 0.0

    def calls_to_place(self, snapshot: Snapshot) -> int:
        """Samples, adapts and dials on VICIdial's own schedule; 0 between dial rounds."""
        now = snapshot.now
        if self._next_sample is None:
            self._next_sample = self._next_dial = now
            self._next_adapt = now + self.adapt_interval
        if now >= self._next_sample:
            self._samples.append(
                (snapshot.agents_ready, snapshot.waiting_for_agent, snapshot.agents_logged_in)
            )
            self._next_sample = now + 1.0
        assert self._next_adapt is not None and self._next_dial is not None
        if now >= self._next_adapt:
            self._adapt()
            self._next_adapt = now + self.adapt_interval
        if snapshot.agents_logged_in <= 0 or now < self._next_dial:
            return 0
        self._next_dial = now + self.dial_interval
        talking = len(snapshot.talking_elapsed)
        goal = round(self.level * (snapshot.agents_ready + talking))
        in_progress = snapshot.calls_in_flight + talking
        return max(0, goal - in_progress)

    def _adapt(self) -> None:
        if self._answers >= self.min_answers and self.drop_rate > self.drop_limit:
            self.level = 1.0 if self.variant == "hard_limit" else max(1.0, self.level / 2.0)
            return
        if not self._samples:
            return
        count = len(self._samples)
        ready = sum(s[0] for s in self._samples) / count
        waiting = sum(s[1] for s in self._samples) / count
        agents = sum(s[2] for s in self._samples) / count
        if agents <= 0:
            return
        self.level = min(self.max_level, max(1.0, self.level * (1.0 + (ready - waiting) / agents)))
