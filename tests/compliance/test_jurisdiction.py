"""Where the callee is: region, US state and candidate zones from number and address."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import geocoder

from compliance import InvalidNumberError, resolve_jurisdiction
from compliance.jurisdiction import US_STATE_AREA_CODES

STATE_NAMES = {"FL": ("Florida", ", FL"), "OK": ("Oklahoma", ", OK"), "MD": ("Maryland", ", MD")}


@pytest.mark.parametrize(
    ("state", "code"),
    sorted((state, code) for state, codes in US_STATE_AREA_CODES.items() for code in codes),
)
def test_area_code_table_matches_phonenumbers_geocoding(state: str, code: str) -> None:
    number = phonenumbers.parse(f"+1{code}2345678")
    place = geocoder.description_for_number(number, "en")
    name, suffix = STATE_NAMES[state]
    assert place == name or place.endswith(suffix)
    assert resolve_jurisdiction(f"+1{code}2345678").states == {state}


def test_chinese_mobile() -> None:
    j = resolve_jurisdiction("13812345678", default_region="CN")
    assert j.e164 == "+8613812345678"
    assert j.countries == {"CN"}
    assert j.time_zones == ("Asia/Shanghai",)
    assert not j.states


def test_new_york_number_has_no_state_rules() -> None:
    j = resolve_jurisdiction("+12125550123")
    assert j.countries == {"US"} and not j.states
    assert j.time_zones == ("America/New_York",)


def test_toll_free_spans_many_zones() -> None:
    j = resolve_jurisdiction("+18005550123")
    assert {"America/New_York", "America/Los_Angeles", "Pacific/Honolulu"} <= set(j.time_zones)


def test_lead_address_widens_states_countries_and_zones() -> None:
    j = resolve_jurisdiction("+12125550123", "US", "fl", "America/Chicago")
    assert j.states == {"FL"}
    assert j.time_zones == ("America/Chicago", "America/New_York")
    other = resolve_jurisdiction("+8613812345678", lead_country="FR")
    assert other.countries == {"CN", "FR"}


def test_unknown_lead_zone_is_ignored_not_trusted() -> None:
    j = resolve_jurisdiction("+12125550123", lead_time_zone="Mars/Olympus")
    assert j.time_zones == ("America/New_York",)


@pytest.mark.parametrize("raw", ["+1 555 0100", "not a number", "+999 1234"])
def test_invalid_numbers_raise(raw: str) -> None:
    with pytest.raises(InvalidNumberError):
        resolve_jurisdiction(raw)


def test_uk_spelling_of_the_lead_country_means_gb() -> None:
    assert resolve_jurisdiction("+442071234567", lead_country="uk").countries == {"GB"}
