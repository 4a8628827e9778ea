from datetime import UTC, datetime, timedelta

import pytest

from dialer.db.enums import LeadStatus
from dialer.runtime.attempt_state import AttemptState
from dialer.runtime.retry import (
    DEFAULT_RETRY_RULES,
    DispositionFlags,
    next_for_lead,
    parse_rules,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_busy_retries_soon_until_the_cap():
    rules = parse_rules({"busy": {"delay_minutes": 5, "max_attempts": 3}})
    n = next_for_lead(AttemptState.BUSY, attempts=1, now=NOW, rules=rules)
    assert n.status is LeadStatus.RETRY and n.next_call_at == NOW + timedelta(minutes=5)
    n = next_for_lead(AttemptState.BUSY, attempts=3, now=NOW, rules=rules)
    assert n.status is LeadStatus.DONE and "cap 3" in n.reason


def test_campaign_cap_is_stricter_than_rule():
    n = next_for_lead(
        AttemptState.NO_ANSWER, attempts=2, now=NOW, rules=DEFAULT_RETRY_RULES, max_attempts=2
    )
    assert n.status is LeadStatus.DONE


def test_refusal_suppresses_and_callback_schedules():
    refusal = DispositionFlags("REFUSED", refusal=True, final=True)
    n = next_for_lead(AttemptState.COMPLETED, attempts=1, now=NOW, rules={}, disposition=refusal)
    assert n.status is LeadStatus.DNC and n.suppress and n.next_call_at is None
    cb = DispositionFlags("CALLBK", callback=True)
    at = NOW + timedelta(days=1)
    n = next_for_lead(
        AttemptState.COMPLETED, attempts=1, now=NOW, rules={}, disposition=cb, callback_at=at
    )
    assert n.status is LeadStatus.CALLBACK and n.next_call_at == at
    n = next_for_lead(AttemptState.COMPLETED, attempts=1, now=NOW, rules={}, disposition=cb)
    assert n.next_call_at == NOW + timedelta(days=1)


def test_final_sale_is_done_and_non_terminal_is_refused():
    sale = DispositionFlags("SALE", final=True)
    n = next_for_lead(AttemptState.COMPLETED, attempts=1, now=NOW, rules={}, disposition=sale)
    assert n.status is LeadStatus.DONE
    with pytest.raises(ValueError):
        next_for_lead(AttemptState.RINGING, attempts=1, now=NOW, rules={})


def test_bad_rules_are_rejected():
    with pytest.raises(ValueError):
        parse_rules({"busy": 5})
