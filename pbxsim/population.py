"""Who answers a simulated call, and how: the seeded callee population.

Two modes. `last_digit` reproduces the recorded lab (0 no answer, 1 busy, 2 machine,
3 congestion, 4-9 a person answering after 1-4 s and talking 4-12 s). `population` draws each
callee from configured probabilities and distributions. Either way the draw for the n-th call
to a number depends only on (seed, number, n), so runs repeat exactly whatever the
interleaving of concurrent calls.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["human", "machine", "busy", "no_answer", "congestion"]
AmdStatus = Literal["HUMAN", "MACHINE", "NOTSURE"]

OUTCOME_DIGIT: dict[str, int] = {"no_answer": 0, "busy": 1, "machine": 2, "congestion": 3}


@dataclass(frozen=True)
class Distribution:
    """A positive duration in simulated seconds: lognormal with this median and spread,
    clipped to [low, high]. spread=0 gives the median every time."""

    median: float
    spread: float = 0.0
    low: float = 0.0
    high: float = math.inf

    def draw(self, rng: random.Random) -> float:
        value = self.median
        if self.spread > 0:
            value = self.median * math.exp(rng.gauss(0.0, self.spread))
        return min(self.high, max(self.low, value))


@dataclass(frozen=True)
class PopulationModel:
    """Probabilities of each outcome (normalised), durations, AMD accuracy and patience."""

    mode: Literal["last_digit", "population"] = "population"
    p_human: float = 0.35
    p_machine: float = 0.20
    p_busy: float = 0.08
    p_no_answer: float = 0.30
    p_congestion: float = 0.07
    ring: Distribution = field(default_factory=lambda: Distribution(6.0, 0.5, 1.0, 40.0))
    talk: Distribution = field(default_factory=lambda: Distribution(45.0, 0.7, 5.0, 900.0))
    machine_greeting: Distribution = field(default_factory=lambda: Distribution(8.0, 0.3, 3.0, 30))
    # How long an answered person waits in silence for an agent before hanging up.
    patience: Distribution = field(default_factory=lambda: Distribution(6.0, 0.4, 2.0, 30.0))
    # AMD: chance a person is classified MACHINE (false positive) / NOTSURE, and a machine
    # classified HUMAN (false negative) / NOTSURE.
    amd_human_as_machine: float = 0.03
    amd_human_notsure: float = 0.05
    amd_machine_as_human: float = 0.08
    amd_machine_notsure: float = 0.05

    def behaviour(self, seed: int, number: str, nth_call: int = 0) -> CalleeBehaviour:
        rng = random.Random(f"{seed}|{number}|{nth_call}")
        if self.mode == "last_digit":
            return _last_digit_behaviour(number, rng)
        return self._draw(rng)

    def _draw(self, rng: random.Random) -> CalleeBehaviour:
        weights = [self.p_human, self.p_machine, self.p_busy, self.p_no_answer, self.p_congestion]
        outcomes: list[Outcome] = ["human", "machine", "busy", "no_answer", "congestion"]
        outcome = rng.choices(outcomes, weights=weights)[0]
        ring = round(self.ring.draw(rng), 3)
        if outcome == "human":
            roll = rng.random()
            if roll < self.amd_human_as_machine:
                status: AmdStatus = "MACHINE"
                cause = "LONGGREETING-1500-1500"
            elif roll < self.amd_human_as_machine + self.amd_human_notsure:
                status, cause = "NOTSURE", f"TOOLONG-{rng.randint(4000, 5000)}"
            else:
                status, cause = "HUMAN", "HUMAN-1000-1000"
            return CalleeBehaviour(
                outcome=outcome,
                ring_seconds=ring,
                talk_seconds=round(self.talk.draw(rng), 3),
                patience_seconds=round(self.patience.draw(rng), 3),
                amd_status=status,
                amd_cause=cause,
                amd_seconds=round(rng.uniform(1.2, 3.0), 3) if status == "HUMAN" else 5.0,
                digit=rng.randint(4, 9),
                waits_for_agent=True,
            )
        if outcome == "machine":
            greeting = round(self.machine_greeting.draw(rng), 3)
            roll = rng.random()
            if roll < self.amd_machine_as_human:
                status, cause, amd_s = "HUMAN", "HUMAN-1000-1000", 1.8
            elif roll < self.amd_machine_as_human + self.amd_machine_notsure:
                status, cause, amd_s = "NOTSURE", f"TOOLONG-{rng.randint(4000, 5000)}", 5.0
            else:
                status, cause, amd_s = "MACHINE", "LONGGREETING-1500-1500", 2.2
            return CalleeBehaviour(
                outcome=outcome,
                ring_seconds=ring,
                talk_seconds=greeting + 30.0,
                patience_seconds=greeting + 30.0,
                amd_status=status,
                amd_cause=cause,
                amd_seconds=amd_s,
                digit=2,
                greeting_seconds=greeting,
            )
        if outcome == "no_answer":
            ring = 120.0  # rings until the dialler gives up, as in the lab
        return CalleeBehaviour(outcome=outcome, ring_seconds=ring, digit=OUTCOME_DIGIT[outcome])


@dataclass(frozen=True)
class CalleeBehaviour:
    """Everything the simulated far end will do on one call, decided when it is dialled."""

    outcome: Outcome
    ring_seconds: float = 0.0
    talk_seconds: float = 0.0
    patience_seconds: float = 0.0
    amd_status: AmdStatus = "NOTSURE"
    amd_cause: str = "TOOLONG-5000"
    amd_seconds: float = 5.0
    digit: int = 4  # the lab's last-digit code of this outcome, shown in the dialplan
    greeting_seconds: float = 2.8
    # True: talk time counts from joining an agent's bridge, and the person hangs up after
    # `patience_seconds` of waiting unconnected. False: talk time counts from the answer,
    # as in the recorded lab.
    waits_for_agent: bool = False


def _last_digit_behaviour(number: str, rng: random.Random) -> CalleeBehaviour:
    digit = int(number[-1]) if number and number[-1].isdigit() else 4
    if digit == 0:
        return CalleeBehaviour(outcome="no_answer", ring_seconds=120.0, digit=0)
    if digit == 1:
        return CalleeBehaviour(outcome="busy", digit=1)
    if digit == 3:
        return CalleeBehaviour(outcome="congestion", digit=3)
    if digit == 2:
        return CalleeBehaviour(
            outcome="machine",
            ring_seconds=2.0,
            talk_seconds=5.0,
            amd_status="MACHINE",
            amd_cause="LONGGREETING-1500-1500",
            amd_seconds=2.2,
            digit=2,
        )
    return CalleeBehaviour(
        outcome="human",
        ring_seconds=float(rng.randint(1, 4)),
        talk_seconds=float(rng.randint(4, 12)),
        amd_status="NOTSURE",
        amd_cause="TOOLONG-4901",
        amd_seconds=5.0,
        digit=digit,
    )
