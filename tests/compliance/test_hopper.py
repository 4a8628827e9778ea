"""Window helpers the hopper stores and filters with."""

from __future__ import annotations

from datetime import time, timedelta

from compliance import ComplianceEngine, ComplianceProfile, earliest_call_time, open_time_zones
from tests.compliance.builders import NEW_YORK, PROFILES, SHANGHAI, local, utc

ENGINE = ComplianceEngine()


def test_earliest_call_time_china_golden_week() -> None:
    at = local(SHANGHAI, 2026, 9, 30, 18, 30)
    found = earliest_call_time(ENGINE, PROFILES["CN"], at, ["Asia/Shanghai"], "CN")
    assert found == local(SHANGHAI, 2026, 10, 8, 9, 0)


def test_earliest_call_time_uses_state_windows_and_all_zones() -> None:
    at = local(NEW_YORK, 2026, 7, 15, 20, 30)
    federal = earliest_call_time(ENGINE, PROFILES["US"], at, ["America/New_York"], "US")
    assert federal == at
    florida = earliest_call_time(ENGINE, PROFILES["US"], at, ["America/New_York"], "US", ["FL"])
    assert florida == local(NEW_YORK, 2026, 7, 16, 8, 0)
    two_zones = earliest_call_time(
        ENGINE,
        PROFILES["US"],
        local(NEW_YORK, 2026, 7, 16, 9, 0),
        ["America/New_York", "America/Los_Angeles"],
        "US",
    )
    assert two_zones == local(NEW_YORK, 2026, 7, 16, 11, 0)


def test_earliest_call_time_across_spring_forward() -> None:
    found = earliest_call_time(
        ENGINE, PROFILES["US"], utc(2026, 3, 8, 2), ["America/New_York"], "US"
    )
    assert found == utc(2026, 3, 8, 12)


def test_earliest_call_time_respects_campaign_window() -> None:
    profile = ComplianceProfile(rulesets=("CN",), window=((time(14), time(16)),))
    at = local(SHANGHAI, 2026, 9, 22, 10, 0)
    assert earliest_call_time(ENGINE, profile, at, ["Asia/Shanghai"], "CN") == at + timedelta(
        hours=4
    )


def test_uncovered_country_or_unknown_zone_gives_none() -> None:
    at = utc(2026, 7, 15, 12)
    assert earliest_call_time(ENGINE, PROFILES["CN"], at, ["America/New_York"], "US") is None
    assert earliest_call_time(ENGINE, PROFILES["US"], at, [], "US") is None


def test_open_time_zones() -> None:
    at = utc(2026, 7, 15, 14, 0)  # 10:00 New York, 07:00 Los Angeles, 22:00 Shanghai
    zones = ["America/New_York", "America/Chicago", "America/Los_Angeles"]
    assert open_time_zones(ENGINE, PROFILES["US"], at, zones, "US") == {
        "America/New_York",
        "America/Chicago",
    }
    assert open_time_zones(ENGINE, PROFILES["CN"], at, ["Asia/Shanghai"], "CN") == frozenset()
    assert open_time_zones(ENGINE, PROFILES["CN"], at, zones, "US") == frozenset()


def test_open_zones_agree_with_the_engine_window() -> None:
    zones = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
    start = utc(2026, 3, 7, 0)
    for step in range(0, 72 * 60, 37):
        at = start + timedelta(minutes=step)
        opened = open_time_zones(ENGINE, PROFILES["US"], at, zones, "US")
        for zone_name in zones:
            earliest = earliest_call_time(ENGINE, PROFILES["US"], at, [zone_name], "US")
            assert (zone_name in opened) is (earliest == at)
