"""Caller-ID health: the detection rule (pure), the rotation that skips rested and capped
numbers, and the monitor that flags, rests and feeds the rotation from the database."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dialer.db.engine import SessionFactory, create_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.db.models import AuditLog, CallAttempt, CallerIdStatus, Campaign
from dialer.runtime.caller_ids import (
    CallerIdMonitor,
    HealthPolicy,
    RateSample,
    all_capped,
    assess,
    day_bounds,
    pick_caller_id,
)
from dialer.runtime.campaigns import CampaignConfig, CampaignRun
from dialer.services import caller_ids as service

POLICY = HealthPolicy(min_attempts=50, max_ratio=0.5, min_z=2.5)

# ---------------------------------------------------------------------- the rule


def test_a_sharp_drop_against_the_other_numbers_is_suspect() -> None:
    others = RateSample(1000, 300)  # 30 %
    verdict = assess(RateSample(100, 8), others, POLICY)  # 8 %
    assert verdict.suspect
    assert verdict.rate == pytest.approx(0.08) and verdict.baseline == pytest.approx(0.3)
    assert verdict.ratio == pytest.approx(0.08 / 0.3)
    assert verdict.z is not None and verdict.z > 4
    assert "8.0%" in verdict.reason and "30.0%" in verdict.reason


def test_ordinary_variation_is_not_suspect() -> None:
    others = RateSample(1000, 300)
    assert not assess(RateSample(100, 25), others, POLICY).suspect  # 25 %: a mild dip
    assert not assess(RateSample(100, 31), others, POLICY).suspect  # better than the rest


def test_too_few_calls_judge_nothing() -> None:
    others = RateSample(1000, 300)
    quiet = assess(RateSample(49, 0), others, POLICY)  # not a single answer, but only 49 dials
    assert not quiet.suspect and quiet.ratio is None and "49 of 50" in quiet.reason
    # a low ratio that could be chance (few dials, low baseline) is not enough either
    lenient = HealthPolicy(min_attempts=10, max_ratio=0.5, min_z=2.5)
    assert not assess(RateSample(12, 0), RateSample(1000, 100), lenient).suspect
    # and without a baseline there is nothing to compare with
    assert not assess(RateSample(100, 0), RateSample(20, 10), POLICY).suspect
    assert not assess(RateSample(100, 0), RateSample(500, 0), POLICY).suspect


def test_the_others_answering_everything_makes_any_drop_certain() -> None:
    verdict = assess(RateSample(100, 40), RateSample(100, 100), POLICY)
    assert verdict.suspect and verdict.z == float("inf")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    n=st.integers(0, 2000),
    live_fraction=st.floats(0, 1),
    others_n=st.integers(0, 5000),
    others_fraction=st.floats(0, 1),
    fewer=st.integers(1, 50),
)
def test_fewer_answers_never_look_healthier(
    n: int, live_fraction: float, others_n: int, others_fraction: float, fewer: int
) -> None:
    live = round(n * live_fraction)
    others = RateSample(others_n, round(others_n * others_fraction))
    verdict = assess(RateSample(n, live), others, POLICY)
    worse = assess(RateSample(n, max(0, live - fewer)), others, POLICY)
    assert verdict.suspect <= worse.suspect
    if n < POLICY.min_attempts:
        assert not verdict.suspect


# ---------------------------------------------------------------------- the rotation

POOL = ["+8621000001", "+8621000002", "+8621000003", "+8621000004"]


def test_rotation_is_round_robin_when_all_are_healthy() -> None:
    picks, start = [], 0
    for _ in range(6):
        number, start, fallback = pick_caller_id(POOL, start, frozenset(), {}, {})
        picks.append(number)
        assert not fallback
    assert picks == POOL + POOL[:2]


def test_rotation_skips_rested_and_capped_numbers() -> None:
    rested = frozenset({POOL[1]})
    caps = {POOL[2]: 3}
    used = {POOL[2]: 3}
    picks, start = [], 0
    for _ in range(4):
        number, start, fallback = pick_caller_id(POOL, start, rested, caps, used)
        picks.append(number)
        assert not fallback
    assert picks == [POOL[0], POOL[3], POOL[0], POOL[3]]


def test_an_exhausted_pool_falls_back_and_says_so() -> None:
    everything = frozenset(POOL)
    number, _, fallback = pick_caller_id(POOL, 1, everything, {}, {})
    assert (number, fallback) == (POOL[1], True)  # rested but under any cap
    caps = dict.fromkeys(POOL, 2)
    used = {POOL[0]: 2, POOL[1]: 3, POOL[2]: 2, POOL[3]: 2}
    number, _, fallback = pick_caller_id(POOL, 1, frozenset(), caps, used)
    assert (number, fallback) == (POOL[2], True)  # all capped: the least used, next in turn


def test_hard_caps_never_hand_out_a_capped_number() -> None:
    caps = dict.fromkeys(POOL, 2)
    used = dict.fromkeys(POOL, 2)
    assert pick_caller_id(POOL, 1, frozenset(), caps, used, hard_caps=True) == ("", 1, True)
    used[POOL[3]] = 1  # one dial left on the last number, even while it rests
    number, _, fallback = pick_caller_id(POOL, 1, frozenset({POOL[3]}), caps, used, hard_caps=True)
    assert (number, fallback) == (POOL[3], True)
    assert not all_capped(POOL, caps, used) and not all_capped([], caps, used)
    assert all_capped(POOL, caps, dict.fromkeys(POOL, 5))
    assert not all_capped(POOL, {}, dict.fromkeys(POOL, 5))  # no caps at all


def _run(pool: list[str], campaign_id: int = 1) -> CampaignRun:
    return CampaignRun(
        CampaignConfig.from_row(Campaign(id=campaign_id, name="c", caller_id_pool=pool))
    )


def test_campaign_run_counts_its_dials_against_the_caps() -> None:
    run = _run(POOL[:2])
    run.caller_id_caps = {POOL[0]: 2}
    picks = [run.next_caller_id() for _ in range(5)]
    assert picks == [POOL[0], POOL[1], POOL[0], POOL[1], POOL[1]]
    assert run.caller_id_used == {POOL[0]: 2, POOL[1]: 3}
    assert run.caller_id_fallbacks == 0
    run.caller_id_rested = frozenset({POOL[1]})
    assert run.next_caller_id() == POOL[1] and run.caller_id_fallbacks == 1  # nothing else left
    assert _run([]).next_caller_id() == ""


def test_a_run_whose_numbers_are_all_capped_stops_under_hard_caps() -> None:
    run = _run(POOL[:2])
    run.caller_id_caps = dict.fromkeys(POOL[:2], 1)
    assert [run.next_caller_id() for _ in range(2)] == POOL[:2]
    assert run.caller_ids_exhausted and run.next_caller_id() == ""
    assert run.caller_id_used == dict.fromkeys(POOL[:2], 1)  # nothing counted for ""
    run.caller_id_hard_caps = False  # the policy allows going over: the least used one
    assert not run.caller_ids_exhausted and run.next_caller_id() == POOL[0]


def test_day_bounds_follow_the_call_centre_midnight() -> None:
    from zoneinfo import ZoneInfo

    start, end = day_bounds(datetime(2026, 3, 2, 17, 0, tzinfo=UTC), ZoneInfo("Asia/Shanghai"))
    assert start == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 00:00 on 3 March in Shanghai
    assert end - start == timedelta(days=1)


# ---------------------------------------------------------------------- with a database

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[SessionFactory]:
    await upgrade(db_url)
    engine = create_engine(db_url)
    yield make_session_factory(engine)
    await engine.dispose()


async def seed(sessions: SessionFactory, pool: list[str], rates: dict[str, float], n: int) -> int:
    """`n` dials per number over the last 10 hours with the given live-answer rates (plus a
    few trunk failures, which must not count)."""
    rng = random.Random(7)
    async with sessions() as session, session.begin():
        campaign = Campaign(name="cid", caller_id_pool=pool)
        session.add(campaign)
        await session.flush()
        for number, rate in rates.items():
            live = round(n * rate)
            outcomes = ["human"] * live + ["no_answer"] * (n - live) + ["failed"] * 5
            rng.shuffle(outcomes)
            for i, outcome in enumerate(outcomes):
                session.add(
                    CallAttempt(
                        id=f"a-{number[-2:]}-{i}",
                        campaign_id=campaign.id,
                        number_dialed="+8613800000000",
                        caller_id=number,
                        originate_at=NOW - timedelta(hours=10) + timedelta(seconds=60 * i),
                        outcome=outcome,
                        terminal_state="completed",
                    )
                )
        return campaign.id


async def test_the_monitor_flags_rests_and_feeds_the_rotation(sessions: SessionFactory) -> None:
    pool = POOL[:3]
    cid = await seed(sessions, pool, {pool[0]: 0.30, pool[1]: 0.25, pool[2]: 0.05}, n=120)
    await service.update_policy(sessions, cid, {"rest_hours": 2})
    run = _run(pool, cid)
    clock = [NOW]
    monitor = CallerIdMonitor(
        sessions, lambda: {cid: run}, lambda: {cid}, now=lambda: clock[0], zone="Asia/Shanghai"
    )
    assert await monitor.evaluate() == 1
    async with sessions() as session:
        rows = {
            r.caller_id: r
            for r in await session.scalars(
                select(CallerIdStatus).where(CallerIdStatus.campaign_id == cid)
            )
        }
        audit = list(
            await session.scalars(select(AuditLog).where(AuditLog.action == "caller_id.flag"))
        )
    bad = rows[pool[2]]
    assert bad.flagged and bad.rested_until == NOW + timedelta(hours=2)
    assert bad.samples == 120 and bad.answer_rate == pytest.approx(0.05)
    assert bad.baseline_rate == pytest.approx(66 / 240)
    assert not rows[pool[0]].flagged and rows[pool[0]].rested_until is None
    assert [a.detail["caller_id"] for a in audit] == [pool[2]]
    assert await monitor.evaluate() == 0  # flagged once
    await monitor.refresh()
    assert run.caller_id_rested == frozenset({pool[2]})
    assert run.caller_id_used == {pool[0]: 125, pool[1]: 125, pool[2]: 125}  # today's dials
    picks = {run.next_caller_id() for _ in range(10)}
    assert picks == {pool[0], pool[1]}
    # the rest ends: back in the rotation, and its old calls are not judged again
    clock[0] = NOW + timedelta(hours=3)  # the old calls are still in the 24 h window
    await monitor.refresh()
    assert run.caller_id_rested == frozenset()
    assert await monitor.evaluate() == 0
    report = await service.report(sessions, cid, clock[0], clock[0] - timedelta(hours=1))
    again = {n.caller_id: n for n in report.numbers}[pool[2]]
    assert again.attempts == 0 and again.flagged and not again.resting and again.available


async def test_daily_caps_come_from_the_policy_and_the_number(sessions: SessionFactory) -> None:
    pool = POOL[:2]
    cid = await seed(sessions, pool, {pool[0]: 0.3, pool[1]: 0.3}, n=20)
    await service.update_policy(sessions, cid, {"daily_cap": 30, "hard_caps": False})
    await service.update_number(sessions, cid, pool[1], NOW, daily_cap=100)
    run = _run(pool, cid)
    monitor = CallerIdMonitor(
        sessions, lambda: {cid: run}, lambda: set(), now=lambda: NOW, zone="Asia/Shanghai"
    )
    await monitor.refresh()
    assert run.caller_id_caps == {pool[0]: 30, pool[1]: 100}
    assert run.caller_id_hard_caps is False
    assert run.caller_id_used == {pool[0]: 25, pool[1]: 25}
    picks = [run.next_caller_id() for _ in range(12)]
    assert picks.count(pool[0]) == 5  # 25 + 5 = its cap of 30
    assert run.caller_id_used[pool[0]] == 30 and run.caller_id_fallbacks == 0
    # a refresh never forgets dials it has not seen in the database yet
    await monitor.refresh()
    assert run.caller_id_used[pool[0]] == 30
    # the next call-centre day starts from the database's count again
    tomorrow = CallerIdMonitor(
        sessions,
        lambda: {cid: run},
        lambda: set(),
        now=lambda: NOW + timedelta(days=1),
        zone="Asia/Shanghai",
    )
    await tomorrow.refresh()
    assert run.caller_id_used == {pool[0]: 0, pool[1]: 0}
