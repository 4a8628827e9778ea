"""Information bounds: how far better forecasts could take the predictive policy.

The predictive policy is only as good as its forecasts of supply (when busy agents free)
and demand (which ringing calls a person will answer, and when). This benchmark runs the
same marginal-risk rule at fixed risk thresholds (no abandonment controller, so each
threshold is one point of the occupancy/abandonment frontier) with three information sets:
- forecast: what `Pacer` knows (conditional distributions by elapsed time and ring age);
- supply oracle: the exact time each busy agent will be free (talk end + wrap-up end);
- demand oracle: the exact time each ringing call will go live, or that it never will
  (calls not yet placed stay random).
No runtime could have either oracle; the gap between the forecast frontier and theirs is
the most that better supply or demand forecasts could buy. Every variant runs on the same
simulation (wrap-ups drawn when the talk starts, so their end is known in advance).

    python -m pacing.bounds [--agents 10,50,200] [--risks 0.03,0.06,0.1] [--seeds 2]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Literal

from pacing.config import PacerConfig
from pacing.estimators import RING_BINS, WrapEstimator
from pacing.excess import HorizonMoments, max_calls_normal
from pacing.forecast import TALK_GRID
from pacing.pacer import Pacer, _group_moments
from pacing.simulator import _WRAP_END, Scenario, SimulationResult, _Simulation
from pacing.snapshot import Snapshot

Information = Literal["forecast", "supply", "demand"]
INFORMATION: tuple[Information, ...] = ("forecast", "supply", "demand")


class BoundPacer(Pacer):
    """The predictive rule at a fixed risk threshold, optionally fed the truth."""

    def __init__(self, risk: float, information: Information) -> None:
        super().__init__(PacerConfig(mode="predictive"))
        self.fixed_risk = risk
        self.information = information
        # Filled by `OracleSimulation` before each decision, in snapshot order.
        self.free_in: list[float] = []  # busy agents (talking, then wrapping)
        self.live_in: list[float] = []  # ringing calls a person will answer
        # No abandonment controller: every predictive decision uses the fixed threshold.
        self._controller.call_risk = self._fixed_call_risk  # type: ignore[method-assign]

    def _fixed_call_risk(self, *args: object, **kwargs: object) -> float:
        return self.fixed_risk

    def _predictive_calls(
        self, snapshot: Snapshot, ready: int, logged_in: int, risk: float, room: int
    ) -> int:
        tables = self._current_tables(snapshot)
        talk_sum, talk_var = _group_moments(
            snapshot.talking_elapsed, tables.talking_free, tables.talking_free_rows, TALK_GRID
        )
        wrap_sum, wrap_var = _group_moments(
            snapshot.wrapping_elapsed,
            tables.wrapping_free,
            tables.wrapping_free_rows,
            WrapEstimator.BINS,
        )
        ring_sum, ring_var = _group_moments(
            snapshot.ringing_elapsed, tables.ringing_live, tables.ringing_live_rows, RING_BINS
        )
        share = tables.person_share
        amd_mean = snapshot.in_amd * share
        window = self.config.connect_window_seconds
        horizons = []
        for k, horizon in enumerate(tables.horizons):
            supply, supply_var = wrap_sum[k] + talk_sum[k], wrap_var[k] + talk_var[k]
            if self.information == "supply":
                supply = sum(1 for f in self.free_in if f <= horizon + window)
                supply_var = 0.0
            demand, demand_var = ring_sum[k], ring_var[k]
            if self.information == "demand":
                demand = sum(1 for t in self.live_in if t <= horizon)
                demand_var = 0.0
            horizons.append(
                HorizonMoments(
                    float(tables.weights[k]),
                    snapshot.waiting_for_agent - ready + demand + amd_mean - supply,
                    demand_var + supply_var + amd_mean * (1.0 - share),
                    float(tables.new_call_live[k]),
                )
            )
        return max_calls_normal(horizons, risk, room)


class OracleSimulation(_Simulation):
    """The benchmark simulation, telling a `BoundPacer` the future before each tick."""

    def __init__(self, scenario: Scenario, policy: BoundPacer, seed: int) -> None:
        super().__init__(scenario, policy, seed)
        self.oracle = policy
        self.free_at: dict[int, float] = {}
        self.wrap_of: dict[int, float] = {}

    def connect(self, now: float, call_id: int, agent_id: int, waited: float) -> None:
        super().connect(now, call_id, agent_id, waited)
        wrap = self.talk_rng.uniform(self.s.wrap_min, self.s.wrap_max)
        self.wrap_of[agent_id] = wrap
        self.free_at[agent_id] = now + self.agents[agent_id].talk_seconds + wrap

    def on_talk_end(self, now: float, agent_id: int) -> None:
        agent = self.agents[agent_id]
        del self.talking[agent_id]
        self.policy.observe_talk(agent.talk_seconds, now)
        agent.state = "wrapping"
        agent.talk_seconds = self.wrap_of[agent_id]
        self.wrapping[agent_id] = now
        self.push(now + agent.talk_seconds, _WRAP_END, agent_id)

    def tick(self, now: float) -> None:
        busy = [*self.talking, *self.wrapping]
        self.oracle.free_in = [self.free_at[a] - now for a in busy]
        live_in = []
        for call_id, launched in self.ringing.items():
            _, ring, amd, person = self.calls[call_id]
            if person:
                live_in.append(launched + ring + amd - now)
        self.oracle.live_in = live_in
        super().tick(now)


def run(scenario: Scenario, risk: float, information: Information, seed: int) -> SimulationResult:
    """One run of the bound policy."""
    return OracleSimulation(scenario, BoundPacer(risk, information), seed).run()


def _job(args: tuple[Scenario, float, Information, int]) -> SimulationResult:
    return run(*args)


def main(argv: Sequence[str] | None = None) -> int:
    """Print occupancy and abandonment per team size, threshold and information set."""
    parser = argparse.ArgumentParser(prog="python -m pacing.bounds", description=__doc__)
    parser.add_argument("--agents", default="10,50,200")
    parser.add_argument("--risks", default="0.03,0.06,0.1")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(list(argv) if argv is not None else None)
    agents = [int(a) for a in args.agents.split(",")]
    risks = [float(r) for r in args.risks.split(",")]
    keys = [(a, r, i) for a in agents for r in risks for i in INFORMATION]
    jobs = [
        (Scenario(agents=a, hours=args.hours), r, i, seed)
        for a, r, i in keys
        for seed in range(args.seeds)
    ]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(_job, jobs))
    print("fixed-threshold frontier (live 0.3, talk 180 s CV 1, wrap U(10,30)); occupancy @")
    print("mean abandonment (max run) over seeds")
    print(f"{'agents':>6} {'risk':>5} " + " ".join(f"{i:>22}" for i in INFORMATION))
    for n, (a, r) in enumerate((a, r) for a in agents for r in risks):
        cells = []
        for j in range(len(INFORMATION)):
            start = (n * len(INFORMATION) + j) * args.seeds
            runs = results[start : start + args.seeds]
            occ = statistics.fmean(x.occupancy for x in runs)
            ab = statistics.fmean(x.abandon_rate for x in runs)
            worst = max(x.abandon_rate for x in runs)
            cells.append(f"{occ:.3f} @ {ab:5.2%} ({worst:5.2%})")
        print(f"{a:>6} {r:>5.2f} " + " ".join(f"{c:>22}" for c in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
