"""The excess distribution and the call count chosen from it."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacing.excess import (
    ExactHorizon,
    HorizonMoments,
    _excess_pmf,
    exact_marginal_risk,
    max_calls_exact,
    max_calls_normal,
    normal_marginal_risk,
)


def _brute_force(certain: int, demand: list[float], supply: list[float]) -> dict[int, float]:
    pmf: dict[int, float] = {}
    terms = [(p, 1) for p in demand] + [(q, -1) for q in supply]
    for bits in itertools.product((0, 1), repeat=len(terms)):
        prob = 1.0
        value = certain
        for bit, (p, sign) in zip(bits, terms, strict=True):
            prob *= p if bit else 1.0 - p
            value += sign * bit
        pmf[value] = pmf.get(value, 0.0) + prob
    return pmf


@settings(max_examples=60, deadline=None)
@given(
    certain=st.integers(-4, 3),
    demand=st.lists(st.floats(0.05, 1.0), max_size=5),
    supply=st.lists(st.floats(0.05, 1.0), max_size=5),
)
def test_exact_pmf_matches_enumeration(
    certain: int, demand: list[float], supply: list[float]
) -> None:
    pmf, offset = _excess_pmf(certain, demand, supply)
    expected = _brute_force(certain, demand, supply)
    assert sum(pmf) == pytest.approx(1.0)
    for i, p in enumerate(pmf):
        assert p == pytest.approx(expected.get(offset + i, 0.0), abs=1e-12)


def test_small_probabilities_are_pooled_as_poisson_within_le_cams_bound() -> None:
    demand = [0.01] * 8 + [0.3]
    supply = [0.02] * 5 + [0.6]
    pmf, offset = _excess_pmf(1, demand, supply)
    expected = _brute_force(1, demand, supply)
    bound = sum(p * p for p in demand + supply if p < 0.05)
    assert sum(pmf) == pytest.approx(1.0)
    for value in range(min(expected), max(expected) + 1):
        i = value - offset
        got = pmf[i] if 0 <= i < len(pmf) else 0.0
        assert got == pytest.approx(expected.get(value, 0.0), abs=2 * bound)


def test_marginal_risk_is_the_chance_the_others_hold_every_agent() -> None:
    # Two ready agents, nothing else: the third new call (two others) is abandoned only if
    # both others go live, and it is itself live with certainty.
    horizon = ExactHorizon.build(1.0, -2, [], [], 0.5)
    assert exact_marginal_risk([horizon], 0) == 0.0
    assert exact_marginal_risk([horizon], 1) == 0.0
    assert exact_marginal_risk([horizon], 2) == pytest.approx(0.25)
    assert exact_marginal_risk([horizon], 3) == pytest.approx(0.5)  # P(Bin(3, .5) >= 2)


def test_exact_decision_follows_the_threshold() -> None:
    horizon = ExactHorizon.build(1.0, -2, [], [], 0.5)
    assert max_calls_exact([horizon], 0.0, 100) == 2  # progressive: one call per agent
    assert max_calls_exact([horizon], 0.3, 100) == 3
    assert max_calls_exact([horizon], 0.99, 5) == 5  # the cap wins


def test_normal_risk_agrees_with_exact_for_a_large_team() -> None:
    demand = [0.3] * 60
    supply = [0.5] * 80
    exact = ExactHorizon.build(1.0, -10, demand, supply, 0.3)
    mean = -10 + 0.3 * 60 - 0.5 * 80
    variance = 60 * 0.21 + 80 * 0.25
    normal = HorizonMoments(1.0, mean, variance, 0.3)
    for others in (0, 40, 80, 120):
        assert normal_marginal_risk([normal], others) == pytest.approx(
            exact_marginal_risk([exact], others), abs=0.02
        )


def test_normal_search_is_monotone_in_threshold_and_respects_cap() -> None:
    horizons = [HorizonMoments(0.5, -20.0, 10.0, 0.2), HorizonMoments(0.5, -15.0, 12.0, 0.3)]
    answers = [max_calls_normal(horizons, t, 10_000) for t in (0.001, 0.01, 0.05, 0.2)]
    assert answers == sorted(answers)
    assert answers[0] > 0
    assert max_calls_normal(horizons, 0.2, 7) == 7
    assert max_calls_normal(horizons, 0.2, 0) == 0
    # The chosen count is exactly the last one under the threshold.
    n = answers[2]
    assert normal_marginal_risk(horizons, n - 1) <= 0.05 < normal_marginal_risk(horizons, n)


def test_rate_uncertainty_makes_bursts_more_careful() -> None:
    certain = HorizonMoments(1.0, -50.0, 0.0, 0.3)
    unsure = HorizonMoments(1.0, -50.0, 0.0, 0.3, 0.0, 0.1)
    assert max_calls_normal([unsure], 0.03, 1_000) < max_calls_normal([certain], 0.03, 1_000)
    assert math.isfinite(normal_marginal_risk([unsure], 500))
