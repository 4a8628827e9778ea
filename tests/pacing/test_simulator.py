"""The simulator, the VICIdial port, the what-if and the two bench commands."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pacing import Pacer, PacerConfig, Snapshot
from pacing.bench import main as bench_main
from pacing.microbench import main as microbench_main
from pacing.simulator import Scenario, simulate
from pacing.vicidial import VicidialAdaptPacer
from pacing.whatif import what_if

SHORT = Scenario(agents=20, live_answer_rate=0.3, hours=0.75)


def test_a_run_is_deterministic_for_a_seed() -> None:
    first = simulate(SHORT, Pacer(PacerConfig()), seed=3)
    second = simulate(SHORT, Pacer(PacerConfig()), seed=3)
    other = simulate(SHORT, Pacer(PacerConfig()), seed=4)
    assert first == second
    assert first != other


def test_predictive_beats_progressive_under_the_target() -> None:
    ours = simulate(SHORT, Pacer(PacerConfig(target_abandon_rate=0.03)), seed=1)
    progressive = simulate(SHORT, Pacer(PacerConfig(mode="progressive")), seed=1)
    assert ours.abandon_rate <= 0.03
    assert progressive.abandons == 0
    assert ours.occupancy > progressive.occupancy + 0.04
    assert ours.idle_seconds_per_call < progressive.idle_seconds_per_call


@pytest.mark.parametrize("agents", [1, 3, 5])
def test_small_teams_stay_under_the_target(agents: int) -> None:
    scenario = replace(SHORT, agents=agents, hours=2.0)
    result = simulate(scenario, Pacer(PacerConfig(target_abandon_rate=0.03)), seed=agents)
    assert result.abandon_rate <= 0.03
    assert result.live_answers > 20


def test_a_three_agent_team_stays_under_the_target_in_every_seeded_run() -> None:
    scenario = replace(SHORT, agents=3, hours=2.0)
    for seed in range(3):
        result = simulate(scenario, Pacer(PacerConfig(target_abandon_rate=0.03)), seed=seed)
        assert result.abandon_rate <= 0.03
        assert result.live_answers > 50


# The budget settings used before: a flat reserve of two abandons (here on top of the
# in-flight reserve), a one-abandon soft limit, the full credit for any team, 30 s warm-up.
PREVIOUS = PacerConfig(
    abandon_reserve=2.0,
    abandon_budget_soft_limit=1.0,
    abandon_credit_hours=1e6,
    warmup_seconds=30.0,
)


def test_budget_handling_beats_the_previous_settings() -> None:
    # A small team on a thin list, where the budget is tight: the previous settings spent
    # their first minutes nearly progressive and fell back to progressive more often.
    scenario = replace(SHORT, agents=10, live_answer_rate=0.1, hours=1.0)
    ours = [simulate(scenario, Pacer(PacerConfig()), seed=seed) for seed in range(4)]
    previous = [simulate(scenario, Pacer(PREVIOUS), seed=seed) for seed in range(4)]
    assert all(r.abandon_rate <= 0.03 for r in ours)
    gain = sum(r.occupancy for r in ours) / 4 - sum(r.occupancy for r in previous) / 4
    assert gain > 0.015


def test_metrics_are_consistent() -> None:
    result = simulate(SHORT, Pacer(PacerConfig(mode="progressive")), seed=2)
    assert 0.0 < result.occupancy < SHORT.occupancy_bound
    assert result.connects == result.live_answers - result.abandons
    assert result.dials >= result.live_answers
    assert result.logged_in_hours <= SHORT.agents * SHORT.hours
    assert result.worst_hour_abandon_rate >= result.abandon_rate


def test_invalid_scenarios_are_rejected() -> None:
    with pytest.raises(ValueError):
        Scenario(live_answer_rate=0.9)
    with pytest.raises(ValueError):
        Scenario(agents=0)


def _vici_snapshot(now: float, ready: int, waiting: int = 0) -> Snapshot:
    return Snapshot(
        now=now,
        agents_logged_in=10,
        agents_ready=ready,
        talking_elapsed=[30.0] * (10 - ready),
        waiting_for_agent=waiting,
    )


def test_vicidial_level_rises_while_agents_wait_and_dials_on_its_schedule() -> None:
    pacer = VicidialAdaptPacer("average")
    assert pacer.calls_to_place(_vici_snapshot(0.0, ready=5)) == 5  # level 1.0: progressive
    placed_between = pacer.calls_to_place(_vici_snapshot(1.0, ready=5))
    assert placed_between == 0  # the next dial round is 2.5 s later
    for second in range(2, 16):
        pacer.calls_to_place(_vici_snapshot(float(second), ready=5))
    assert pacer.level == pytest.approx(1.5)  # × (1 + (5 − 0) / 10)
    for second in range(16, 200):
        pacer.calls_to_place(_vici_snapshot(float(second), ready=5))
    assert pacer.level == 3.0


def test_vicidial_drop_limit_halves_or_resets() -> None:
    for variant, expected in (("average", 1.5), ("hard_limit", 1.0)):
        pacer = VicidialAdaptPacer(variant)
        pacer.level = 3.0
        for _ in range(60):
            pacer.observe_outcome("human", 5.0, 0.0)
        for _ in range(3):
            pacer.observe_abandon(0.0)
        pacer.calls_to_place(_vici_snapshot(0.0, ready=5))
        assert pacer.level == 3.0  # the first adaptation comes after 15 one-second samples
        pacer.calls_to_place(_vici_snapshot(15.0, ready=5))
        assert pacer.level == expected


def test_what_if_reports_occupancy_and_abandonment() -> None:
    result = what_if(
        PacerConfig(), agents=10, live_answer_rate=0.3, talk_mean_seconds=180.0, hours=0.5
    )
    assert 0.5 < result.occupancy < result.occupancy_bound
    assert 0.0 <= result.abandon_rate <= result.worst_abandon_rate <= 0.1
    assert result.runs == 2


def test_bench_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--agents", "3", "--rates", "0.6", "--seeds", "1", "--hours", "0.1", "--jobs", "1"]
    assert bench_main(argv) == 0
    out = capsys.readouterr().out
    for name in ("progressive", "ratio ", "vici-average", "vici-hard", "ours", "bound=0.900"):
        assert name in out


def test_microbench_prints_timings(capsys: pytest.CaptureFixture[str]) -> None:
    assert microbench_main(["--calls", "20"]) == 0
    out = capsys.readouterr().out
    assert "median µs" in out
    assert "500" in out
