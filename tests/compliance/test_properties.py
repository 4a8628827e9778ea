"""Property tests: no stream of calls the engine allows breaks an active rule, checked by an
independent reading of the rules; decisions are deterministic and order-independent; the
next allowed moment is the first one."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance import Attempt, CheckRequest, ComplianceEngine
from tests.compliance.builders import CN_MOBILE, FL_NUMBER, FR_NUMBER, UK_NUMBER, request

ENGINE = ComplianceEngine()
CN_CALENDAR = holidays.country_holidays("CN")
FR_CALENDAR = holidays.country_holidays("FR")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")

# Derandomized: the same examples on every run, so the suite is deterministic.
PROPERTY_SETTINGS = settings(
    deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

MARKETS = {"CN": (CN_MOBILE, "CN"), "FL": (FL_NUMBER, "US"), "FR": (FR_NUMBER, "FR"),
           "UK": (UK_NUMBER, "UK")}


@dataclass(frozen=True)
class Step:
    gap_minutes: int
    abandoned: bool
    refusal: bool
    follow: bool  # when blocked, retry at the engine's next_allowed_at (as the hopper does)


steps = st.builds(
    Step,
    gap_minutes=st.one_of(
        st.integers(1, 120), st.integers(1, 12 * 60), st.integers(1, 4 * 24 * 60)
    ),
    abandoned=st.integers(0, 4).map(lambda n: n == 0),
    refusal=st.integers(0, 25).map(lambda n: n == 0),
    follow=st.integers(0, 3).map(lambda n: n > 0),
)
starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 30),
                      timezones=st.just(UTC))


def simulate(market: str, start: datetime, plan: list[Step]) -> list[Attempt]:
    """Offer a call at every step (or when the engine says it may next go); keep the ones the
    engine allows as history."""
    number, rules = MARKETS[market]
    history: list[Attempt] = []
    moment = start
    for index, step in enumerate(plan):
        moment += timedelta(minutes=step.gap_minutes)
        decision = ENGINE.check(request(number, moment, rules, history=tuple(history)))
        if not decision.allowed and decision.next_allowed_at is not None and step.follow:
            moment = decision.next_allowed_at
            decision = ENGINE.check(request(number, moment, rules, history=tuple(history)))
        if decision.allowed:
            history.append(Attempt(at=moment, campaign_id=1 + index % 2, outcome="human",
                                   subject="solar", abandoned=step.abandoned,
                                   refusal=step.refusal))
    return history


def _before(calls: list[Attempt], i: int, span: timedelta) -> list[Attempt]:
    return [c for c in calls[:i] if calls[i].at - span < c.at]


def violations(market: str, calls: list[Attempt]) -> list[str]:
    """The rules of the market read independently of the engine's code."""
    found = []
    for i, call in enumerate(calls):
        earlier = calls[:i]
        if market == "CN":
            t = call.at.astimezone(SHANGHAI)
            if not (CN_CALENDAR.is_working_day(t.date()) and 9 <= t.hour < 18):
                found.append(f"CN window at {t}")
            if any(c.refusal for c in earlier):
                found.append(f"CN call after refusal at {t}")
        elif market == "FL":
            t = call.at.astimezone(NEW_YORK)
            if not 8 <= t.hour < 20:
                found.append(f"FL window at {t}")
            if len(_before(calls, i, timedelta(hours=24))) >= 3:
                found.append(f"FL 4th call in 24 h at {t}")
        elif market == "FR":
            t = call.at.astimezone(PARIS)
            in_hours = 10 <= t.hour < 13 or 14 <= t.hour < 20
            if t.weekday() >= 5 or t.date() in FR_CALENDAR or not in_hours:
                found.append(f"FR window at {t}")
            if len(_before(calls, i, timedelta(days=30))) >= 4:
                found.append(f"FR 5th attempt in 30 days at {t}")
            if any(c.refusal and call.at - c.at < timedelta(days=60) for c in earlier):
                found.append(f"FR call within 60 days of refusal at {t}")
        elif market == "UK" and any(
            c.abandoned and call.at - c.at < timedelta(hours=72) for c in earlier
        ):
            found.append(f"UK call within 72 h of an abandon at {call.at}")
    return found


@settings(PROPERTY_SETTINGS, max_examples=250)
@given(st.sampled_from(sorted(MARKETS)), starts, st.lists(steps, min_size=1, max_size=60))
def test_allowed_calls_never_break_a_rule(market: str, start: datetime, plan: list[Step]) -> None:
    calls = simulate(market, start, plan)
    assert violations(market, calls) == []


def _probe(market: str, start: datetime, plan: list[Step]) -> CheckRequest:
    number, rules = MARKETS[market]
    history = simulate(market, start, plan[:-1])
    at = start + timedelta(minutes=sum(s.gap_minutes for s in plan))
    return request(number, at, rules, history=tuple(history))


@settings(PROPERTY_SETTINGS, max_examples=120)
@given(st.sampled_from(sorted(MARKETS)), starts, st.lists(steps, min_size=1, max_size=25),
       st.randoms(use_true_random=False))
def test_decisions_are_deterministic_and_ignore_history_order(
    market: str, start: datetime, plan: list[Step], rng: random.Random
) -> None:
    probe = _probe(market, start, plan)
    first = ENGINE.check(probe)
    assert ComplianceEngine().check(probe) == first
    shuffled = list(probe.history)
    rng.shuffle(shuffled)
    assert ENGINE.check(replace(probe, history=tuple(shuffled))) == first


@settings(PROPERTY_SETTINGS, max_examples=120)
@given(st.sampled_from(sorted(MARKETS)), starts, st.lists(steps, min_size=1, max_size=25))
def test_next_allowed_at_is_the_first_allowed_moment(
    market: str, start: datetime, plan: list[Step]
) -> None:
    probe = _probe(market, start, plan)
    decision = ENGINE.check(probe)
    if decision.allowed:
        assert decision.reasons == [] and decision.next_allowed_at is None
        return
    assert decision.reasons
    if decision.next_allowed_at is None:
        return
    assert decision.next_allowed_at > probe.at
    assert ENGINE.check(replace(probe, at=decision.next_allowed_at)).allowed
    just_before = max(probe.at, decision.next_allowed_at - timedelta(seconds=1))
    assert not ENGINE.check(replace(probe, at=just_before)).allowed
