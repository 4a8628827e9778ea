"""Abandonment control: how much risk one more call may carry, from what was measured.

Two loops share the work:
- a tracking loop: an integrator of (aimed rate × live answers − abandons) moves the
  per-call risk threshold on a log scale, so the measured rate settles at the target minus
  the margin; its gain shrinks as the expected number of abandons grows, so a big team is
  not shaken by each one and a small team reacts to every one;
- a budget guard over the regulatory window: the abandons still allowed are
  target × max(live answers, credit) − abandons. The credit lets a fresh window start
  predictive, but never beyond the answers the team can earn back within an hour or so.
  The spare budget is what is left after two reserves: the abandons the calls already in
  flight are expected to cause, and one whole abandon so the next one still fits. As the
  spare runs low the threshold is scaled down; once it is gone the campaign falls back to
  progressive dialling (which cannot abandon) until new live answers earn budget back.

The guard is what keeps every window under the target, small teams included; the tracking
margin keeps the guard from having to step in, since squeezing the threshold costs more
occupancy than the last few tenths of a percent of abandonment buy.

The window's counts come from the runtime (`set_window`, e.g. the calendar day in the UK
or the rolling 30 days in the US, read from the database); until then the controller keeps
its own rolling window of `abandon_window_seconds` from the observations.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from pacing.config import PacerConfig
from pacing.decay import DecayClock

# Live answers counted by the gain schedule forget with this half-life.
_GAIN_HALF_LIFE_SECONDS = 300.0
# The threshold starts at this multiple of the aimed rate (marginal risks exceed the average).
BASE_RISK_PER_AIMED_RATE = 2.0


@dataclass(frozen=True, slots=True)
class AbandonBudget:
    """The regulatory window as the controller sees it."""

    live_answers: float
    abandons: float
    abandons_left: float

    @property
    def rate(self) -> float:
        """Abandoned ÷ live answers in the window (0 when nothing was answered)."""
        return self.abandons / self.live_answers if self.live_answers > 0 else 0.0


class AbandonmentController:
    """Turns measured abandonment into the per-call risk threshold of the predictive policy."""

    def __init__(self, config: PacerConfig) -> None:
        self._config = config
        self._aimed = config.aimed_abandon_rate
        self._base_risk = min(
            config.max_call_risk, max(config.min_call_risk, BASE_RISK_PER_AIMED_RATE * self._aimed)
        )
        self._integral = 0.0
        self._gain_clock = DecayClock(_GAIN_HALF_LIFE_SECONDS)
        self._recent_live = 0.0
        # Own rolling window: (time, live answers, abandons) in arrival order.
        self._events: deque[tuple[float, int, int]] = deque()
        self._own_live = 0
        self._own_abandons = 0
        # Injected window: counts from the runtime plus what was observed since.
        self._injected: tuple[int, int] | None = None
        self._since_live = 0
        self._since_abandons = 0

    # --- observations ----------------------------------------------------------------------
    def observe_live_answer(self, now: float) -> None:
        """A person answered (a live answer in the regulatory sense)."""
        self._record(now, live=1, abandons=0)
        weight, rescale = self._gain_clock.weight(now)
        self._recent_live = self._recent_live * rescale + weight
        self._step(self._aimed, now)

    def observe_abandon(self, now: float) -> None:
        """A live call found no agent within the connect window."""
        self._record(now, live=0, abandons=1)
        self._step(-1.0, now)

    def set_window(self, live_answers: int, abandons: int) -> None:
        """Replace the window's counts with the runtime's (see `Pacer.set_abandon_window`)."""
        if live_answers < 0 or abandons < 0:
            raise ValueError("window counts must be >= 0")
        self._injected = (live_answers, abandons)
        self._since_live = 0
        self._since_abandons = 0

    # --- what the policy asks ---------------------------------------------------------------
    def budget(self, now: float, credit_cap: float | None = None) -> AbandonBudget:
        """Counts of the regulatory window and the abandons still allowed in it.

        `credit_cap` bounds the credited answers (the pacer passes what the team can take
        in `abandon_credit_hours`), so a small team is not lent budget it cannot repay.
        """
        if self._injected is not None:
            live = self._injected[0] + self._since_live
            abandons = self._injected[1] + self._since_abandons
        else:
            self._expire(now)
            live, abandons = self._own_live, self._own_abandons
        credit = self._config.abandon_budget_credit_answers
        if credit_cap is not None:
            credit = min(credit, max(credit_cap, 0.0))
        credited = max(float(live), credit)
        allowed = self._config.target_abandon_rate * credited
        return AbandonBudget(float(live), float(abandons), allowed - abandons)

    def call_risk(
        self,
        budget: AbandonBudget,
        now: float,
        live_in_flight: float = 0.0,
        unserved: int = 0,
    ) -> float:
        """Marginal abandonment risk one more call may carry; 0 means dial progressively.

        Calls already launched can abandon after a switch to progressive, so their expected
        abandons are paid for first: `live_in_flight` expected live answers among them, each
        abandoned at about the aimed rate (what the tracking loop delivers), plus `unserved`
        live calls waiting with no ready agent, each counted as lost.
        """
        in_flight = self._aimed * max(live_in_flight, 0.0) + max(unserved, 0)
        spare = budget.abandons_left - self._config.abandon_reserve - in_flight
        if spare <= 0.0:
            return 0.0
        risk = self._tracking_risk(now)
        soft = self._config.abandon_budget_soft_limit
        if spare < soft:
            risk *= spare / soft
        return max(self._config.min_call_risk, risk)

    # --- internals --------------------------------------------------------------------------
    def _gain(self, now: float) -> float:
        recent = self._recent_live / self._gain_clock.present_weight(now)
        return self._config.abandon_feedback_gain / math.sqrt(1.0 + self._aimed * recent)

    def _tracking_risk(self, now: float) -> float:
        return self._clamp(self._base_risk * math.exp(self._gain(now) * self._integral))

    def _clamp(self, risk: float) -> float:
        return min(self._config.max_call_risk, max(self._config.min_call_risk, risk))

    def _step(self, delta: float, now: float) -> None:
        """Integrate one event, with anti-windup at the threshold's bounds."""
        gain = self._gain(now)
        self._integral += delta
        unclamped = self._base_risk * math.exp(gain * self._integral)
        clamped = self._clamp(unclamped)
        if clamped != unclamped:
            self._integral = math.log(clamped / self._base_risk) / gain

    def _record(self, now: float, live: int, abandons: int) -> None:
        if self._injected is not None:
            self._since_live += live
            self._since_abandons += abandons
        self._events.append((now, live, abandons))
        self._own_live += live
        self._own_abandons += abandons
        self._expire(now)

    def _expire(self, now: float) -> None:
        horizon = now - self._config.abandon_window_seconds
        events = self._events
        while events and events[0][0] <= horizon:
            _, live, abandons = events.popleft()
            self._own_live -= live
            self._own_abandons -= abandons
