"""The callee population: seeded, repeatable, and shaped like its configuration."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from pbxsim import Distribution, PbxSim, PbxSimConfig, PopulationModel
from tests.pbxsim.peers import RawAmiClient


def test_same_seed_same_callees_and_different_seed_differs() -> None:
    model = PopulationModel()
    first = [model.behaviour(7, f"55500{i:02d}") for i in range(200)]
    again = [model.behaviour(7, f"55500{i:02d}") for i in range(200)]
    other = [model.behaviour(8, f"55500{i:02d}") for i in range(200)]
    assert first == again
    assert first != other


def test_redialling_a_number_draws_afresh_but_repeatably() -> None:
    model = PopulationModel()
    calls = [model.behaviour(1, "5550100", n) for n in range(50)]
    assert len({(b.outcome, b.ring_seconds) for b in calls}) > 10
    assert calls == [model.behaviour(1, "5550100", n) for n in range(50)]


def test_outcome_frequencies_follow_the_probabilities() -> None:
    model = PopulationModel(
        p_human=0.5, p_machine=0.2, p_busy=0.1, p_no_answer=0.15, p_congestion=0.05
    )
    counts = Counter(model.behaviour(3, str(i)).outcome for i in range(20000))
    expected = {"human": 0.5, "machine": 0.2, "busy": 0.1, "no_answer": 0.15, "congestion": 0.05}
    for outcome, p in expected.items():
        assert abs(counts[outcome] / 20000 - p) < 0.015, outcome


def test_amd_errors_include_false_results_and_notsure() -> None:
    model = PopulationModel(
        p_human=0.5,
        p_machine=0.5,
        p_busy=0,
        p_no_answer=0,
        p_congestion=0,
        amd_human_as_machine=0.1,
        amd_human_notsure=0.1,
        amd_machine_as_human=0.1,
        amd_machine_notsure=0.1,
    )
    pairs = Counter(
        (b.outcome, b.amd_status) for b in (model.behaviour(5, str(i)) for i in range(10000))
    )
    for pair in [
        ("human", "MACHINE"),
        ("human", "NOTSURE"),
        ("machine", "HUMAN"),
        ("machine", "NOTSURE"),
    ]:
        assert 350 < pairs[pair] < 650, pair
    assert pairs[("human", "HUMAN")] > 3500 and pairs[("machine", "MACHINE")] > 3500


def test_durations_stay_within_their_bounds() -> None:
    dist = Distribution(median=30, spread=1.0, low=5, high=60)
    rng = random.Random(1)
    values = [dist.draw(rng) for _ in range(5000)]
    assert min(values) >= 5 and max(values) <= 60
    assert 25 < sorted(values)[2500] < 35
    assert Distribution(12).draw(rng) == 12


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        ("5551230", "no_answer"),
        ("5551231", "busy"),
        ("5551232", "machine"),
        ("5551233", "congestion"),
        ("5551237", "human"),
    ],
)
def test_last_digit_mode_matches_the_lab(number: str, outcome: str) -> None:
    behaviour = PopulationModel("last_digit").behaviour(1, number)
    assert behaviour.outcome == outcome
    if outcome == "human":
        assert 1 <= behaviour.ring_seconds <= 4 and 4 <= behaviour.talk_seconds <= 12


async def _outcomes(seed: int) -> dict[str, tuple[str, str]]:
    model = PopulationModel(ring=Distribution(4, 0.5, 1, 10))
    async with PbxSim(PbxSimConfig(time_scale=100, seed=seed, population=model)) as sim:
        client = await RawAmiClient.connect(sim.ami_port)
        await client.login()
        for i in range(40):
            client.send(
                ("Action", "Originate"),
                ("ActionID", f"a{i}"),
                ("ChannelId", f"a{i}"),
                ("Channel", f"Local/55501{i:02d}@sim-pstn"),
                ("Context", "lab-park"),
                ("Exten", "s"),
                ("Priority", "1"),
                ("Async", "true"),
                ("Timeout", "30000"),
            )
        await client.wait_for(
            lambda m: sum(x.event == "OriginateResponse" for x in client.messages) >= 40, 10
        )
        responses = {
            m.get("ActionID"): (m.get("Response"), m.get("Reason"))
            for m in client.messages
            if m.event == "OriginateResponse"
        }
        await client.action(("Action", "Hangup"), ("ActionID", "h"), ("Channel", "/.*/"))
        await asyncio.sleep(0.05)
        await client.close()
        return responses


async def test_simulated_calls_repeat_with_the_same_seed() -> None:
    first, again, other = await _outcomes(11), await _outcomes(11), await _outcomes(12)
    assert first == again
    assert len({reason for _, reason in first.values()}) >= 3  # answered, busy, no answer...
    assert first != other
