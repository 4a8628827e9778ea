"""The Pacer: observations in, number of calls to launch out. Pure and clock-free."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pacing.abandonment import AbandonmentController
from pacing.config import PacerConfig
from pacing.estimators import RING_BINS, OutcomeEstimator, TalkEstimator, WrapEstimator
from pacing.excess import (
    ExactHorizon,
    HorizonMoments,
    max_calls_exact,
    max_calls_normal,
)
from pacing.forecast import REFRESH_SECONDS, TALK_GRID, ForecastTables, build_tables
from pacing.policies import progressive_calls, ratio_calls
from pacing.ratelimit import CallRateLimiter
from pacing.snapshot import Snapshot

# Small teams get the exact Poisson-binomial (up to this many uncertain terms); larger ones
# the normal approximation, which also carries the uncertainty of the answer-rate estimate.
EXACT_AGENTS_LIMIT = 12
EXACT_TERMS_LIMIT = 40
# Below this many entries per group, Python list lookups beat numpy's fixed overhead.
NUMPY_FROM = 48


@dataclass(frozen=True, slots=True)
class PacerStats:
    """Read-only view for dashboards; every value reflects the last decision or estimate."""

    mode: str  # configured mode
    mode_used: str  # what the last decision did: predictive, progressive, ratio,
    # progressive-warmup (too few outcomes seen yet), progressive-fallback (abandon budget
    # spent) or no-agents
    live_answer_rate: float  # estimated share of dials a person answers
    mean_talk_seconds: float
    mean_wrap_seconds: float
    lines_per_agent: float  # calls in flight after the last decision ÷ logged-in agents
    call_risk: float  # marginal abandonment risk the last predictive decision accepted
    window_live_answers: float
    window_abandons: float
    window_abandon_rate: float
    abandons_left: float  # target × max(answers, credit) − abandons in the window
    last_calls: int


class Pacer:
    """Decides how many calls to launch now for one campaign (see DESIGN.md's contract).

    Feed it observations as they happen, then call `calls_to_place` each tick. The answer
    depends only on the configuration, the observation history and the snapshot; with a
    calls-per-second cap it also depends on earlier answers, which are assumed placed.
    """

    def __init__(self, config: PacerConfig | None = None) -> None:
        self.config = config or PacerConfig()
        c = self.config
        self._outcomes = OutcomeEstimator(
            c.outcome_half_life_seconds,
            c.prior_live_answer_rate,
            c.prior_machine_rate,
            c.prior_outcome_weight,
        )
        self._talk = TalkEstimator(
            c.duration_half_life_seconds,
            c.prior_talk_mean_seconds,
            c.prior_talk_cv,
            c.prior_duration_weight,
        )
        self._wrap = WrapEstimator(
            c.duration_half_life_seconds, c.prior_wrap_mean_seconds, c.prior_duration_weight
        )
        self._controller = AbandonmentController(c)
        per_trunk = c.trunk_calls_per_second
        self._limiter = CallRateLimiter(None if per_trunk is None else per_trunk * c.trunk_count)
        self._tables: ForecastTables | None = None
        self._tables_versions: tuple[int, int, int] = (-1, -1, -1)
        self._tables_built_at = -math.inf
        self._outcomes_seen = 0
        self._first_dial_at: float | None = None
        self._last_mode = "none"
        self._last_calls = 0
        self._last_risk = 0.0
        self._last_lines = 0.0
        self._last_now = 0.0
        self._credit_cap: float | None = None
        self._cycle_versions = (-1, -1)
        self._cycle_seconds = 1.0
        self._shares_version = -1
        self._shares = (0.0, 1.0)

    # --- observations (contract) -------------------------------------------------------------
    def observe_outcome(self, outcome: str, ring_seconds: float, now: float) -> None:
        """A dial resolved: "human" | "machine" | "no_answer" | "busy" | "failed".

        `ring_seconds` runs from launch to the answer (human, machine) or to the failure.
        A "human" outcome is a live answer for the abandonment window.
        """
        self._outcomes.observe(outcome, ring_seconds, now)
        self._outcomes_seen += 1
        if outcome == "human":
            self._controller.observe_live_answer(now)

    def observe_connect(self, wait_seconds: float, now: float) -> None:
        """A live call reached an agent after waiting `wait_seconds` (not used for pacing)."""

    def observe_abandon(self, now: float) -> None:
        """A live call found no agent within the connect window."""
        self._controller.observe_abandon(now)

    def observe_talk(self, seconds: float, now: float) -> None:
        """A talk period ended."""
        self._talk.observe(seconds, now)

    def observe_wrap(self, seconds: float, now: float) -> None:
        """A wrap-up period ended."""
        self._wrap.observe(seconds, now)

    # --- runtime extras ---------------------------------------------------------------------
    def set_abandon_window(self, live_answers: int, abandons: int) -> None:
        """Inject the regulatory window's counts (from the database).

        The runtime owns the window (calendar day, rolling 30 days, ...). Observations made
        after the call are added on top until the next injection; call it again whenever the
        window moves. Without it the pacer keeps its own rolling window of
        `PacerConfig.abandon_window_seconds`.
        """
        self._controller.set_window(live_answers, abandons)

    def stats(self) -> PacerStats:
        """Estimates and the state of the last decision, for dashboards."""
        budget = self._controller.budget(self._last_now, self._credit_cap)
        return PacerStats(
            mode=self.config.mode,
            mode_used=self._last_mode,
            live_answer_rate=self._outcomes.live_answer_rate,
            mean_talk_seconds=self._talk.mean_seconds,
            mean_wrap_seconds=self._wrap.mean_seconds,
            lines_per_agent=self._last_lines,
            call_risk=self._last_risk,
            window_live_answers=budget.live_answers,
            window_abandons=budget.abandons,
            window_abandon_rate=budget.rate,
            abandons_left=budget.abandons_left,
            last_calls=self._last_calls,
        )

    # --- the decision (contract) ------------------------------------------------------------
    def calls_to_place(self, snapshot: Snapshot) -> int:
        """New calls to launch now (>= 0). Never dials with no agent logged in."""
        now = snapshot.now
        self._last_now = now
        logged_in = snapshot.agents_logged_in
        in_flight = snapshot.calls_in_flight
        if logged_in <= 0:
            return self._finish("no-agents", 0, in_flight, 1, 0.0)
        ready = min(max(snapshot.agents_ready, 0), logged_in)
        room = max(0, math.floor(self.config.max_lines_per_agent * logged_in) - in_flight)
        mode = self.config.mode
        risk = 0.0
        if mode == "progressive":
            calls = progressive_calls(ready, in_flight)
        elif mode == "ratio":
            busy_room = max(0, logged_in - ready)
            talking = min(len(snapshot.talking_elapsed), busy_room)
            calls = ratio_calls(self.config.ratio, ready, talking, in_flight)
        else:
            self._credit_cap = self._team_answers(logged_in)
            budget = self._controller.budget(now, self._credit_cap)
            live_rate, person_share = self._live_shares()
            live_in_flight = (
                len(snapshot.ringing_elapsed) * live_rate + snapshot.in_amd * person_share
            )
            unserved = max(0, snapshot.waiting_for_agent - ready)
            risk = self._controller.call_risk(budget, now, live_in_flight, unserved)
            calls = progressive_calls(ready, in_flight)
            if self._warming_up(now):
                mode = "progressive-warmup"
            elif risk <= 0.0:
                mode = "progressive-fallback"
            elif room > calls:
                calls = max(calls, self._predictive_calls(snapshot, ready, logged_in, risk, room))
        calls = min(calls, room)
        allowed = self._limiter.available(now)
        calls = min(calls, allowed)
        self._limiter.charge(calls)
        return self._finish(mode, calls, in_flight, logged_in, risk)

    def _team_answers(self, logged_in: int) -> float:
        """Live answers the team can take in `abandon_credit_hours`: one per talk + wrap-up.

        The mean cycle is cached per estimator version: this runs on every tick.
        """
        versions = (self._talk.version, self._wrap.version)
        if versions != self._cycle_versions:
            self._cycle_seconds = max(self._talk.mean_seconds + self._wrap.mean_seconds, 1.0)
            self._cycle_versions = versions
        return logged_in * 3600.0 * self.config.abandon_credit_hours / self._cycle_seconds

    def _live_shares(self) -> tuple[float, float]:
        """(live-answer rate, person share of answers), cached per outcome-estimator version."""
        if self._shares_version != self._outcomes.version:
            self._shares = (
                self._outcomes.live_answer_rate,
                self._outcomes.person_share_of_answers,
            )
            self._shares_version = self._outcomes.version
        return self._shares

    def _warming_up(self, now: float) -> bool:
        if self._outcomes_seen < self.config.warmup_outcomes:
            return True
        if self.config.warmup_seconds <= 0.0:
            return False
        if self._first_dial_at is None:
            return True
        return now - self._first_dial_at < self.config.warmup_seconds

    def _finish(self, mode: str, calls: int, in_flight: int, logged_in: int, risk: float) -> int:
        if calls > 0 and self._first_dial_at is None:
            self._first_dial_at = self._last_now
        self._last_mode = mode
        self._last_calls = calls
        self._last_risk = risk
        self._last_lines = (in_flight + calls) / logged_in
        return calls

    def _current_tables(self, snapshot: Snapshot) -> ForecastTables:
        now = snapshot.now
        versions = (self._outcomes.version, self._talk.version, self._wrap.version)
        stale = versions != self._tables_versions and now - self._tables_built_at >= REFRESH_SECONDS
        if self._tables is None or stale:
            self._tables = build_tables(
                self._outcomes,
                self._talk.mu_sigma_censored(now, snapshot.talking_elapsed),
                self._wrap,
                self.config.amd_seconds,
                self.config.connect_window_seconds,
            )
            self._tables_versions = versions
            self._tables_built_at = now
        return self._tables

    def _predictive_calls(
        self, snapshot: Snapshot, ready: int, logged_in: int, risk: float, room: int
    ) -> int:
        tables = self._current_tables(snapshot)
        # Paused agents appear nowhere; never count more busy agents than are logged in.
        busy_room = max(0, logged_in - ready)
        talking = snapshot.talking_elapsed
        wrapping = snapshot.wrapping_elapsed
        if len(wrapping) > busy_room:
            wrapping = wrapping[:busy_room]
        if len(talking) > busy_room - len(wrapping):
            talking = talking[: busy_room - len(wrapping)]
        ringing = snapshot.ringing_elapsed
        certain = snapshot.waiting_for_agent - ready
        terms = len(talking) + len(wrapping) + len(ringing) + snapshot.in_amd
        if logged_in <= EXACT_AGENTS_LIMIT and terms <= EXACT_TERMS_LIMIT:
            return self._exact_calls(
                tables, certain, talking, wrapping, ringing, snapshot.in_amd, risk, room
            )
        return self._normal_calls(
            tables, certain, talking, wrapping, ringing, snapshot.in_amd, risk, room, snapshot.now
        )

    def _exact_calls(
        self,
        tables: ForecastTables,
        certain: int,
        talking: Sequence[float],
        wrapping: Sequence[float],
        ringing: Sequence[float],
        in_amd: int,
        risk: float,
        room: int,
    ) -> int:
        """Exact Poisson-binomial decision, for small teams."""
        horizons: list[ExactHorizon] = []
        amd_terms = [tables.person_share] * in_amd
        for k in range(len(tables.horizons)):
            ring_row = tables.ringing_live_rows[k]
            wrap_row = tables.wrapping_free_rows[k]
            talk_row = tables.talking_free_rows[k]
            demand = [ring_row[_index(a, RING_BINS)] for a in ringing]
            demand.extend(amd_terms)
            supply = [wrap_row[_index(e, len(wrap_row))] for e in wrapping]
            supply.extend(talk_row[_index(e, TALK_GRID)] for e in talking)
            horizons.append(
                ExactHorizon.build(
                    float(tables.weights[k]),
                    certain,
                    demand,
                    supply,
                    float(tables.new_call_live[k]),
                )
            )
        return max_calls_exact(horizons, risk, room)

    def _normal_calls(
        self,
        tables: ForecastTables,
        certain: int,
        talking: Sequence[float],
        wrapping: Sequence[float],
        ringing: Sequence[float],
        in_amd: int,
        risk: float,
        room: int,
        now: float,
    ) -> int:
        """Normal-approximation decision from the moments of each group of agents and calls."""
        k_count = len(tables.horizons)
        ring_sum, ring_var = _group_moments(
            ringing, tables.ringing_live, tables.ringing_live_rows, RING_BINS
        )
        wrap_sum, wrap_var = _group_moments(
            wrapping, tables.wrapping_free, tables.wrapping_free_rows, WrapEstimator.BINS
        )
        talk_sum, talk_var = _group_moments(
            talking, tables.talking_free, tables.talking_free_rows, TALK_GRID
        )
        share = tables.person_share
        amd_mean = in_amd * share
        amd_var = amd_mean * (1.0 - share)
        rel_variance = self._outcomes.live_rate_relative_variance(now)
        horizons = [
            HorizonMoments(
                float(tables.weights[k]),
                certain + ring_sum[k] + amd_mean - wrap_sum[k] - talk_sum[k],
                ring_var[k] + amd_var + wrap_var[k] + talk_var[k],
                float(tables.new_call_live[k]),
                ring_sum[k],
                rel_variance,
            )
            for k in range(k_count)
        ]
        return max_calls_normal(horizons, risk, room)


def _group_moments(
    values: Sequence[float], table: np.ndarray, rows: tuple[list[float], ...], length: int
) -> tuple[list[float], list[float]]:
    """Per horizon: Σ p and Σ p(1 − p) of one group's Bernoulli terms, looked up by age.

    Python lookups for a handful of entries, one numpy gather for many.
    """
    k_count = len(rows)
    if not len(values):
        return [0.0] * k_count, [0.0] * k_count
    if len(values) < NUMPY_FROM:
        indices = [_index(v, length) for v in values]
        sums: list[float] = []
        variances: list[float] = []
        for row in rows:
            total = 0.0
            squares = 0.0
            for i in indices:
                p = row[i]
                total += p
                squares += p * p
            sums.append(total)
            variances.append(total - squares)
        return sums, variances
    index = np.asarray(values, dtype=float).astype(np.intp)
    np.clip(index, 0, length - 1, out=index)
    p = table[:, index]
    totals = p.sum(axis=1)
    return totals.tolist(), (totals - (p * p).sum(axis=1)).tolist()


def _index(seconds: float, length: int) -> int:
    i = int(seconds)
    if i < 0:
        return 0
    return i if i < length else length - 1
