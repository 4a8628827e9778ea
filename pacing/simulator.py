"""A discrete-event contact-centre simulator for pacing policies: no sockets, no clock.

Calls are launched by the policy at ticks (every `tick_seconds` and whenever an agent
becomes ready, as the runtime does). Each call is a person, a machine, no answer (the
ring timeout, 20-25 s), busy or failed (SIT/congestion); people and machines answer after
lognormal ring times, then AMD takes a moment and is sometimes wrong (a person hung up as a
machine; a machine passed on as NOTSURE, which counts as a person). A live call waits up to
the connect window for an agent, longest-ready agent first, else it is abandoned. Talk is
lognormal, wrap-up uniform; after a wrap-up an agent sometimes pauses for a break. The
live-answer rate drifts down linearly over the run.

Metrics follow the regulator: abandoned ÷ live answers, overall and the worst rolling hour.
Occupancy is talk seconds ÷ logged-in agent seconds, where paused time is not logged in
(the same definition as `Snapshot.agents_logged_in`).
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from pacing.snapshot import Snapshot

_TICK, _RESOLVE, _AMD_DONE, _ABANDON_CHECK, _TALK_END, _WRAP_END, _PAUSE_END = range(7)
_HUMAN, _MACHINE, _NO_ANSWER, _BUSY, _FAILED = range(5)
_OUTCOME_NAMES = ("human", "machine", "no_answer", "busy", "failed")


class PacingPolicy(Protocol):
    """The pacing contract's surface (the Pacer, the VICIdial port, ...)."""

    def observe_outcome(self, outcome: str, ring_seconds: float, now: float) -> None: ...
    def observe_connect(self, wait_seconds: float, now: float) -> None: ...
    def observe_abandon(self, now: float) -> None: ...
    def observe_talk(self, seconds: float, now: float) -> None: ...
    def observe_wrap(self, seconds: float, now: float) -> None: ...
    def calls_to_place(self, snapshot: Snapshot) -> int: ...


@dataclass(frozen=True, slots=True)
class Scenario:
    """One simulated campaign; rates are shares of dials."""

    agents: int = 10
    live_answer_rate: float = 0.3
    talk_mean: float = 180.0
    talk_cv: float = 1.0
    wrap_min: float = 10.0
    wrap_max: float = 30.0
    hours: float = 2.0
    # The live-answer rate falls linearly from (1 + drift/2)·p to (1 − drift/2)·p.
    answer_drift: float = 0.3
    machine_rate: float = 0.15
    busy_rate: float = 0.06
    failed_rate: float = 0.03
    human_ring_mean: float = 8.0
    human_ring_cv: float = 0.6
    machine_ring_mean: float = 13.0
    machine_ring_cv: float = 0.4
    no_answer_timeout_min: float = 20.0
    no_answer_timeout_max: float = 25.0
    busy_ring_max: float = 4.0
    failed_ring_max: float = 3.0
    amd_person_seconds: tuple[float, float] = (1.5, 3.5)
    amd_machine_seconds: tuple[float, float] = (2.5, 5.0)
    amd_false_machine: float = 0.03  # people hung up as machines
    amd_false_person: float = 0.10  # machines passed on as people (NOTSURE)
    machine_talk_seconds: tuple[float, float] = (3.0, 10.0)
    pause_probability: float = 0.02  # after a wrap-up
    pause_seconds: tuple[float, float] = (120.0, 600.0)
    connect_window: float = 2.0
    tick_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.agents < 1:
            raise ValueError("agents must be >= 1")
        top = self.live_answer_rate * (1.0 + self.answer_drift / 2.0)
        if top + self.machine_rate + self.busy_rate + self.failed_rate > 1.0:
            raise ValueError("outcome rates exceed 1 at the start of the drift")
        if self.hours <= 0 or self.talk_mean <= 0 or self.talk_cv <= 0:
            raise ValueError("hours, talk_mean and talk_cv must be > 0")
        if not 0 <= self.wrap_min <= self.wrap_max:
            raise ValueError("need 0 <= wrap_min <= wrap_max")

    @property
    def occupancy_bound(self) -> float:
        """Clairvoyant talk occupancy: talk ÷ (talk + wrap-up), agents never wait."""
        wrap_mean = (self.wrap_min + self.wrap_max) / 2.0
        return self.talk_mean / (self.talk_mean + wrap_mean)


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """What one run measured."""

    occupancy: float
    abandon_rate: float
    worst_hour_abandon_rate: float
    idle_seconds_per_call: float
    dials_per_agent_hour: float
    connects_per_agent_hour: float
    dials: int
    live_answers: int
    abandons: int
    connects: int
    logged_in_hours: float


class _Agent:
    __slots__ = ("pause_end", "ready_since", "state", "state_since", "talk_seconds")

    def __init__(self) -> None:
        self.state = "ready"
        self.state_since = 0.0
        self.ready_since = 0.0
        self.pause_end = 0.0
        self.talk_seconds = 0.0


