"""What-if for the control plane: how would this configuration do on this kind of campaign?"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from pacing.config import PacerConfig
from pacing.pacer import Pacer
from pacing.simulator import Scenario, simulate


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    """Averages over the simulated runs."""

    occupancy: float  # talk seconds ÷ logged-in agent seconds
    abandon_rate: float  # abandoned ÷ live answers
    worst_abandon_rate: float  # the worst run's abandonment
    idle_seconds_per_call: float
    connects_per_agent_hour: float
    occupancy_bound: float  # talk ÷ (talk + wrap-up): no policy can beat it
    runs: int


def what_if(
    config: PacerConfig,
    agents: int,
    live_answer_rate: float,
    talk_mean_seconds: float,
    talk_cv: float = 1.0,
    wrap_min_seconds: float = 10.0,
    wrap_max_seconds: float = 30.0,
    hours: float = 1.0,
    runs: int = 2,
    seed: int = 0,
) -> WhatIfResult:
    """Simulate the campaign `runs` times under `config`; deterministic for a given seed.

    The rest of the campaign (machines, busy, ring and AMD times, pauses, drift) takes the
    simulator's defaults. Cost grows with agents × hours ÷ live-answer rate: a 50-agent,
    one-hour, 0.3 answer-rate run takes well under a second.
    """
    if runs < 1:
        raise ValueError("runs must be >= 1")
    scenario = Scenario(
        agents=agents,
        live_answer_rate=live_answer_rate,
        talk_mean=talk_mean_seconds,
        talk_cv=talk_cv,
        wrap_min=wrap_min_seconds,
        wrap_max=wrap_max_seconds,
        hours=hours,
    )
    results = [simulate(scenario, Pacer(config), seed + i) for i in range(runs)]
    return WhatIfResult(
        occupancy=statistics.fmean(r.occupancy for r in results),
        abandon_rate=statistics.fmean(r.abandon_rate for r in results),
        worst_abandon_rate=max(r.abandon_rate for r in results),
        idle_seconds_per_call=statistics.fmean(r.idle_seconds_per_call for r in results),
        connects_per_agent_hour=statistics.fmean(r.connects_per_agent_hour for r in results),
        occupancy_bound=scenario.occupancy_bound,
        runs=runs,
    )
