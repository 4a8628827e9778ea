"""Rules are data: versions with effective dates, custom rule sets, retention minimums."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from compliance import (
    AgentCounters,
    ComplianceEngine,
    ComplianceProfile,
    RuleSet,
    default_rulesets,
)
from compliance.retention import purge_cutoff
from compliance.rules import AgentDailyCapRule
from tests.compliance.builders import CN_MOBILE, SHANGHAI, local, request, utc


def _engine_with_two_cap_versions() -> ComplianceEngine:
    sets = default_rulesets()
    china = sets["CN"]
    switch = date(2026, 1, 1)
    old = AgentDailyCapRule(
        id="cn.agent_daily_cap",
        version=1,
        cap=300,
        effective_from=date(2020, 1, 1),
        effective_until=switch,
    )
    new = AgentDailyCapRule(id="cn.agent_daily_cap", version=2, cap=200, effective_from=switch)
    rules = (*(r for r in china.rules if r.id != "cn.agent_daily_cap"), old, new)
    sets["CN"] = replace(china, rules=rules)
    return ComplianceEngine(sets)


def test_the_version_in_effect_on_the_callee_local_date_applies() -> None:
    engine = _engine_with_two_cap_versions()
    agent = AgentCounters("a1", 250)
    before = engine.check(request(CN_MOBILE, local(SHANGHAI, 2025, 12, 31, 10), "CN", agent=agent))
    after = engine.check(request(CN_MOBILE, local(SHANGHAI, 2026, 1, 5, 10), "CN", agent=agent))
    assert before.allowed
    assert ("cn.agent_daily_cap", 1) in before.evaluated
    assert ("cn.agent_daily_cap", 2) not in before.evaluated
    assert [r.rule for r in after.reasons] == ["cn.agent_daily_cap"]
    assert "cn.agent_daily_cap@2" in after.audit_record()["rules"]


def test_engine_accepts_an_iterable_of_rule_sets_and_rejects_duplicates() -> None:
    sets = list(default_rulesets().values())
    assert set(ComplianceEngine(sets).rulesets) == {"BASE", "CN", "US", "UK", "FR", "IN"}
    with pytest.raises(ValueError, match="duplicate"):
        ComplianceEngine([*sets, RuleSet("CN", frozenset({"CN"}), ())])


def test_unknown_rule_set_in_a_profile_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown rule sets"):
        ComplianceEngine().check(
            request(
                CN_MOBILE, utc(2026, 9, 22, 2), "CN", profile=ComplianceProfile(rulesets=("XX",))
            )
        )


def test_purge_cutoff_keeps_at_least_30_days_in_china() -> None:
    now = utc(2026, 9, 22)
    assert purge_cutoff(now, 90) == now - timedelta(days=90)
    assert purge_cutoff(now, 7, rulesets=("US",)) == now - timedelta(days=7)
    with pytest.raises(ValueError, match="30-day minimum"):
        purge_cutoff(now, 29)