def simulate(scenario: Scenario, policy: PacingPolicy, seed: int = 0) -> SimulationResult:
    """Run one scenario against one policy; the same seed gives the same run."""
    return _Simulation(scenario, policy, seed).run()


def _lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


class _Simulation:
    def __init__(self, scenario: Scenario, policy: PacingPolicy, seed: int) -> None:
        self.s = scenario
        self.policy = policy
        # Separate streams so policies that dial differently still see similar agents.
        self.call_rng = random.Random(seed * 1_000_003 + 1)
        self.talk_rng = random.Random(seed * 1_000_003 + 2)
        self.agent_rng = random.Random(seed * 1_000_003 + 3)
        self.end = scenario.hours * 3600.0
        self.events: list[tuple[float, int, int, int]] = []
        self.seq = 0
        self.agents = [_Agent() for _ in range(scenario.agents)]
        self.ready: deque[int] = deque(range(scenario.agents))
        self.talking: dict[int, float] = {}
        self.wrapping: dict[int, float] = {}
        self.paused = 0
        self.ringing: dict[int, float] = {}
        self.in_amd = 0
        self.waiting: dict[int, float] = {}
        self.calls: dict[int, tuple[int, float, float, bool]] = {}
        self.next_call = 0
        self.talk_params = _lognormal_params(scenario.talk_mean, scenario.talk_cv)
        self.human_ring = _lognormal_params(scenario.human_ring_mean, scenario.human_ring_cv)
        self.machine_ring = _lognormal_params(scenario.machine_ring_mean, scenario.machine_ring_cv)
        self.dials = 0
        self.connects = 0
        self.live_times: list[float] = []
        self.abandon_times: list[float] = []
        self.idle_seconds = 0.0
        self.talk_seconds = 0.0
        self.paused_seconds = 0.0

    # --- event plumbing -----------------------------------------------------------------------
    def push(self, when: float, kind: int, ref: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, kind, ref))

    def run(self) -> SimulationResult:
        self.push(0.0, _TICK, 0)
        events = self.events
        handlers = {
            _RESOLVE: self.on_resolve,
            _AMD_DONE: self.on_amd_done,
            _ABANDON_CHECK: self.on_abandon_check,
            _TALK_END: self.on_talk_end,
            _WRAP_END: self.on_wrap_end,
            _PAUSE_END: self.on_pause_end,
        }
        while events:
            now, _, kind, ref = heapq.heappop(events)
            if now >= self.end:
                break
            if kind == _TICK:
                self.tick(now)
                self.push(now + self.s.tick_seconds, _TICK, 0)
            else:
                handlers[kind](now, ref)
        return self.finish()

    # --- dialling -------------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        logged_in = self.s.agents - self.paused
        snapshot = Snapshot(
            now=now,
            agents_logged_in=logged_in,
            agents_ready=len(self.ready),
            talking_elapsed=[now - t for t in self.talking.values()],
            wrapping_elapsed=[now - t for t in self.wrapping.values()],
            ringing_elapsed=[now - t for t in self.ringing.values()],
            waiting_for_agent=len(self.waiting),
            in_amd=self.in_amd,
        )
        for _ in range(self.policy.calls_to_place(snapshot)):
            self.launch(now)

    def launch(self, now: float) -> None:
        s = self.s
        rng = self.call_rng
        self.dials += 1
        call_id = self.next_call
        self.next_call += 1
        live_rate = s.live_answer_rate * (1.0 + s.answer_drift * (0.5 - now / self.end))
        u = rng.random()
        if u < live_rate:
            kind = _HUMAN
            ring = rng.lognormvariate(*self.human_ring)
        elif u < live_rate + s.machine_rate:
            kind = _MACHINE
            ring = rng.lognormvariate(*self.machine_ring)
        elif u < live_rate + s.machine_rate + s.busy_rate:
            kind = _BUSY
            ring = rng.uniform(0.5, s.busy_ring_max)
        elif u < live_rate + s.machine_rate + s.busy_rate + s.failed_rate:
            kind = _FAILED
            ring = rng.uniform(0.2, s.failed_ring_max)
        else:
            kind = _NO_ANSWER
            ring = rng.uniform(s.no_answer_timeout_min, s.no_answer_timeout_max)
        timeout = rng.uniform(s.no_answer_timeout_min, s.no_answer_timeout_max)
        if kind in (_HUMAN, _MACHINE) and ring > timeout:
            kind, ring = _NO_ANSWER, timeout
        if kind == _HUMAN:
            person = rng.random() >= s.amd_false_machine
            amd = rng.uniform(*s.amd_person_seconds)
        elif kind == _MACHINE:
            person = rng.random() < s.amd_false_person
            amd = rng.uniform(*s.amd_machine_seconds)
        else:
            person, amd = False, 0.0
        self.calls[call_id] = (kind, ring, amd, person)
        self.ringing[call_id] = now
        self.push(now + ring, _RESOLVE, call_id)

    def on_resolve(self, now: float, call_id: int) -> None:
        del self.ringing[call_id]
        kind, ring, amd, _ = self.calls[call_id]
        if kind in (_HUMAN, _MACHINE):
            self.in_amd += 1
            self.push(now + amd, _AMD_DONE, call_id)
        else:
            del self.calls[call_id]
            self.policy.observe_outcome(_OUTCOME_NAMES[kind], ring, now)

    def on_amd_done(self, now: float, call_id: int) -> None:
        self.in_amd -= 1
        _, ring, _, person = self.calls[call_id]
        if not person:
            del self.calls[call_id]
            self.policy.observe_outcome("machine", ring, now)
            return
        self.policy.observe_outcome("human", ring, now)
        self.live_times.append(now)
        if self.ready:
            self.connect(now, call_id, self.ready.popleft(), 0.0)
        else:
            self.waiting[call_id] = now
            self.push(now + self.s.connect_window, _ABANDON_CHECK, call_id)

    def on_abandon_check(self, now: float, call_id: int) -> None:
        if self.waiting.pop(call_id, None) is None:
            return
        del self.calls[call_id]
        self.abandon_times.append(now)
        self.policy.observe_abandon(now)

    # --- agents -------------------------------------------------------------------------------
    def connect(self, now: float, call_id: int, agent_id: int, waited: float) -> None:
        kind = self.calls.pop(call_id)[0]
        agent = self.agents[agent_id]
        self.idle_seconds += now - agent.ready_since
        self.connects += 1
        self.policy.observe_connect(waited, now)
        if kind == _MACHINE:
            talk = self.talk_rng.uniform(*self.s.machine_talk_seconds)
        else:
            talk = self.talk_rng.lognormvariate(*self.talk_params)
        agent.state = "talking"
        agent.talk_seconds = talk
        self.talking[agent_id] = now
        self.talk_seconds += min(talk, self.end - now)
        self.push(now + talk, _TALK_END, agent_id)

    def on_talk_end(self, now: float, agent_id: int) -> None:
        agent = self.agents[agent_id]
        del self.talking[agent_id]
        self.policy.observe_talk(agent.talk_seconds, now)
        wrap = self.talk_rng.uniform(self.s.wrap_min, self.s.wrap_max)
        agent.state = "wrapping"
        agent.talk_seconds = wrap
        self.wrapping[agent_id] = now
        self.push(now + wrap, _WRAP_END, agent_id)

    def on_wrap_end(self, now: float, agent_id: int) -> None:
        agent = self.agents[agent_id]
        del self.wrapping[agent_id]
        self.policy.observe_wrap(agent.talk_seconds, now)
        if self.agent_rng.random() < self.s.pause_probability:
            pause = self.agent_rng.uniform(*self.s.pause_seconds)
            agent.state = "paused"
            self.paused += 1
            self.paused_seconds += min(pause, self.end - now)
            self.push(now + pause, _PAUSE_END, agent_id)
            return
        self.become_ready(now, agent_id)

    def on_pause_end(self, now: float, agent_id: int) -> None:
        self.paused -= 1
        self.become_ready(now, agent_id)

    def become_ready(self, now: float, agent_id: int) -> None:
        agent = self.agents[agent_id]
        agent.ready_since = now
        if self.waiting:
            call_id = next(iter(self.waiting))
            live_at = self.waiting.pop(call_id)
            self.connect(now, call_id, agent_id, now - live_at)
            return
        agent.state = "ready"
        self.ready.append(agent_id)
        self.tick(now)

    # --- results ------------------------------------------------------------------------------
    def finish(self) -> SimulationResult:
        for agent_id in self.ready:
            self.idle_seconds += self.end - self.agents[agent_id].ready_since
        logged_in = self.s.agents * self.end - self.paused_seconds
        hours = logged_in / 3600.0
        live = len(self.live_times)
        abandons = len(self.abandon_times)
        return SimulationResult(
            occupancy=self.talk_seconds / logged_in,
            abandon_rate=abandons / live if live else 0.0,
            worst_hour_abandon_rate=self.worst_hour(),
            idle_seconds_per_call=self.idle_seconds / max(self.connects, 1),
            dials_per_agent_hour=self.dials / hours,
            connects_per_agent_hour=self.connects / hours,
            dials=self.dials,
            live_answers=live,
            abandons=abandons,
            connects=self.connects,
            logged_in_hours=hours,
        )

    def worst_hour(self) -> float:
        """Highest abandoned ÷ live answers over rolling one-hour windows (minute steps)."""
        if not self.live_times:
            return 0.0
        span = min(3600.0, self.end)
        worst = 0.0
        start = 0.0
        while start + span <= self.end + 1e-9:
            live = bisect_left(self.live_times, start + span) - bisect_left(self.live_times, start)
            abandons = bisect_left(self.abandon_times, start + span) - bisect_left(
                self.abandon_times, start
            )
            if live:
                worst = max(worst, abandons / live)
            start += 60.0
        return worst
