"""Window arithmetic for the hopper, so it can filter in SQL before the full check.

The hopper stores each lead's `next_call_at` (from `earliest_call_time`) and, per tick,
selects leads whose zone is open (`open_time_zones`). Both use the same window rules as
the engine; the engine's full check still runs before every dial.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from compliance.engine import ComplianceEngine
from compliance.jurisdiction import Jurisdiction, zone
from compliance.models import ComplianceProfile
from compliance.rules import WindowRule
from compliance.windows import first_common_open

MAX_RULE_CHANGES = 8  # rule versions taking effect within one search


def _window_rules(
    engine: ComplianceEngine, profile: ComplianceProfile, country: str, states: Iterable[str],
    time_zones: Sequence[str],
) -> list[WindowRule] | None:
    jurisdiction = Jurisdiction("", frozenset({country.upper()}),
                                frozenset(s.upper() for s in states), tuple(time_zones))
    compiled = engine.compile(profile, jurisdiction)
    if compiled.uncovered:
        return None
    return [rule for rule in compiled.rules if isinstance(rule, WindowRule)]


def earliest_call_time(
    engine: ComplianceEngine,
    profile: ComplianceProfile,
    at: datetime,
    time_zones: Sequence[str],
    country: str,
    states: Iterable[str] = (),
) -> datetime | None:
    """The first moment >= `at` (UTC) when every calling window is open in every zone.

    None when the zones are unknown, the country is not covered by the profile, or the
    windows never open together within the search horizon.
    """
    rules = _window_rules(engine, profile, country, states, time_zones)
    if rules is None or not time_zones:
        return None
    moment = at
    for _ in range(MAX_RULE_CHANGES):
        day = max(moment.astimezone(zone(z)).date() for z in time_zones)
        windows = [rule.window for rule in rules if rule.in_effect(day)]
        found = first_common_open(windows, time_zones, moment) if windows else moment
        if found is None:
            return None
        later_day = max(found.astimezone(zone(z)).date() for z in time_zones)
        if [r.window for r in rules if r.in_effect(later_day)] == windows:
            return found.astimezone(UTC)
        moment = found
    return None


def open_time_zones(
    engine: ComplianceEngine,
    profile: ComplianceProfile,
    at: datetime,
    time_zones: Iterable[str],
    country: str,
    states: Iterable[str] = (),
) -> frozenset[str]:
    """The zones (among `time_zones`) in which every calling window is open at `at`."""
    zones = tuple(time_zones)
    rules = _window_rules(engine, profile, country, states, zones)
    if rules is None:
        return frozenset()
    open_now = set()
    for zone_name in zones:
        day = at.astimezone(zone(zone_name)).date()
        if all(rule.window.is_open(at, zone_name) for rule in rules if rule.in_effect(day)):
            open_now.add(zone_name)
    return frozenset(open_now)
