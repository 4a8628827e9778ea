"""The information-bounds benchmark: oracles know more, so they must do better."""

from __future__ import annotations

import pytest

from pacing.bounds import BoundPacer, OracleSimulation, main, run
from pacing.simulator import Scenario

SCENARIO = Scenario(agents=20, hours=1.0)


def test_knowing_which_ringing_calls_go_live_beats_the_forecast() -> None:
    # The gap the goal needs is demand information no runtime has: at the same threshold the
    # demand oracle fills agents far better than the forecast the pacer actually has.
    forecast = run(SCENARIO, 0.05, "forecast", seed=0)
    demand = run(SCENARIO, 0.05, "demand", seed=0)
    assert demand.occupancy > forecast.occupancy + 0.02
    assert max(forecast.occupancy, demand.occupancy) < SCENARIO.occupancy_bound
    assert forecast == run(SCENARIO, 0.05, "forecast", seed=0)  # deterministic


def test_the_bound_policy_decides_at_its_fixed_threshold_with_the_truth() -> None:
    pacer = BoundPacer(0.07, "supply")
    simulation = OracleSimulation(Scenario(agents=5, hours=0.25), pacer, seed=1)
    result = simulation.run()
    assert result.live_answers > 0
    assert pacer.stats().mode_used == "predictive"
    assert pacer.stats().call_risk == 0.07
    # The oracle saw one free time per busy agent, none of them in the past.
    assert all(free >= 0.0 for free in pacer.free_in)


def test_the_bounds_command_prints_a_row_per_cell(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--agents", "3", "--risks", "0.05", "--seeds", "1", "--hours", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "forecast" in out and "demand" in out
    assert any(line.split()[:2] == ["3", "0.05"] for line in out.splitlines())
