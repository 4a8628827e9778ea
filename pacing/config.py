"""Pacer configuration: the contract fields plus tuning knobs, all with working defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PacingMode = Literal["progressive", "ratio", "predictive"]
PACING_MODES: tuple[str, ...] = ("progressive", "ratio", "predictive")


@dataclass(frozen=True, slots=True)
class PacerConfig:
    """How one campaign is paced.

    The contract fields are `mode`, `target_abandon_rate` and `ratio`; the rest tune the
    predictive model, the abandonment controller and the safety rails.
    """

    mode: PacingMode = "predictive"
    # Abandoned calls ÷ live answers allowed over the regulatory window (3 % in the US and UK).
    target_abandon_rate: float = 0.03
    # Lines per agent in "ratio" mode, VICIdial RATIO semantics (see `policies.ratio_calls`).
    ratio: float = 1.5

    # --- abandonment controller -------------------------------------------------------
    # The controller aims at target minus this margin, so noise stays under the target and
    # the budget guard below rarely has to step in: occupancy barely rises with abandonment
    # near the target, but falls fast whenever the guard squeezes the risk threshold, so a
    # narrower margin spends more abandons for less occupancy.
    abandon_margin: float = 0.008
    # Length of the pacer's own rolling window, used until the runtime injects the
    # regulatory window's counts with `Pacer.set_abandon_window`.
    abandon_window_seconds: float = 86_400.0
    # Live answers credited to an empty window, so a fresh window does not start in
    # progressive; the credit is spent before any measured budget.
    abandon_budget_credit_answers: float = 70.0
    # The credit never exceeds the live answers the logged-in team is expected to take in
    # this many hours: a one- or two-agent team cannot earn 70 answers back in a shift, so
    # an abandon spent on credit would leave its window over the target.
    abandon_credit_hours: float = 1.0
    # Abandons kept in reserve on top of those the calls in flight are still expected to
    # cause: one whole abandon, so the next one still fits in the budget. With less spare
    # budget the campaign dials progressively.
    abandon_reserve: float = 1.0
    # Spare budget (abandons beyond the reserves) below which the controller turns
    # progressively careful.
    abandon_budget_soft_limit: float = 2.5
    # Per-abandon gain of the feedback loop on the risk threshold (log scale).
    abandon_feedback_gain: float = 0.15
    # Bounds of the marginal abandonment risk the predictive policy accepts for one call.
    min_call_risk: float = 0.002
    max_call_risk: float = 0.45

    # --- estimators ----------------------------------------------------------------------
    # Half-life of the answer-rate and ring-time estimators, so a drifting list is followed.
    outcome_half_life_seconds: float = 600.0
    # Half-life of the talk and wrap-up estimators.
    duration_half_life_seconds: float = 1_800.0
    # Cold-start priors (weights are in observations and decay like real ones).
    prior_live_answer_rate: float = 0.3
    prior_machine_rate: float = 0.1
    prior_outcome_weight: float = 40.0
    prior_talk_mean_seconds: float = 180.0
    prior_talk_cv: float = 1.0
    prior_wrap_mean_seconds: float = 20.0
    prior_duration_weight: float = 30.0
    # Dial progressively until this many call outcomes were observed and the first calls had
    # this long to resolve: the priors are only a guess, early outcomes are the quick ones
    # (busy, failed), and a wrong answer-rate guess times a team of ready agents is a burst
    # of abandons. By 15 s most people who will answer have answered, and the calls still
    # ringing are mostly no-answers, which bias the estimate towards caution, not risk.
    warmup_outcomes: int = 30
    warmup_seconds: float = 15.0
    # Mean time answering-machine detection takes to call a person a person (0 without AMD).
    amd_seconds: float = 2.5
    # A live call waits this long for an agent before it is abandoned (safe-harbor message).
    connect_window_seconds: float = 2.0

    # --- safety rails ------------------------------------------------------------------------
    # Calls in flight (ringing, in AMD, waiting) per logged-in agent, never exceeded.
    max_lines_per_agent: float = 8.0
    # New calls per second allowed on each trunk, and how many trunks the campaign uses.
    # None: no rate cap (the runtime sets it from the trunk's configuration).
    trunk_calls_per_second: float | None = None
    trunk_count: int = 1

    def __post_init__(self) -> None:
        if self.mode not in PACING_MODES:
            raise ValueError(f"mode must be one of {PACING_MODES}, got {self.mode!r}")
        if not 0.0 < self.target_abandon_rate < 1.0:
            raise ValueError("target_abandon_rate must be in (0, 1)")
        if not 0.0 <= self.abandon_margin < self.target_abandon_rate:
            raise ValueError("abandon_margin must be in [0, target_abandon_rate)")
        if self.ratio < 0.0:
            raise ValueError("ratio must be >= 0")
        if self.abandon_reserve < 0.0:
            raise ValueError("abandon_reserve must be >= 0")
        if self.abandon_budget_credit_answers < 0.0 or self.abandon_credit_hours <= 0.0:
            raise ValueError("abandon credit must be >= 0 and abandon_credit_hours > 0")
        if self.abandon_budget_soft_limit <= 0.0:
            raise ValueError("abandon_budget_soft_limit must be > 0")
        if self.abandon_window_seconds <= 0.0:
            raise ValueError("abandon_window_seconds must be > 0")
        if not 0.0 < self.min_call_risk <= self.max_call_risk < 1.0:
            raise ValueError("need 0 < min_call_risk <= max_call_risk < 1")
        if self.outcome_half_life_seconds <= 0 or self.duration_half_life_seconds <= 0:
            raise ValueError("half-lives must be > 0")
        if not 0.0 < self.prior_live_answer_rate < 1.0:
            raise ValueError("prior_live_answer_rate must be in (0, 1)")
        if not 0.0 <= self.prior_machine_rate < 1.0 - self.prior_live_answer_rate:
            raise ValueError("prior_machine_rate must leave room for other outcomes")
        if self.prior_talk_mean_seconds <= 0 or self.prior_talk_cv <= 0:
            raise ValueError("talk priors must be > 0")
        if self.prior_wrap_mean_seconds < 0:
            raise ValueError("prior_wrap_mean_seconds must be >= 0")
        if self.amd_seconds < 0 or self.connect_window_seconds < 0:
            raise ValueError("amd_seconds and connect_window_seconds must be >= 0")
        if self.max_lines_per_agent < 1.0:
            raise ValueError("max_lines_per_agent must be >= 1")
        if self.trunk_calls_per_second is not None and self.trunk_calls_per_second <= 0:
            raise ValueError("trunk_calls_per_second must be > 0 or None")
        if self.warmup_outcomes < 0 or self.warmup_seconds < 0:
            raise ValueError("warmup_outcomes and warmup_seconds must be >= 0")
        if self.trunk_count < 1:
            raise ValueError("trunk_count must be >= 1")

    @property
    def aimed_abandon_rate(self) -> float:
        """The rate the controller steers to: the target minus the safety margin."""
        return self.target_abandon_rate - self.abandon_margin
