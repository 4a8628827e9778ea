"""Forecast tables: who is free and which calls are live by each horizon."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from pacing.estimators import OutcomeEstimator, TalkEstimator, WrapEstimator
from pacing.forecast import TALK_GRID, build_tables
from pacing.pacer import NUMPY_FROM, _group_moments
from pacing.ratelimit import CallRateLimiter


def _tables():
    rng = random.Random(11)
    outcomes = OutcomeEstimator(600.0, 0.3, 0.1, 40.0)
    wrap = WrapEstimator(1_800.0, 20.0, 30.0)
    for i in range(3_000):
        u = rng.random()
        if u < 0.3:
            outcomes.observe("human", rng.lognormvariate(2.0, 0.5), i * 0.5)
        elif u < 0.45:
            outcomes.observe("machine", rng.uniform(8.0, 18.0), i * 0.5)
        else:
            outcomes.observe("no_answer", rng.uniform(20.0, 25.0), i * 0.5)
        wrap.observe(rng.uniform(10.0, 30.0), i * 0.5)
    return build_tables(outcomes, (math.log(150.0), 0.8), wrap, 2.5, 2.0)


def test_horizons_are_ordered_and_new_calls_go_live_at_the_answer_rate() -> None:
    tables = _tables()
    assert list(tables.horizons) == sorted(tables.horizons)
    assert tables.weights.sum() == pytest.approx(1.0)
    assert tables.new_call_live[-1] == pytest.approx(0.3, abs=0.03)
    assert np.all(np.diff(tables.new_call_live) > 0)
    assert tables.person_share == pytest.approx(0.3 / 0.45, abs=0.05)


def test_a_wrap_up_near_its_end_is_nearly_certain_to_free_the_agent() -> None:
    tables = _tables()
    row = tables.wrapping_free[1]
    assert row[2] < row[15] < row[25]
    assert row[25] > 0.95
    assert row[0] < 0.6  # U(10, 30) with ~13 s of reach


def test_talking_agents_need_their_wrap_up_too() -> None:
    tables = _tables()
    # Talk must end within the reach and a ≥ 10 s wrap-up still fit: small but not zero.
    assert np.all(tables.talking_free < 0.2)
    assert tables.talking_free[-1, 100] > tables.talking_free[1, 100] > 0.0
    assert tables.talking_free[0].max() == 0.0  # reach 9 s: no 10 s wrap-up fits
    assert tables.talking_free.shape[1] == TALK_GRID


def test_ringing_posterior_drops_past_the_usual_answer_times() -> None:
    tables = _tables()
    last = tables.ringing_live[-1]
    assert last[2] > last[12] > last[19]
    # Between the usual answer times and the ring timeout, almost only no-answers are left.
    assert max(last[18:23]) < 0.05


@pytest.mark.parametrize("count", [3, NUMPY_FROM + 10])
def test_python_and_numpy_lookups_agree(count: int) -> None:
    tables = _tables()
    values = [float(v) for v in np.linspace(0.0, 30.0, count)]
    sums, variances = _group_moments(
        values, tables.wrapping_free, tables.wrapping_free_rows, WrapEstimator.BINS
    )
    expected = tables.wrapping_free[:, [int(v) for v in values]]
    assert sums == pytest.approx(expected.sum(axis=1).tolist())
    assert variances == pytest.approx((expected * (1 - expected)).sum(axis=1).tolist())


def test_talk_cdf_grid_matches_the_lognormal() -> None:
    grid = TalkEstimator.cdf_grid(400, math.log(100.0), 0.5)
    expected = 0.5 * math.erfc(-(math.log(300.0) - math.log(100.0)) / 0.5 / math.sqrt(2))
    assert grid[300] == pytest.approx(expected, abs=1e-6)


def test_rate_limiter_refills_with_time() -> None:
    limiter = CallRateLimiter(2.0)
    assert limiter.available(0.0) == 2
    limiter.charge(2)
    assert limiter.available(0.2) == 0
    assert limiter.available(1.0) == 2
    assert CallRateLimiter(None).available(0.0) > 10**6
