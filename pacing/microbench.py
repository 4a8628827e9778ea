"""`dialer bench pacing-speed`: how long one `calls_to_place` takes.

A warmed-up predictive pacer is fed snapshots of a busy campaign (agents talking and
wrapping up at random points, calls ringing at random ages) with observations arriving
between ticks at a realistic rate, so the occasional forecast-table rebuild is included.
Prints median, 90th and 99th percentile and maximum per call.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Sequence

from pacing.config import PacerConfig
from pacing.pacer import Pacer
from pacing.snapshot import Snapshot

CASES: tuple[tuple[int, int], ...] = ((5, 10), (50, 40), (200, 400), (500, 2_000))


def _warm_pacer(rng: random.Random) -> Pacer:
    # Observations are fed directly, so the first-calls warm-up delay is skipped.
    pacer = Pacer(PacerConfig(mode="predictive", warmup_seconds=0.0))
    now = 0.0
    for _ in range(2_000):
        now += 0.5
        outcome = rng.choice(("human", "machine", "no_answer", "no_answer", "busy", "failed"))
        pacer.observe_outcome(outcome, rng.uniform(1.0, 25.0), now)
        if rng.random() < 0.3:
            pacer.observe_talk(rng.lognormvariate(4.8, 0.8), now)
            pacer.observe_wrap(rng.uniform(10.0, 30.0), now)
    return pacer


def _snapshot(rng: random.Random, now: float, agents: int, ringing: int) -> Snapshot:
    ready = rng.randint(0, max(1, agents // 20))
    wrapping = int((agents - ready) * 0.1)
    talking = agents - ready - wrapping
    return Snapshot(
        now=now,
        agents_logged_in=agents,
        agents_ready=ready,
        talking_elapsed=[rng.lognormvariate(4.5, 1.0) for _ in range(talking)],
        wrapping_elapsed=[rng.uniform(0.0, 30.0) for _ in range(wrapping)],
        ringing_elapsed=[rng.uniform(0.0, 25.0) for _ in range(ringing)],
        waiting_for_agent=0,
        in_amd=max(0, ringing // 50),
    )


def measure(agents: int, ringing: int, calls: int, seed: int = 0) -> tuple[list[float], float]:
    """Seconds taken by each of `calls` decisions, and the share decided predictively."""
    rng = random.Random(seed)
    pacer = _warm_pacer(rng)
    snapshots = [_snapshot(rng, 0.0, agents, ringing) for _ in range(64)]
    timings: list[float] = []
    predictive = 0
    now = 1_000.0
    for i in range(calls):
        now += 0.25
        if i % 4 == 0:
            pacer.observe_outcome("human" if rng.random() < 0.3 else "no_answer", 8.0, now)
            pacer.observe_talk(rng.lognormvariate(4.8, 0.8), now)
            pacer.observe_wrap(rng.uniform(10.0, 30.0), now)
        base = snapshots[i % len(snapshots)]
        snapshot = Snapshot(
            now=now,
            agents_logged_in=base.agents_logged_in,
            agents_ready=base.agents_ready,
            talking_elapsed=base.talking_elapsed,
            wrapping_elapsed=base.wrapping_elapsed,
            ringing_elapsed=base.ringing_elapsed,
            waiting_for_agent=base.waiting_for_agent,
            in_amd=base.in_amd,
        )
        started = time.perf_counter()
        pacer.calls_to_place(snapshot)
        timings.append(time.perf_counter() - started)
        predictive += pacer.stats().mode_used == "predictive"
    return timings, predictive / calls


def main(argv: Sequence[str] | None = None) -> int:
    """Print the timing table; returns 0."""
    parser = argparse.ArgumentParser(prog="dialer bench pacing-speed", description=__doc__)
    parser.add_argument("--calls", type=int, default=5_000, help="decisions per case")
    args = parser.parse_args(list(argv) if argv is not None else None)
    print("calls_to_place timing (predictive mode, warmed up, table rebuilds included)")
    print(
        f"{'agents':>7} {'in flight':>9} {'median µs':>10} {'p90 µs':>8} {'p99 µs':>8} "
        f"{'max µs':>8} {'predictive':>10}"
    )
    for agents, ringing in CASES:
        raw, predictive_share = measure(agents, ringing, args.calls)
        timings = sorted(raw)
        median = statistics.median(timings) * 1e6
        p90 = timings[int(0.9 * (len(timings) - 1))] * 1e6
        p99 = timings[int(0.99 * (len(timings) - 1))] * 1e6
        print(
            f"{agents:>7} {ringing:>9} {median:>10.1f} {p90:>8.1f} {p99:>8.1f} "
            f"{timings[-1] * 1e6:>8.1f} {predictive_share:>10.0%}"
        )
    print("budget: median <= 100 µs at 50 agents, <= 1000 µs at 500 agents / 2,000 in flight")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
