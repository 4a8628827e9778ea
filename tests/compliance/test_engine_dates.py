"""Table-driven checks on the dates that matter: holidays, make-up days, DST, window edges."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from compliance import Attempt, ComplianceEngine
from tests.compliance.builders import (
    CN_MOBILE,
    FL_NUMBER,
    FR_NUMBER,
    IN_NUMBER,
    KOLKATA,
    LONDON,
    MD_NUMBER,
    NEW_YORK,
    NY_NUMBER,
    PARIS,
    SHANGHAI,
    UK_NUMBER,
    local,
    request,
    utc,
)

ENGINE = ComplianceEngine()

CASES = [
    # China: official working days with make-up days, 09:00-18:00 local
    pytest.param(
        CN_MOBILE,
        local(SHANGHAI, 2025, 9, 27, 10),
        "CN",
        {"cn.window"},
        local(SHANGHAI, 2025, 9, 28, 9),
        id="cn-saturday-before-makeup-sunday",
    ),
    pytest.param(
        CN_MOBILE, local(SHANGHAI, 2025, 9, 28, 10), "CN", set(), None, id="cn-makeup-sunday-2025"
    ),
    pytest.param(
        CN_MOBILE,
        local(SHANGHAI, 2025, 10, 3, 10),
        "CN",
        {"cn.window"},
        local(SHANGHAI, 2025, 10, 9, 9),
        id="cn-golden-week-2025",
    ),
    pytest.param(
        CN_MOBILE,
        local(SHANGHAI, 2025, 10, 11, 10),
        "CN",
        set(),
        None,
        id="cn-makeup-saturday-2025",
    ),
    pytest.param(
        CN_MOBILE, local(SHANGHAI, 2026, 9, 20, 10), "CN", set(), None, id="cn-makeup-sunday-2026"
    ),
    pytest.param(
        CN_MOBILE,
        local(SHANGHAI, 2026, 10, 5, 10),
        "CN",
        {"cn.window"},
        local(SHANGHAI, 2026, 10, 8, 9),
        id="cn-golden-week-2026",
    ),
    pytest.param(CN_MOBILE, local(SHANGHAI, 2026, 9, 21, 17, 59), "CN", set(), None, id="cn-17:59"),
    pytest.param(
        CN_MOBILE,
        local(SHANGHAI, 2026, 9, 21, 18, 0),
        "CN",
        {"cn.window"},
        local(SHANGHAI, 2026, 9, 22, 9),
        id="cn-18:00",
    ),
    pytest.param(
        CN_MOBILE,
        local(SHANGHAI, 2026, 9, 22, 3, 0),
        "CN",
        {"cn.window"},
        local(SHANGHAI, 2026, 9, 22, 9),
        id="cn-night",
    ),
    # US federal 08:00-21:00 callee local, DST changes
    pytest.param(NY_NUMBER, local(NEW_YORK, 2026, 7, 15, 20, 59), "US", set(), None, id="us-20:59"),
    pytest.param(
        NY_NUMBER,
        local(NEW_YORK, 2026, 7, 15, 21, 0),
        "US",
        {"us.window"},
        local(NEW_YORK, 2026, 7, 16, 8),
        id="us-21:00",
    ),
    pytest.param(
        NY_NUMBER,
        utc(2026, 3, 8, 2),
        "US",
        {"us.window"},
        utc(2026, 3, 8, 12),
        id="us-spring-forward",
    ),
    pytest.param(
        NY_NUMBER, utc(2026, 3, 8, 12, 30), "US", set(), None, id="us-spring-forward-08:30-edt"
    ),
    pytest.param(
        NY_NUMBER, utc(2026, 11, 1, 2), "US", {"us.window"}, utc(2026, 11, 1, 13), id="us-fall-back"
    ),
    pytest.param(
        NY_NUMBER,
        utc(2026, 11, 1, 12, 30),
        "US",
        {"us.window"},
        utc(2026, 11, 1, 13),
        id="us-fall-back-07:30-est",
    ),
    # Florida / Maryland: 08:00-20:00; Maryland's act took effect on 2024-01-01
    pytest.param(FL_NUMBER, local(NEW_YORK, 2026, 7, 15, 19, 59), "US", set(), None, id="fl-19:59"),
    pytest.param(
        FL_NUMBER,
        local(NEW_YORK, 2026, 7, 15, 20, 0),
        "US",
        {"us.fl.window"},
        local(NEW_YORK, 2026, 7, 16, 8),
        id="fl-20:00",
    ),
    pytest.param(
        MD_NUMBER, local(NEW_YORK, 2023, 12, 31, 20, 30), "US", set(), None, id="md-before-the-act"
    ),
    pytest.param(
        MD_NUMBER,
        local(NEW_YORK, 2024, 1, 2, 20, 30),
        "US",
        {"us.md.window"},
        local(NEW_YORK, 2024, 1, 3, 8),
        id="md-after-the-act",
    ),
    # France: Mon-Fri 10-13 and 14-20, never on public holidays
    pytest.param(
        FR_NUMBER,
        local(PARIS, 2026, 5, 4, 13, 30),
        "FR",
        {"fr.window"},
        local(PARIS, 2026, 5, 4, 14),
        id="fr-lunch",
    ),
    pytest.param(
        FR_NUMBER,
        local(PARIS, 2026, 5, 1, 11),
        "FR",
        {"fr.window"},
        local(PARIS, 2026, 5, 4, 10),
        id="fr-labour-day",
    ),
    pytest.param(FR_NUMBER, local(PARIS, 2026, 5, 5, 19, 59), "FR", set(), None, id="fr-19:59"),
    pytest.param(
        FR_NUMBER,
        local(PARIS, 2023, 2, 25, 11),
        "FR",
        set(),
        None,
        id="fr-saturday-before-the-decree",
    ),
    # India 09:00-21:00
    pytest.param(
        IN_NUMBER,
        local(KOLKATA, 2026, 7, 15, 21, 0),
        "IN",
        {"in.window"},
        local(KOLKATA, 2026, 7, 16, 9),
        id="in-21:00",
    ),
]


@pytest.mark.parametrize(("number", "at", "market", "blocked_by", "next_at"), CASES)
def test_dates_that_matter(
    number: str, at: datetime, market: str, blocked_by: set[str], next_at: datetime | None
) -> None:
    decision = ENGINE.check(request(number, at, market))
    assert {r.rule for r in decision.reasons} == blocked_by
    assert decision.allowed is (not blocked_by)
    assert decision.next_allowed_at == next_at
    if next_at is not None:
        assert ENGINE.check(request(number, next_at, market)).allowed


def _calls(*moments: datetime, **fields: Any) -> tuple[Attempt, ...]:
    return tuple(
        Attempt(at=m, campaign_id=2, outcome="human", subject="solar", **fields) for m in moments
    )


# Florida: Sunday 1 November 2026 is the fall-back night; "24 h" is elapsed time, not wall time.
FL_AFTER_FALL_BACK = local(NEW_YORK, 2026, 11, 1, 12, 0)  # 12:00 EST = 17:00 UTC
# UK: summer time ends on Sunday 25 October 2026; 72 h after 12:00 BST is 11:00 GMT.
UK_ABANDON = local(LONDON, 2026, 10, 23, 12, 0)
US_AFTER_SPRING_FORWARD = local(NEW_YORK, 2026, 3, 9, 12, 0)

HISTORY_CASES = [
    pytest.param(
        FL_NUMBER,
        FL_AFTER_FALL_BACK,
        "US",
        {
            "history": _calls(
                local(NEW_YORK, 2026, 10, 31, 13, 0),
                local(NEW_YORK, 2026, 10, 31, 19, 0),
                local(NEW_YORK, 2026, 11, 1, 9, 0),
            )
        },
        set(),
        None,
        id="fl-3-calls-first-exactly-24h-ago-across-fall-back",
    ),
    pytest.param(
        FL_NUMBER,
        FL_AFTER_FALL_BACK,
        "US",
        {
            "history": _calls(
                local(NEW_YORK, 2026, 10, 31, 13, 1),
                local(NEW_YORK, 2026, 10, 31, 19, 0),
                local(NEW_YORK, 2026, 11, 1, 9, 0),
            )
        },
        {"us.fl.frequency"},
        local(NEW_YORK, 2026, 11, 1, 12, 1),
        id="fl-3-calls-in-24h-across-fall-back",
    ),
    pytest.param(
        UK_NUMBER,
        local(LONDON, 2026, 10, 26, 10, 59),
        "UK",
        {"history": _calls(UK_ABANDON, abandoned=True)},
        {"uk.abandon_72h"},
        local(LONDON, 2026, 10, 26, 11, 0),
        id="uk-71:59-after-abandon-across-bst-end",
    ),
    pytest.param(
        UK_NUMBER,
        local(LONDON, 2026, 10, 26, 11, 0),
        "UK",
        {"history": _calls(UK_ABANDON, abandoned=True)},
        set(),
        None,
        id="uk-72h-after-abandon-across-bst-end",
    ),
    pytest.param(
        UK_NUMBER,
        local(LONDON, 2026, 10, 26, 11, 0),
        "UK",
        {
            "history": _calls(UK_ABANDON - timedelta(hours=1)),
            "last_abandon_at": UK_ABANDON,
            "agent_guaranteed": True,
        },
        set(),
        None,
        id="uk-abandon-with-guaranteed-agent",
    ),
    pytest.param(
        CN_MOBILE,
        local(SHANGHAI, 2026, 9, 20, 10),
        "CN",
        {"history": _calls(local(SHANGHAI, 2024, 5, 6, 10), refusal=True)},
        {"cn.refusal"},
        None,
        id="cn-refused-2-years-ago-in-another-campaign",
    ),
    pytest.param(
        CN_MOBILE,
        local(SHANGHAI, 2026, 10, 3, 10),
        "CN",
        {"last_refusal_at": local(SHANGHAI, 2026, 9, 30, 10)},
        {"cn.window", "cn.refusal"},
        None,
        id="cn-refused-and-golden-week",
    ),
    pytest.param(
        FR_NUMBER,
        local(PARIS, 2026, 5, 5, 11),
        "FR",
        {"history": _calls(local(PARIS, 2026, 4, 7, 11), refusal=True)},
        {"fr.refusal"},
        local(PARIS, 2026, 6, 8, 10),
        id="fr-refused-in-another-campaign-60-days",
    ),
    pytest.param(
        NY_NUMBER,
        US_AFTER_SPRING_FORWARD,
        "US",
        {"registry_scrubs": {"us.dnc": US_AFTER_SPRING_FORWARD - timedelta(days=31)}},
        set(),
        None,
        id="us-dnc-scrub-31-days-old",
    ),
    pytest.param(
        NY_NUMBER,
        US_AFTER_SPRING_FORWARD,
        "US",
        {"registry_scrubs": {"us.dnc": US_AFTER_SPRING_FORWARD - timedelta(days=31, minutes=1)}},
        {"us.dnc.scrub"},
        None,
        id="us-dnc-scrub-stale-by-a-minute",
    ),
    pytest.param(
        UK_NUMBER,
        local(LONDON, 2026, 7, 15, 12),
        "UK",
        {"registry_scrubs": {"uk.tps": local(LONDON, 2026, 6, 16, 12)}},
        {"uk.tps.scrub"},
        None,
        id="uk-tps-scrub-29-days-old",
    ),
]


@pytest.mark.parametrize(
    ("number", "at", "market", "fields", "blocked_by", "next_at"), HISTORY_CASES
)
def test_history_dates_that_matter(
    number: str,
    at: datetime,
    market: str,
    fields: dict[str, Any],
    blocked_by: set[str],
    next_at: datetime | None,
) -> None:
    """Caps, cooldowns, refusals and scrub ages count elapsed time across DST changes."""
    decision = ENGINE.check(request(number, at, market, **fields))
    assert {r.rule for r in decision.reasons} == blocked_by
    assert decision.allowed is (not blocked_by)
    assert decision.next_allowed_at == next_at
    if next_at is not None:
        assert ENGINE.check(request(number, next_at, market, **fields)).allowed
