"""What happens to a lead after an attempt ends: done, retried later, called back, or
suppressed. Pure: the campaign's rules and the attempt's end come in, the lead's next
status and time go out. Compliance (windows, cooldowns after abandons, refusals) is checked
again before the next dial, so these rules only need to be the campaign's own policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dialer.db.enums import LeadStatus
from dialer.runtime.attempt_state import TERMINAL, AttemptState


@dataclass(frozen=True)
class RetryRule:
    delay_minutes: float
    max_attempts: int


# Sensible defaults for a Chinese outbound team: busy lines come back soon, unanswered
# numbers later in the day, machines the next half-day.
DEFAULT_RETRY_RULES: dict[str, RetryRule] = {
    AttemptState.NO_ANSWER.value: RetryRule(60, 6),
    AttemptState.BUSY.value: RetryRule(15, 6),
    AttemptState.CONGESTION.value: RetryRule(10, 6),
    AttemptState.FAILED.value: RetryRule(240, 2),
    AttemptState.MACHINE.value: RetryRule(240, 4),
    AttemptState.ABANDONED.value: RetryRule(60, 6),
    AttemptState.DROPPED.value: RetryRule(30, 6),
    AttemptState.LOST.value: RetryRule(5, 6),
}


DEFAULT_CALLBACK_DELAY = timedelta(days=1)


@dataclass(frozen=True)
class DispositionFlags:
    code: str
    final: bool = False
    callback: bool = False
    dnc: bool = False
    refusal: bool = False
    complaint: bool = False
    retry_minutes: float | None = None  # e.g. "call back later" without a fixed time


@dataclass(frozen=True)
class LeadNext:
    status: LeadStatus
    next_call_at: datetime | None
    reason: str
    suppress: bool = False  # add the number to the company DNC list


def parse_rules(raw: dict[str, Any] | None) -> dict[str, RetryRule]:
    """Campaign JSON `{"busy": {"delay_minutes": 5, "max_attempts": 3}, ...}` over defaults."""
    rules = dict(DEFAULT_RETRY_RULES)
    for key, value in (raw or {}).items():
        if key == "max_attempts_per_day":  # a campaign-wide limit, not a rule (CampaignConfig)
            continue
        if not isinstance(value, dict):
            raise ValueError(f"retry rule {key!r} must be an object")
        rules[key] = RetryRule(
            float(value.get("delay_minutes", rules.get(key, RetryRule(60, 6)).delay_minutes)),
            int(value.get("max_attempts", rules.get(key, RetryRule(60, 6)).max_attempts)),
        )
    return rules


def next_for_lead(
    end: AttemptState,
    *,
    attempts: int,
    now: datetime,
    rules: dict[str, RetryRule],
    disposition: DispositionFlags | None = None,
    callback_at: datetime | None = None,
    max_attempts: int | None = None,
) -> LeadNext:
    """`attempts` counts the attempt that just ended."""
    if end not in TERMINAL:
        raise ValueError(f"{end.value} is not a terminal attempt state")
    if disposition is not None:
        if disposition.dnc or disposition.refusal or disposition.complaint:
            why = (
                "refusal"
                if disposition.refusal
                else "complaint"
                if disposition.complaint
                else "dnc"
            )
            return LeadNext(LeadStatus.DNC, None, f"disposition {disposition.code}: {why}", True)
        if disposition.callback:
            if callback_at is None:  # a desk phone cannot type a time: call back tomorrow
                callback_at = now + DEFAULT_CALLBACK_DELAY
            return LeadNext(LeadStatus.CALLBACK, callback_at, f"callback ({disposition.code})")
        if disposition.final:
            return LeadNext(LeadStatus.DONE, None, f"final disposition {disposition.code}")
        delay = disposition.retry_minutes
        key = disposition.code
    else:
        delay = None
        key = end.value
    rule = rules.get(key) or rules.get(end.value) or RetryRule(60, 6)
    cap = min(rule.max_attempts, max_attempts) if max_attempts else rule.max_attempts
    if attempts >= cap:
        return LeadNext(LeadStatus.DONE, None, f"{key}: {attempts} attempts reached the cap {cap}")
    minutes = rule.delay_minutes if delay is None else delay
    return LeadNext(LeadStatus.RETRY, now + timedelta(minutes=minutes), f"retry after {key}")
