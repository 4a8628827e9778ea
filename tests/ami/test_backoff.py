"""Reconnect delays: exponential, capped, jittered within bounds, reproducible with a seed."""

from __future__ import annotations

import random

import pytest

from ami.backoff import ReconnectPolicy


def test_delays_grow_exponentially_up_to_the_cap() -> None:
    policy = ReconnectPolicy(initial_s=0.5, maximum_s=30.0, multiplier=2.0, jitter=0.0)
    rng = random.Random(1)
    assert [policy.delay(n, rng) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert policy.delay(10_000, rng) == 30.0


def test_jitter_stays_within_bounds_and_is_seeded() -> None:
    policy = ReconnectPolicy(initial_s=1.0, maximum_s=8.0, jitter=0.25)
    first = [policy.delay(n, random.Random(42)) for n in range(6)]
    again = [policy.delay(n, random.Random(42)) for n in range(6)]
    assert first == again
    rng = random.Random(3)
    for attempt in range(50):
        base = min(8.0, 2.0**attempt)
        assert 0.75 * base <= policy.delay(attempt, rng) <= 1.25 * base
    spread = {round(policy.delay(5, rng), 6) for _ in range(20)}
    assert len(spread) > 1, "jitter must actually vary the delay"


@pytest.mark.parametrize(
    "options",
    [
        {"initial_s": 0.0},
        {"initial_s": 5.0, "maximum_s": 1.0},
        {"multiplier": 0.5},
        {"jitter": 1.0},
        {"max_attempts": 0},
    ],
)
def test_nonsense_policies_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ReconnectPolicy(**options)  # type: ignore[arg-type]
