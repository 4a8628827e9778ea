"""Precomputed forecast tables: who becomes free, and which calls go live, by each horizon.

The tables turn the estimators into lookups indexed by whole seconds of elapsed time, so a
pacing tick costs one gather per group of agents or calls. They are rebuilt when the
estimators changed, at most every `REFRESH_SECONDS` of pacer time.

Horizons are the times a new call takes to become live (launch → a person answers → AMD
says so): the 1/6, 1/2 and 5/6 quantiles, each standing for a third of new live calls.
Supply is read at the horizon, demand at the end of its third (the last third counts every
call that will ever go live), which errs on the careful side. At horizon h:
- a ringing call of age a goes live with P(person answers in (a, a + d − amd] | still
  ringing at a), the posterior given its ring age (d: the demand end of the horizon);
- an agent wrapping up for e seconds is free by h + w (w: the connect window) with
  P(W <= e + h + w | W > e);
- an agent talking for e seconds with P(T + W <= e + h + w | T > e), wrap-up included,
  conditional on the elapsed talk rather than its mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pacing.estimators import RING_BINS, OutcomeEstimator, TalkEstimator, WrapEstimator

REFRESH_SECONDS = 10.0
TALK_GRID = 7_200
HORIZON_QUANTILES: tuple[float, ...] = (1.0 / 6.0, 0.5, 5.0 / 6.0)
DEMAND_QUANTILES: tuple[float, ...] = (1.0 / 3.0, 2.0 / 3.0, 1.0)


@dataclass(frozen=True, slots=True)
class ForecastTables:
    """Lookup tables for one set of estimates; row k is horizon k."""

    horizons: np.ndarray  # seconds from now until a new call is live, shape (K,)
    weights: np.ndarray  # share of new live calls each horizon stands for, shape (K,)
    new_call_live: np.ndarray  # P(a new call is live by horizon k), shape (K,)
    person_share: float  # P(person | answered): a call in AMD goes live with this
    ringing_live: np.ndarray  # (K, RING_BINS): by ring age in whole seconds
    wrapping_free: np.ndarray  # (K, WrapEstimator.BINS): by wrap-up elapsed
    talking_free: np.ndarray  # (K, TALK_GRID): by talk elapsed
    # The same tables as Python lists, faster than numpy for a handful of lookups.
    ringing_live_rows: tuple[list[float], ...]
    wrapping_free_rows: tuple[list[float], ...]
    talking_free_rows: tuple[list[float], ...]


def build_tables(
    outcomes: OutcomeEstimator,
    talk_mu_sigma: tuple[float, float],
    wrap: WrapEstimator,
    amd_seconds: float,
    connect_window_seconds: float,
) -> ForecastTables:
    """Derive every lookup table from the current estimates (talk: lognormal parameters)."""
    amd = round(amd_seconds)
    human_cdf = outcomes.human_answer_cdf()  # P(person answers within k+1 s of launch)
    live_rate = float(human_cdf[-1])
    conditional = human_cdf / max(live_rate, 1e-12)

    ring_quantiles = [int(np.searchsorted(conditional, q)) + 1 for q in HORIZON_QUANTILES]
    horizons = np.array([r + amd for r in ring_quantiles], dtype=float)
    weights = np.full(len(horizons), 1.0 / len(horizons))
    # Demand is counted up to the end of each horizon's share of landings (the last one
    # takes every call that will ever go live), so the late tail is never left out.
    demand_quantiles = [
        min(int(np.searchsorted(conditional, q - 1e-9)) + 1, RING_BINS) for q in DEMAND_QUANTILES
    ]
    demand_quantiles[-1] = RING_BINS
    new_call_live = np.array([human_cdf[r - 1] for r in demand_quantiles])

    # Ringing calls: P(answered by a person in [a, a + r)) / P(still ringing at a).
    survival = outcomes.unresolved_survival()
    cdf_padded = np.concatenate(([0.0], human_cdf, np.full(RING_BINS, human_cdf[-1])))
    ages = np.arange(RING_BINS)
    ringing_live = np.empty((len(horizons), RING_BINS))
    for k, r in enumerate(demand_quantiles):
        answered = cdf_padded[ages + r] - cdf_padded[ages]
        ringing_live[k] = np.clip(answered / survival, 0.0, 1.0)

    wrap_cdf = wrap.cdf_grid()  # P(W < k+1)
    wrap_below = np.concatenate(([0.0], wrap_cdf))  # wrap_below[m] = P(W < m)
    wrap_bins = len(wrap_cdf)
    talk_cdf = TalkEstimator.cdf_grid(TALK_GRID + 128, *talk_mu_sigma)
    talk_survival = np.maximum(1.0 - talk_cdf[:TALK_GRID], 1e-300)
    talk_ends = np.diff(talk_cdf)  # talk_ends[i] = P(i < T <= i + 1)
    mean_wrap = max(wrap.mean_seconds, 1.0)

    wrapping_free = np.empty((len(horizons), wrap_bins))
    talking_free = np.empty((len(horizons), TALK_GRID))
    elapsed_wrap = np.arange(wrap_bins)
    for k, h in enumerate(horizons):
        reach = round(h + connect_window_seconds)
        upper = wrap_below[np.minimum(elapsed_wrap + reach, wrap_bins)]
        lower = wrap_below[elapsed_wrap]
        still = 1.0 - lower
        with np.errstate(divide="ignore", invalid="ignore"):
            free = np.where(still > 1e-9, (upper - lower) / still, reach / (reach + mean_wrap))
        wrapping_free[k] = np.clip(free, 0.0, 1.0)

        # Talk ends j seconds from now (j = 1..reach), then wrap-up must fit in reach − j.
        # fits[j - 1]: the wrap-up fits in the reach − j + 0.5 seconds left after talk ends.
        rooms = [int(reach - j + 0.5) for j in range(1, reach + 1)]
        fits = np.array(
            [
                0.5 * (wrap_below[min(r, wrap_bins)] + wrap_below[min(r + 1, wrap_bins)])
                for r in rooms
            ]
        )
        finished = np.correlate(talk_ends[: TALK_GRID + reach - 1], fits, mode="valid")
        talking_free[k] = np.clip(finished / talk_survival, 0.0, 1.0)

    return ForecastTables(
        horizons=horizons,
        weights=weights,
        new_call_live=new_call_live,
        person_share=outcomes.person_share_of_answers,
        ringing_live=ringing_live,
        wrapping_free=wrapping_free,
        talking_free=talking_free,
        ringing_live_rows=tuple(row.tolist() for row in ringing_live),
        wrapping_free_rows=tuple(row.tolist() for row in wrapping_free),
        talking_free_rows=tuple(row.tolist() for row in talking_free),
    )
