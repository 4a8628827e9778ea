"""Estimators: outcome mix and ring times, talk and wrap-up distributions."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from pacing.estimators import OutcomeEstimator, TalkEstimator, WrapEstimator


def _outcomes(prior_rate: float = 0.3) -> OutcomeEstimator:
    return OutcomeEstimator(600.0, prior_rate, 0.1, 20.0)


def test_outcome_rates_learn_from_observations() -> None:
    estimator = _outcomes()
    rng = random.Random(1)
    for i in range(3_000):
        outcome = "human" if rng.random() < 0.6 else "no_answer"
        estimator.observe(outcome, 10.0, i * 0.2)
    assert estimator.live_answer_rate == pytest.approx(0.6, abs=0.04)
    assert estimator.probabilities().sum() == pytest.approx(1.0)


def test_outcome_rate_follows_a_drifting_list_within_minutes() -> None:
    estimator = _outcomes()
    now = 0.0
    for _ in range(2_000):  # an hour at 0.5 dials/s, half answered
        now += 2.0
        estimator.observe("human" if int(now) % 4 == 0 else "no_answer", 9.0, now)
    assert estimator.live_answer_rate == pytest.approx(0.5, abs=0.05)
    for _ in range(300):  # ten minutes in which nobody answers
        now += 2.0
        estimator.observe("no_answer", 22.0, now)
    assert estimator.live_answer_rate < 0.3


def test_unknown_outcome_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        _outcomes().observe("maybe", 3.0, 0.0)


def test_ringing_posterior_falls_as_a_call_rings_past_typical_answer_times() -> None:
    estimator = _outcomes()
    for i in range(500):
        estimator.observe("human", 6.0, float(i))
        estimator.observe("no_answer", 24.0, float(i))
    survival = estimator.unresolved_survival()
    cdf = estimator.human_answer_cdf()
    # Still ringing at 3 s: about half of those calls will be people; at 15 s almost none.
    early = (cdf[10] - cdf[2]) / survival[3]
    late = (cdf[20] - cdf[14]) / survival[15]
    assert early > 0.4
    assert late < 0.05
    assert np.all(np.diff(survival) <= 1e-12)


def test_effective_dials_and_rate_uncertainty_shrink_with_data() -> None:
    estimator = _outcomes()
    before = estimator.live_rate_relative_variance(0.0)
    for i in range(400):
        estimator.observe("human" if i % 3 == 0 else "busy", 2.0, i * 0.1)
    assert estimator.effective_dials(40.0) > 300
    assert estimator.live_rate_relative_variance(40.0) < before / 5


def test_talk_fit_recovers_lognormal_parameters() -> None:
    rng = random.Random(7)
    estimator = TalkEstimator(1e9, 100.0, 0.5, 1.0)
    sigma = math.sqrt(math.log1p(1.0))
    mu = math.log(180.0) - sigma * sigma / 2
    for i in range(4_000):
        estimator.observe(rng.lognormvariate(mu, sigma), float(i))
    fitted_mu, fitted_sigma = estimator.mu_sigma
    # Calls under 15 s are left out of the fit, so the estimate is a little high.
    assert fitted_mu == pytest.approx(mu, abs=0.1)
    assert fitted_sigma == pytest.approx(sigma, abs=0.1)


def test_censored_talks_pull_a_short_biased_fit_longer() -> None:
    estimator = TalkEstimator(1_800.0, 180.0, 1.0, 1.0)
    for i in range(30):  # right after a start only short calls have ended
        estimator.observe(40.0, float(i))
    mu, _ = estimator.mu_sigma
    censored_mu, _ = estimator.mu_sigma_censored(30.0, [120.0] * 40)
    assert censored_mu > mu + 0.3
    assert estimator.mu_sigma_censored(30.0, []) == estimator.mu_sigma


def test_talk_cdf_grid_is_a_cdf() -> None:
    grid = TalkEstimator.cdf_grid(1_000, math.log(150.0), 0.8)
    assert grid[0] == pytest.approx(0.0, abs=1e-9)
    assert np.all(np.diff(grid) >= 0)
    assert grid[150] == pytest.approx(0.5, abs=0.01)


def test_wrap_histogram_learns_a_uniform_wrap_up() -> None:
    rng = random.Random(3)
    estimator = WrapEstimator(1e9, 60.0, 1.0)
    for i in range(5_000):
        estimator.observe(rng.uniform(10.0, 30.0), float(i))
    cdf = estimator.cdf_grid()
    assert cdf[9] < 0.01  # P(W < 10)
    assert cdf[19] == pytest.approx(0.5, abs=0.03)  # P(W < 20)
    assert cdf[29] > 0.99
    assert estimator.mean_seconds == pytest.approx(20.0, abs=0.5)


def test_forgetting_survives_days_of_observations() -> None:
    # 100 half-lives: the weights are rescaled on the way and stay finite.
    estimator = _outcomes()
    talk = TalkEstimator(600.0, 180.0, 1.0, 5.0)
    now = 0.0
    for _ in range(600):
        now += 100.0
        estimator.observe("human", 8.0, now)
        estimator.observe("no_answer", 23.0, now)
        talk.observe(240.0, now)
    assert estimator.live_answer_rate == pytest.approx(0.5, abs=1e-6)
    assert math.isfinite(estimator.effective_dials(now))
    assert talk.mean_seconds == pytest.approx(240.0, rel=1e-6)
