"""The pacing contract: modes, safety rails, determinism and the runtime extras."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from pacing import Pacer, PacerConfig, PacerStats, Snapshot


def _busy_snapshot(now: float, seed: int = 0, agents: int = 20, ready: int = 2) -> Snapshot:
    rng = random.Random(seed)
    wrapping = agents // 5
    return Snapshot(
        now=now,
        agents_logged_in=agents,
        agents_ready=ready,
        talking_elapsed=[rng.uniform(0, 400) for _ in range(agents - ready - wrapping)],
        wrapping_elapsed=[rng.uniform(0, 30) for _ in range(wrapping)],
        ringing_elapsed=[rng.uniform(0, 20) for _ in range(agents // 5)],
        waiting_for_agent=0,
        in_amd=1,
    )


# Observations are fed directly in these tests, so skip the first-calls warm-up delay.
WARM = PacerConfig(warmup_seconds=0.0)


def _feed(pacer: Pacer, seed: int, until: float) -> None:
    rng = random.Random(seed)
    now = 0.0
    while now < until:
        now += 1.0
        u = rng.random()
        outcome = "human" if u < 0.3 else "machine" if u < 0.45 else "no_answer"
        pacer.observe_outcome(outcome, rng.uniform(3, 22), now)
        if rng.random() < 0.1:
            pacer.observe_talk(rng.lognormvariate(5.0, 0.8), now)
            pacer.observe_wrap(rng.uniform(10, 30), now)
            pacer.observe_connect(0.3, now)


@pytest.mark.parametrize("mode", ["progressive", "ratio", "predictive"])
def test_never_dials_with_no_agent_logged_in(mode: str) -> None:
    pacer = Pacer(PacerConfig(mode=mode, ratio=3.0))
    # Inconsistent input (ready agents but none logged in) must still give 0.
    snapshot = Snapshot(now=5.0, agents_logged_in=0, agents_ready=4, talking_elapsed=[30.0])
    assert pacer.calls_to_place(snapshot) == 0
    assert pacer.stats().mode_used == "no-agents"


def test_paused_agents_never_count() -> None:
    # Two logged in (others paused): reporting more ready agents than that changes nothing.
    honest = Pacer(PacerConfig(mode="progressive"))
    inflated = Pacer(PacerConfig(mode="progressive"))
    assert honest.calls_to_place(Snapshot(now=1.0, agents_logged_in=2, agents_ready=2)) == 2
    assert inflated.calls_to_place(Snapshot(now=1.0, agents_logged_in=2, agents_ready=9)) == 2
    predictive = Pacer(PacerConfig(mode="predictive"))
    alone = predictive.calls_to_place(Snapshot(now=1.0, agents_logged_in=2, agents_ready=2))
    predictive_again = Pacer(PacerConfig(mode="predictive"))
    padded = predictive_again.calls_to_place(
        Snapshot(
            now=1.0,
            agents_logged_in=2,
            agents_ready=2,
            wrapping_elapsed=[29.0] * 5,  # paused agents wrongly listed as busy
        )
    )
    assert padded == alone


def test_progressive_keeps_one_call_in_flight_per_ready_agent() -> None:
    pacer = Pacer(PacerConfig(mode="progressive"))
    snapshot = Snapshot(
        now=0.0, agents_logged_in=10, agents_ready=4, ringing_elapsed=[1.0], in_amd=1
    )
    assert pacer.calls_to_place(snapshot) == 2


def test_ratio_follows_vicidial_semantics() -> None:
    pacer = Pacer(PacerConfig(mode="ratio", ratio=2.0))
    snapshot = Snapshot(
        now=0.0,
        agents_logged_in=10,
        agents_ready=2,
        talking_elapsed=[10.0] * 6,
        wrapping_elapsed=[5.0] * 2,
        ringing_elapsed=[1.0] * 3,
    )
    # round(2.0 × (2 ready + 6 talking)) − (3 ringing + 6 talking) = 7
    assert pacer.calls_to_place(snapshot) == 7
    one = Pacer(PacerConfig(mode="ratio", ratio=1.0))
    assert one.calls_to_place(snapshot) == 0


def test_predictive_dials_ahead_of_progressive_for_a_busy_team() -> None:
    pacer = Pacer(WARM)
    _feed(pacer, 1, 1_800.0)
    snapshot = _busy_snapshot(1_800.0, agents=50, ready=3)
    calls = pacer.calls_to_place(snapshot)
    assert calls > 0  # progressive would place 0: 10 ringing + 1 in AMD for 3 ready agents
    assert pacer.stats().mode_used == "predictive"


def test_lines_per_agent_cap_is_respected() -> None:
    pacer = Pacer(PacerConfig(mode="ratio", ratio=50.0, max_lines_per_agent=2.5))
    snapshot = Snapshot(now=0.0, agents_logged_in=4, agents_ready=4, ringing_elapsed=[1.0] * 3)
    assert pacer.calls_to_place(snapshot) == 10 - 3
    predictive = Pacer(
        PacerConfig(
            max_lines_per_agent=1.5,
            max_call_risk=0.9,
            min_call_risk=0.9,
            warmup_outcomes=0,
            warmup_seconds=0.0,
        )
    )
    start = Snapshot(now=0.0, agents_logged_in=40, agents_ready=40)
    assert predictive.calls_to_place(start) == 60


def test_calls_per_second_cap_per_trunk() -> None:
    pacer = Pacer(PacerConfig(mode="progressive", trunk_calls_per_second=3.0, trunk_count=2))
    placed = 0
    now = 0.0
    for _ in range(20):  # 100 ready agents, ticks every 0.25 s for 5 s
        placed += pacer.calls_to_place(Snapshot(now=now, agents_logged_in=100, agents_ready=100))
        now += 0.25
    # A one-second burst of 6, then 6 per second.
    assert placed <= 6 + 6 * 5
    assert placed >= 6 * 5
    first = Pacer(PacerConfig(mode="progressive", trunk_calls_per_second=3.0))
    assert first.calls_to_place(Snapshot(now=0.0, agents_logged_in=50, agents_ready=50)) == 3


def test_same_history_and_snapshot_give_the_same_answer() -> None:
    answers = []
    for _ in range(2):
        pacer = Pacer(WARM)
        _feed(pacer, 5, 900.0)
        answers.append([pacer.calls_to_place(_busy_snapshot(900.0 + i, i)) for i in range(30)])
    assert answers[0] == answers[1]
    assert any(a > 0 for a in answers[0])


def test_spent_budget_falls_back_to_progressive_and_recovers() -> None:
    pacer = Pacer(WARM)
    _feed(pacer, 2, 600.0)
    busy = _busy_snapshot(600.0, agents=50, ready=3)
    snapshot = replace(busy, ringing_elapsed=(), in_amd=0)
    pacer.set_abandon_window(live_answers=1_000, abandons=40)  # 4 % used of 3 %
    assert pacer.calls_to_place(snapshot) == 3  # progressive: one call per ready agent
    stats = pacer.stats()
    assert stats.mode_used == "progressive-fallback"
    assert stats.window_abandon_rate == pytest.approx(0.04)
    assert stats.abandons_left < 0
    pacer.set_abandon_window(live_answers=1_000, abandons=10)
    assert pacer.calls_to_place(replace(snapshot, now=601.0)) > 3
    assert pacer.stats().mode_used == "predictive"


def test_observations_after_an_injected_window_are_added_on_top() -> None:
    pacer = Pacer(PacerConfig())
    pacer.set_abandon_window(live_answers=100, abandons=1)
    pacer.observe_outcome("human", 5.0, 10.0)
    pacer.observe_abandon(12.0)
    pacer.calls_to_place(Snapshot(now=12.0, agents_logged_in=1, agents_ready=1))
    stats = pacer.stats()
    assert (stats.window_live_answers, stats.window_abandons) == (101, 2)


def test_own_rolling_window_forgets_old_abandons() -> None:
    pacer = Pacer(PacerConfig(abandon_window_seconds=3_600.0))
    for i in range(100):
        pacer.observe_outcome("human", 5.0, float(i))
    pacer.observe_abandon(100.0)
    pacer.calls_to_place(Snapshot(now=200.0, agents_logged_in=1, agents_ready=1))
    assert pacer.stats().window_abandons == 1
    pacer.calls_to_place(Snapshot(now=4_000.0, agents_logged_in=1, agents_ready=1))
    stats = pacer.stats()
    assert (stats.window_live_answers, stats.window_abandons) == (0, 0)


def test_abandons_make_the_predictive_policy_more_careful() -> None:
    calm = Pacer(WARM)
    shaken = Pacer(WARM)
    for pacer in (calm, shaken):
        _feed(pacer, 3, 1_200.0)
    for i in range(4):
        shaken.observe_abandon(1_200.0 + i)
    snapshot = _busy_snapshot(1_210.0, agents=50, ready=3)
    calm_calls = calm.calls_to_place(snapshot)
    shaken_calls = shaken.calls_to_place(snapshot)
    assert shaken.stats().call_risk < calm.stats().call_risk
    assert shaken_calls <= calm_calls


def test_stats_reports_estimates() -> None:
    pacer = Pacer(PacerConfig())
    _feed(pacer, 4, 3_000.0)
    pacer.calls_to_place(_busy_snapshot(3_000.0))
    stats = pacer.stats()
    assert isinstance(stats, PacerStats)
    assert stats.live_answer_rate == pytest.approx(0.3, abs=0.06)
    assert 100 < stats.mean_talk_seconds < 300
    assert stats.mean_wrap_seconds == pytest.approx(20.0, abs=4.0)
    assert stats.lines_per_agent > 0
    assert stats.mode == "predictive"


@pytest.mark.parametrize(
    "fields",
    [
        {"mode": "turbo"},
        {"target_abandon_rate": 0.0},
        {"abandon_margin": 0.05},
        {"ratio": -1.0},
        {"max_lines_per_agent": 0.5},
        {"trunk_calls_per_second": 0.0},
        {"min_call_risk": 0.5, "max_call_risk": 0.1},
        {"abandon_reserve": -1.0},
        {"warmup_seconds": -1.0},
        {"abandon_credit_hours": 0.0},
        {"abandon_budget_soft_limit": 0.0},
    ],
)
def test_invalid_configuration_is_rejected(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        PacerConfig(**fields)  # type: ignore[arg-type]


def test_a_cold_pacer_dials_progressively_until_its_first_calls_resolve() -> None:
    pacer = Pacer(PacerConfig())
    start = Snapshot(now=0.0, agents_logged_in=20, agents_ready=20)
    assert pacer.calls_to_place(start) == 20  # progressive: one call per ready agent
    assert pacer.stats().mode_used == "progressive-warmup"
    for i in range(40):
        pacer.observe_outcome("busy" if i % 2 else "no_answer", 3.0, 10.0)
    ringing = Snapshot(now=10.0, agents_logged_in=20, agents_ready=20, ringing_elapsed=[10.0] * 5)
    assert pacer.calls_to_place(ringing) == 15  # still warming up: 15 s since the first dial
    assert pacer.stats().mode_used == "progressive-warmup"
    pacer.calls_to_place(replace(ringing, now=31.0))
    assert pacer.stats().mode_used == "predictive"


def test_a_small_team_gets_no_credit_it_cannot_earn_back() -> None:
    # A fresh window is credited 70 live answers, but one agent takes ~18 an hour: lending it
    # 2.1 abandons would leave a short shift over the target after a single abandon.
    solo = Pacer(WARM)
    team = Pacer(WARM)
    for pacer in (solo, team):
        for i in range(200):
            pacer.observe_outcome("no_answer" if i % 3 else "busy", 20.0, float(i))
    solo.calls_to_place(Snapshot(now=300.0, agents_logged_in=1, agents_ready=1))
    team.calls_to_place(_busy_snapshot(300.0, agents=50, ready=3))
    assert solo.stats().mode_used == "progressive-fallback"
    assert solo.stats().abandons_left == pytest.approx(0.03 * 3_600.0 / 200.0)
    assert team.stats().mode_used == "predictive"
    assert team.stats().abandons_left == pytest.approx(0.03 * 70.0)


def test_calls_in_flight_are_paid_for_before_new_risk() -> None:
    pacer = Pacer(WARM)
    _feed(pacer, 6, 600.0)
    pacer.set_abandon_window(live_answers=1_000, abandons=27)  # 3 abandons left
    calm = _busy_snapshot(600.0, agents=50, ready=3)
    assert pacer.calls_to_place(calm) > 3
    assert pacer.stats().mode_used == "predictive"
    # Three live calls wait with no ready agent: they will likely abandon, which spends what
    # is left beyond the one-abandon reserve, so new calls may no longer carry risk.
    stuck = replace(calm, now=601.0, agents_ready=0, waiting_for_agent=3)
    assert pacer.calls_to_place(stuck) == 0
    assert pacer.stats().mode_used == "progressive-fallback"
