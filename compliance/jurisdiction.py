"""Where the callee is: countries, US states and candidate time zones.

Derived from the number with `phonenumbers` (region, time zones) and an area-code table
for the US states that carry their own rules, widened by the lead's address when known:
every source adds candidates, so the strictest reading always applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_time_zones

from compliance.numbers import InvalidNumberError, parse_number

# NANP area codes of the US states that have state calling rules in the default rule sets.
# A number with one of these area codes presumes a resident of that state.
US_STATE_AREA_CODES: dict[str, frozenset[str]] = {
    "FL": frozenset(
        {
            "239", "305", "321", "324", "352", "386", "407", "448", "561", "645", "656", "689",
            "727", "728", "754", "772", "786", "813", "850", "863", "904", "941", "954",
        }
    ),
    "OK": frozenset({"405", "539", "572", "580", "918"}),
    "MD": frozenset({"227", "240", "301", "410", "443", "667"}),
}
# Common non-ISO spellings of countries in lead files.
_COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}
_STATE_BY_AREA_CODE: dict[str, str] = {
    code: state for state, codes in US_STATE_AREA_CODES.items() for code in codes
}


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """The callee's resolved place: the hopper may store it at import and pass it back."""

    e164: str
    countries: frozenset[str]  # ISO 3166 alpha-2 regions (number region, address country)
    states: frozenset[str]  # US state codes
    time_zones: tuple[str, ...]  # candidate IANA zones; empty: unknown

    @property
    def zones_known(self) -> bool:
        return bool(self.time_zones)


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """A cached ZoneInfo; raises ZoneInfoNotFoundError for unknown names."""
    return ZoneInfo(name)


def _known_zones(names: Iterable[str]) -> tuple[str, ...]:
    known: list[str] = []
    for name in names:
        try:
            zone(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        known.append(name)
    return tuple(known)


@lru_cache(maxsize=65536)
def _from_number(raw: str, default_region: str) -> Jurisdiction:
    parsed = parse_number(raw, default_region)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    region = phonenumbers.region_code_for_number(parsed)
    if not region or region == "ZZ":
        raise InvalidNumberError(f"{raw!r} belongs to no region")
    states: frozenset[str] = frozenset()
    if parsed.country_code == 1 and region == "US":
        state = _STATE_BY_AREA_CODE.get(str(parsed.national_number)[:3])
        if state:
            states = frozenset((state,))
    zones = _known_zones(number_time_zones.time_zones_for_number(parsed))
    return Jurisdiction(e164, frozenset((region,)), states, tuple(sorted(zones)))


def resolve_jurisdiction(
    number: str,
    lead_country: str | None = None,
    lead_state: str | None = None,
    lead_time_zone: str | None = None,
    default_region: str = "CN",
) -> Jurisdiction:
    """The callee's jurisdiction from the number, widened by the lead's address.

    Raises InvalidNumberError for a number that cannot be dialled.
    """
    base = _from_number(number, default_region)
    if lead_country is None and lead_state is None and lead_time_zone is None:
        return base
    countries = base.countries
    states = base.states
    zones = base.time_zones
    country = lead_country.upper() if lead_country else None
    country = _COUNTRY_ALIASES.get(country, country) if country else None
    if country:
        countries = countries | {country}
    if lead_state and (country or "US") == "US":
        states = states | {lead_state.upper()}
    if lead_time_zone:
        extra = _known_zones((lead_time_zone,))
        zones = tuple(sorted(set(zones) | set(extra)))
    return Jurisdiction(base.e164, countries, states, zones)
