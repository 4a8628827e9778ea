"""History, suppression and paperwork rules: caps, cooldowns, refusals, DNC, scrubs."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

import pytest

from compliance import (
    AbandonmentStatus,
    AgentCounters,
    Attempt,
    ComplianceEngine,
    ComplianceProfile,
    Jurisdiction,
    LeadLocation,
    PolicyOverride,
    SuppressionHit,
    SuppressionKind,
)
from tests.compliance.builders import (
    CN_MOBILE,
    FL_NUMBER,
    FR_NUMBER,
    IN_NUMBER,
    NEW_YORK,
    NY_NUMBER,
    PARIS,
    SHANGHAI,
    UK_NUMBER,
    US_TOLL_FREE,
    local,
    request,
    utc,
)

ENGINE = ComplianceEngine()
FL_NOON = local(NEW_YORK, 2026, 7, 15, 12, 0)
CN_TUESDAY = local(SHANGHAI, 2026, 9, 22, 10, 0)
UK_NOON = utc(2026, 7, 15, 11, 0)


def rules_of(decision) -> set[str]:
    return {r.rule for r in decision.reasons}


# -- Florida: at most 3 calls per 24 h on the same subject --------------------------------


def test_florida_fourth_call_in_24h_is_blocked_until_the_first_ages_out() -> None:
    history = tuple(
        Attempt(at=FL_NOON - timedelta(hours=h), campaign_id=1, subject="solar")
        for h in (20, 10, 2)
    )
    decision = ENGINE.check(request(FL_NUMBER, FL_NOON, "US", history=history))
    assert rules_of(decision) == {"us.fl.frequency"}
    assert decision.next_allowed_at == FL_NOON + timedelta(hours=4)


def test_florida_third_call_is_allowed() -> None:
    history = tuple(
        Attempt(at=FL_NOON - timedelta(hours=h), campaign_id=1, subject="solar") for h in (20, 2)
    )
    assert ENGINE.check(request(FL_NUMBER, FL_NOON, "US", history=history)).allowed


def test_florida_counts_the_same_subject_across_campaigns_only() -> None:
    other_subject = tuple(
        Attempt(at=FL_NOON - timedelta(hours=h), campaign_id=2, subject="roofing")
        for h in (20, 10, 2)
    )
    assert ENGINE.check(request(FL_NUMBER, FL_NOON, "US", history=other_subject)).allowed
    same_subject = tuple(replace(a, subject="solar") for a in other_subject)
    blocked = ENGINE.check(request(FL_NUMBER, FL_NOON, "US", history=same_subject))
    assert rules_of(blocked) == {"us.fl.frequency"}


def test_new_york_has_no_frequency_cap_but_a_florida_address_brings_one() -> None:
    history = tuple(
        Attempt(at=FL_NOON - timedelta(hours=h), campaign_id=1, subject="solar")
        for h in (20, 10, 2)
    )
    assert ENGINE.check(request(NY_NUMBER, FL_NOON, "US", history=history)).allowed
    moved = request(
        NY_NUMBER,
        FL_NOON,
        "US",
        history=history,
        lead_location=LeadLocation(country="US", state="FL"),
    )
    assert rules_of(ENGINE.check(moved)) == {"us.fl.frequency"}


def test_florida_cap_lifts_outside_the_window_moves_to_the_next_morning() -> None:
    at = local(NEW_YORK, 2026, 7, 15, 19, 0)
    history = tuple(
        Attempt(at=at - timedelta(hours=h), campaign_id=1, subject="solar") for h in (23, 5, 1)
    )
    decision = ENGINE.check(request(FL_NUMBER, at, "US", history=history))
    # the cap lifts at 20:00 local, when the Florida window has just closed
    assert decision.next_allowed_at == local(NEW_YORK, 2026, 7, 16, 8, 0)


# -- UK: no repeat within 72 h of an abandoned call ---------------------------------------


@pytest.mark.parametrize(
    ("hours_after", "guaranteed", "blocked"),
    [(71, False, True), (72, False, False), (71, True, False), (73, False, False)],
)
def test_uk_72_hours_after_an_abandon(hours_after: int, guaranteed: bool, blocked: bool) -> None:
    abandoned_at = UK_NOON - timedelta(hours=hours_after)
    history = (Attempt(at=abandoned_at, campaign_id=3, outcome="human", abandoned=True),)
    decision = ENGINE.check(
        request(UK_NUMBER, UK_NOON, "UK", history=history, agent_guaranteed=guaranteed)
    )
    assert rules_of(decision) == ({"uk.abandon_72h"} if blocked else set())
    if blocked:
        assert decision.next_allowed_at == abandoned_at + timedelta(hours=72)


def test_uk_last_abandon_field_counts_like_history() -> None:
    decision = ENGINE.check(
        request(UK_NUMBER, UK_NOON, "UK", last_abandon_at=UK_NOON - timedelta(hours=1))
    )
    assert rules_of(decision) == {"uk.abandon_72h"}


# -- refusals and complaints ---------------------------------------------------------------


def test_refusal_in_another_campaign_suppresses_permanently_in_china() -> None:
    history = (
        Attempt(at=CN_TUESDAY - timedelta(days=400), campaign_id=7, outcome="human", refusal=True),
    )
    decision = ENGINE.check(request(CN_MOBILE, CN_TUESDAY, "CN", history=history))
    assert rules_of(decision) == {"cn.refusal"}
    assert decision.next_allowed_at is None


def test_france_refusal_blocks_for_60_days() -> None:
    at = local(PARIS, 2026, 5, 5, 11, 0)
    refused = at - timedelta(days=28)  # Tuesday 2026-04-07 11:00
    decision = ENGINE.check(request(FR_NUMBER, at, "FR", last_refusal_at=refused))
    assert rules_of(decision) == {"fr.refusal"}
    # 60 days after the refusal is Saturday 2026-06-06 11:00; the window next opens Monday
    assert decision.next_allowed_at == local(PARIS, 2026, 6, 8, 10, 0)
    later = ENGINE.check(request(FR_NUMBER, at + timedelta(days=34), "FR", last_refusal_at=refused))
    assert "fr.refusal" not in rules_of(later)


def test_france_fifth_attempt_in_30_days_is_blocked() -> None:
    at = local(PARIS, 2026, 5, 5, 11, 0)
    history = tuple(
        Attempt(at=at - timedelta(days=d), campaign_id=1 + d % 2) for d in (29, 20, 10, 1)
    )
    decision = ENGINE.check(request(FR_NUMBER, at, "FR", history=history))
    assert rules_of(decision) == {"fr.attempts"}
    assert decision.next_allowed_at == local(PARIS, 2026, 5, 6, 11, 0)


def test_complaint_suppresses_at_once_everywhere() -> None:
    history = (Attempt(at=CN_TUESDAY - timedelta(minutes=5), campaign_id=9, complaint=True),)
    decision = ENGINE.check(request(CN_MOBILE, CN_TUESDAY, "CN", history=history))
    assert rules_of(decision) == {"dnc.complaint"}
    assert decision.next_allowed_at is None
    hit = (SuppressionHit(SuppressionKind.COMPLAINT, added_at=CN_TUESDAY),)
    assert rules_of(ENGINE.check(request(NY_NUMBER, FL_NOON, "US", suppressions=hit))) == {
        "dnc.complaint"
    }


# -- suppression lists and registries -------------------------------------------------------


def test_company_dnc_blocks_permanently() -> None:
    hit = (SuppressionHit(SuppressionKind.COMPANY_DNC, added_at=CN_TUESDAY, detail="by ops"),)
    decision = ENGINE.check(request(CN_MOBILE, CN_TUESDAY, "CN", suppressions=hit))
    assert rules_of(decision) == {"dnc.company"}
    assert decision.next_allowed_at is None


def test_campaign_list_applies_to_its_own_campaign_only() -> None:
    other = (SuppressionHit(SuppressionKind.CAMPAIGN, campaign_id=2),)
    assert ENGINE.check(request(CN_MOBILE, CN_TUESDAY, "CN", suppressions=other)).allowed
    own = (SuppressionHit(SuppressionKind.CAMPAIGN, campaign_id=1),)
    assert rules_of(ENGINE.check(request(CN_MOBILE, CN_TUESDAY, "CN", suppressions=own))) == {
        "dnc.campaign"
    }


@pytest.mark.parametrize(
    ("number", "market", "registry", "age_days", "blocked_by"),
    [
        (NY_NUMBER, "US", "us.dnc", 31, set()),
        (NY_NUMBER, "US", "us.dnc", 32, {"us.dnc.scrub"}),
        (UK_NUMBER, "UK", "uk.tps", 28, set()),
        (UK_NUMBER, "UK", "uk.tps", 29, {"uk.tps.scrub"}),
    ],
)
def test_stale_registry_scrub(number, market, registry, age_days, blocked_by) -> None:
    at = FL_NOON if market == "US" else UK_NOON
    scrubs = {"us.dnc": at - timedelta(days=2), "uk.tps": at - timedelta(days=2)}
    scrubs[registry] = at - timedelta(days=age_days)
    decision = ENGINE.check(request(number, at, market, registry_scrubs=scrubs))
    assert rules_of(decision) == blocked_by
    if blocked_by:
        assert decision.next_allowed_at is None


def test_missing_scrub_blocks() -> None:
    decision = ENGINE.check(request(NY_NUMBER, FL_NOON, "US", registry_scrubs={}))
    assert rules_of(decision) == {"us.dnc.scrub"}


@pytest.mark.parametrize(
    ("number", "market", "registry", "rule"),
    [
        (NY_NUMBER, "US", "us.dnc", "us.dnc.registry"),
        (UK_NUMBER, "UK", "uk.tps", "uk.tps.registry"),
        (UK_NUMBER, "UK", "uk.ctps", "uk.ctps.registry"),
        (IN_NUMBER, "IN", "in.ncpr", "in.ncpr"),
        (CN_MOBILE, "CN", "工信部", "dnc.registry"),
    ],
)
def test_national_registry_hit_blocks(number, market, registry, rule) -> None:
    at = {"US": FL_NOON, "CN": CN_TUESDAY}.get(market, utc(2026, 7, 15, 11, 0))
    hit = (SuppressionHit(SuppressionKind.REGISTRY, registry=registry),)
    decision = ENGINE.check(request(number, at, market, suppressions=hit))
    assert rules_of(decision) == {rule}
    assert decision.final and decision.next_allowed_at is None


def test_a_named_national_registry_is_left_to_its_rule_set() -> None:
    """`dnc.registry` catches lists no rule set names, and only those (no double reasons)."""
    hit = (SuppressionHit(SuppressionKind.REGISTRY, registry="us.dnc"),)
    assert ENGINE.check(request(CN_MOBILE, CN_TUESDAY, "CN", suppressions=hit)).allowed


# -- agents, caller ID, campaign settings ---------------------------------------------------


def test_agent_daily_cap_200() -> None:
    assert ENGINE.check(
        request(CN_MOBILE, CN_TUESDAY, "CN", agent=AgentCounters("a7", 199))
    ).allowed
    decision = ENGINE.check(request(CN_MOBILE, CN_TUESDAY, "CN", agent=AgentCounters("a7", 200)))
    assert rules_of(decision) == {"cn.agent_daily_cap"}
    assert decision.next_allowed_at == local(SHANGHAI, 2026, 9, 23, 9, 0)


def test_company_policy_can_retune_the_agent_cap_but_law_cannot_be_overridden() -> None:
    profile = ComplianceProfile(
        rulesets=("CN",), policy_overrides=(PolicyOverride("cn.agent_daily_cap", "cap", 250),)
    )
    assert ENGINE.check(
        request(CN_MOBILE, CN_TUESDAY, "CN", profile=profile, agent=AgentCounters("a7", 220))
    ).allowed
    loosened = ComplianceProfile(
        rulesets=("US",), policy_overrides=(PolicyOverride("us.window", "window", None),)
    )
    with pytest.raises(ValueError, match="not a company-policy rule"):
        ENGINE.check(request(NY_NUMBER, FL_NOON, "US", profile=loosened))


def test_campaign_limits_only_narrow() -> None:
    profile = ComplianceProfile(
        rulesets=("CN",),
        window=((time(10), time(12)),),
        agent_daily_cap=50,
        max_attempts=2,
        retry_interval=timedelta(hours=3),
    )
    history = (
        Attempt(at=CN_TUESDAY - timedelta(hours=1), campaign_id=1),
        Attempt(at=CN_TUESDAY - timedelta(days=1), campaign_id=1),
    )
    decision = ENGINE.check(
        request(
            CN_MOBILE,
            CN_TUESDAY - timedelta(minutes=30),
            "CN",
            profile=profile,
            history=history,
            agent=AgentCounters("a1", 60),
        )
    )
    assert rules_of(decision) == {
        "campaign.window",
        "campaign.agent_daily_cap",
        "campaign.max_attempts",
        "campaign.retry_interval",
    }
    assert decision.next_allowed_at is None


def test_us_requires_caller_id_and_uk_a_callable_one() -> None:
    assert rules_of(ENGINE.check(request(NY_NUMBER, FL_NOON, "US", caller_id=None))) == {
        "us.caller_id"
    }
    premium = ENGINE.check(request(UK_NUMBER, UK_NOON, "UK", caller_id="+449098790000"))
    assert rules_of(premium) == {"uk.caller_id"}


def test_ring_time_connect_window_and_information_message() -> None:
    profile = ComplianceProfile(
        rulesets=("US",), ring_timeout_s=10, information_message=False, connect_window_s=3.0
    )
    decision = ENGINE.check(request(NY_NUMBER, FL_NOON, "US", profile=profile))
    assert rules_of(decision) == {"us.ring_time", "us.information_message", "us.connect_window"}
    uk = ENGINE.check(request(UK_NUMBER, UK_NOON, "UK", profile=replace(profile, rulesets=("UK",))))
    assert rules_of(uk) == {"uk.ring_time", "uk.information_message", "uk.connect_window"}
    progressive = ENGINE.check(
        request(NY_NUMBER, FL_NOON, "US", profile=profile, agent_guaranteed=True)
    )
    assert rules_of(progressive) == {"us.ring_time"}


def test_abandonment_over_the_limit_allows_only_agent_guaranteed_dials() -> None:
    status = AbandonmentStatus(
        live_answers=100,
        abandons=4,
        limit=0.03,
        window_start=FL_NOON - timedelta(days=30),
        recovers_at=FL_NOON + timedelta(hours=2),
    )
    decision = ENGINE.check(request(NY_NUMBER, FL_NOON, "US", abandonment=status))
    assert rules_of(decision) == {"us.abandon_rate"}
    assert decision.next_allowed_at == FL_NOON + timedelta(hours=2)
    assert ENGINE.check(
        request(NY_NUMBER, FL_NOON, "US", abandonment=status, agent_guaranteed=True)
    ).allowed
    at_limit = replace(status, abandons=3, recovers_at=None)
    assert ENGINE.check(request(NY_NUMBER, FL_NOON, "US", abandonment=at_limit)).allowed


# -- jurisdiction edge cases ------------------------------------------------------------------


def test_invalid_number_is_never_dialled() -> None:
    decision = ENGINE.check(request("+1 555 0100", FL_NOON, "US"))
    assert rules_of(decision) == {"number.invalid"}
    assert decision.next_allowed_at is None


def test_unknown_time_zone_is_never_dialled() -> None:
    unknown = Jurisdiction("+8613812345678", frozenset({"CN"}), frozenset(), ())
    decision = ENGINE.check(request(CN_MOBILE, CN_TUESDAY, "CN", jurisdiction=unknown))
    assert rules_of(decision) == {"tz.unknown"}
    assert decision.next_allowed_at is None


def test_country_not_in_the_profile_is_not_dialled() -> None:
    decision = ENGINE.check(request(NY_NUMBER, FL_NOON, "CN"))
    assert rules_of(decision) == {"jurisdiction.uncovered"}


def test_toll_free_needs_every_candidate_zone_open() -> None:
    at = utc(2026, 7, 15, 16, 0)  # 12:00 New York, 06:00 Honolulu
    decision = ENGINE.check(request(US_TOLL_FREE, at, "US"))
    assert rules_of(decision) == {"us.window"}
    assert decision.next_allowed_at is not None
    assert ENGINE.check(request(US_TOLL_FREE, decision.next_allowed_at, "US")).allowed
    one_minute_before = decision.next_allowed_at - timedelta(minutes=1)
    assert not ENGINE.check(request(US_TOLL_FREE, one_minute_before, "US")).allowed


def test_address_zone_adds_to_the_number_zone() -> None:
    at = local(NEW_YORK, 2026, 7, 15, 9, 0)  # 06:00 in Los Angeles
    lead = LeadLocation(country="US", time_zone="America/Los_Angeles")
    decision = ENGINE.check(request(NY_NUMBER, at, "US", lead_location=lead))
    assert rules_of(decision) == {"us.window"}
    assert decision.next_allowed_at == local(NEW_YORK, 2026, 7, 15, 11, 0)


def test_every_blocking_rule_is_listed() -> None:
    at = local(SHANGHAI, 2025, 10, 2, 10, 0)
    history = (Attempt(at=at - timedelta(days=3), campaign_id=2, refusal=True),)
    hit = (SuppressionHit(SuppressionKind.COMPANY_DNC),)
    decision = ENGINE.check(
        request(
            CN_MOBILE, at, "CN", history=history, suppressions=hit, agent=AgentCounters("a1", 500)
        )
    )
    assert rules_of(decision) == {"cn.window", "cn.refusal", "dnc.company", "cn.agent_daily_cap"}
    assert not decision.allowed and decision.next_allowed_at is None


# -- the decision's outward forms ------------------------------------------------------------


def test_decision_to_dict_matches_the_api_contract() -> None:
    decision = ENGINE.check(request(NY_NUMBER, local(NEW_YORK, 2026, 7, 15, 21, 0), "US"))
    body = decision.to_dict()
    assert body == {
        "allowed": False,
        "reasons": [{"rule": "us.window", "detail": body["reasons"][0]["detail"]}],
        "next_allowed_at": "2026-07-16T12:00:00Z",
    }
    assert "21:00" in body["reasons"][0]["detail"]


def test_audit_record_names_rule_versions_and_result() -> None:
    decision = ENGINE.check(request(FL_NUMBER, FL_NOON, "US"))
    record = decision.audit_record()
    assert record["allowed"] is True and record["blocked_by"] == []
    assert "us.fl.frequency@1" in record["rules"] and "us.window@1" in record["rules"]
    assert record["number"] == FL_NUMBER and record["campaign_id"] == 1
    assert record["at"] == "2026-07-15T16:00:00Z"


def test_naive_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ENGINE.check(request(NY_NUMBER, FL_NOON.replace(tzinfo=None), "US"))


def test_final_marks_blocks_that_end_the_lead() -> None:
    dnc = (SuppressionHit(SuppressionKind.COMPANY_DNC),)
    assert ENGINE.check(request(CN_MOBILE, CN_TUESDAY, "CN", suppressions=dnc)).final
    refused = ENGINE.check(request(CN_MOBILE, CN_TUESDAY, "CN", last_refusal_at=CN_TUESDAY))
    assert refused.final and refused.reasons[0].final
    assert ENGINE.check(request("+1 555 0100", FL_NOON, "US")).final
    exhausted = ComplianceProfile(rulesets=("CN",), max_attempts=1)
    history = (Attempt(at=CN_TUESDAY - timedelta(days=1), campaign_id=1),)
    assert ENGINE.check(
        request(CN_MOBILE, CN_TUESDAY, "CN", profile=exhausted, history=history)
    ).final
    # blocks that lift with time or configuration do not end the lead
    fr_refused = ENGINE.check(
        request(
            FR_NUMBER,
            local(PARIS, 2026, 5, 5, 11),
            "FR",
            last_refusal_at=local(PARIS, 2026, 5, 1, 11),
        )
    )
    assert not fr_refused.allowed and not fr_refused.final
    stale = ENGINE.check(request(NY_NUMBER, FL_NOON, "US", registry_scrubs={}))
    assert not stale.allowed and not stale.final and stale.next_allowed_at is None
    night = ENGINE.check(request(CN_MOBILE, local(SHANGHAI, 2026, 9, 22, 23), "CN"))
    assert not night.allowed and not night.final
