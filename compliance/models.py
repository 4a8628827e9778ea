"""The engine's inputs and outputs: plain, immutable values the caller fills in.

The engine does no I/O: the caller looks up history, suppression hits, registry scrub
dates and agent counters, and the engine decides from them alone. All datetimes are aware
(any zone; UTC recommended).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from compliance.jurisdiction import Jurisdiction
from compliance.numbers import number_hash


class SuppressionKind(StrEnum):
    """Which kind of list a suppression hit came from."""

    COMPANY_DNC = "company_dnc"
    REGISTRY = "registry"  # national registry (US DNC, UK TPS/CTPS, India NCPR/DND)
    CAMPAIGN = "campaign"  # a campaign's own do-not-call list
    COMPLAINT = "complaint"


@dataclass(frozen=True, slots=True)
class SuppressionHit:
    """An entry found for the number in one of the suppression lists."""

    kind: SuppressionKind
    registry: str | None = None  # for REGISTRY: "us.dnc", "uk.tps", "uk.ctps", "in.ncpr"
    campaign_id: int | None = None  # for CAMPAIGN: the list's campaign
    added_at: datetime | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One past dial to the number, in any campaign."""

    at: datetime
    campaign_id: int
    outcome: str = "no_answer"  # human | machine | no_answer | busy | failed | ...
    abandoned: bool = False
    refusal: bool = False  # the callee clearly refused further calls
    complaint: bool = False
    subject: str | None = None  # the campaign's subject matter; None: the campaign itself
    agent_guaranteed: bool = False


@dataclass(frozen=True, slots=True)
class LeadLocation:
    """What the lead's record says about where the callee lives, when known."""

    country: str | None = None  # ISO 3166 alpha-2, e.g. "US"
    state: str | None = None  # US state / subdivision code, e.g. "FL"
    time_zone: str | None = None  # IANA zone


@dataclass(frozen=True, slots=True)
class AgentCounters:
    """The agent who would take the call, and how many calls they had today."""

    agent_id: str
    calls_today: int
    day_zone: str = "Asia/Shanghai"  # the zone whose midnight resets `calls_today`


@dataclass(frozen=True, slots=True)
class AbandonmentStatus:
    """A campaign's abandonment window at one moment (see `compliance.abandonment`)."""

    live_answers: float
    abandons: float
    limit: float
    window_start: datetime
    recovers_at: datetime | None  # when the rate falls back to the limit; None if not over

    @property
    def rate(self) -> float:
        return self.abandons / self.live_answers if self.live_answers > 0 else 0.0

    @property
    def over_limit(self) -> bool:
        return self.rate > self.limit

    @property
    def budget_left(self) -> int:
        """Abandons still affordable now: each also counts as a live answer."""
        if self.limit >= 1.0:
            return 1 << 30
        room = (self.limit * self.live_answers - self.abandons) / (1.0 - self.limit)
        return max(0, int(room + 1e-9))


@dataclass(frozen=True, slots=True)
class PolicyOverride:
    """Retunes one parameter of a company-policy rule (e.g. the CN agent cap) for a profile."""

    rule_id: str
    param: str
    value: Any


@dataclass(frozen=True, slots=True)
class ComplianceProfile:
    """A campaign's compliance settings: which rule sets apply and its own, narrower limits.

    Campaign limits only add restrictions (strictest wins); company-policy rules can be
    retuned with `policy_overrides`; legal rules cannot be loosened.
    """

    rulesets: tuple[str, ...] = ("CN",)
    subject: str | None = None  # same-subject counting (US state frequency caps)
    window: tuple[tuple[time, time], ...] | None = None  # campaign calling hours, callee local
    agent_daily_cap: int | None = None
    max_attempts: int | None = None  # attempts per number within this campaign
    retry_interval: timedelta | None = None  # minimum gap between attempts in this campaign
    ring_timeout_s: float = 25.0
    connect_window_s: float = 2.0  # longest wait for an agent after the callee's greeting
    information_message: bool = True  # a safe-harbor / information message is configured
    policy_overrides: tuple[PolicyOverride, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """Everything the engine needs to answer: may `number` be dialled at `at` by `campaign_id`?"""

    number: str
    campaign_id: int
    at: datetime
    profile: ComplianceProfile = field(default_factory=ComplianceProfile)
    lead_location: LeadLocation | None = None
    history: tuple[Attempt, ...] = ()
    last_refusal_at: datetime | None = None
    last_abandon_at: datetime | None = None
    suppressions: tuple[SuppressionHit, ...] = ()
    registry_scrubs: Mapping[str, datetime] = field(default_factory=dict)
    agent: AgentCounters | None = None
    caller_id: str | None = None
    agent_guaranteed: bool = False  # an agent is reserved for this call (progressive/preview)
    abandonment: AbandonmentStatus | None = None
    default_region: str = "CN"
    jurisdiction: Jurisdiction | None = None  # pre-resolved (hopper); else derived from number


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that blocks the dial, and why.

    `final`: the block ends this lead for this campaign (a suppression list, a permanent
    refusal, attempts exhausted, an invalid number): waiting or reconfiguring will not lift it.
    """

    rule: str
    detail: str
    final: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: allowed or not, every blocking rule, and when the dial could next pass.

    `next_allowed_at` is None when allowed, or when the block does not lift with time
    (refusal, DNC, a stale registry scrub, an invalid number).
    """

    allowed: bool
    reasons: list[Reason]
    next_allowed_at: datetime | None
    at: datetime
    number: str
    campaign_id: int
    evaluated: tuple[tuple[str, int], ...] = ()  # (rule id, version) of every rule applied

    @property
    def final(self) -> bool:
        """Some block ends the lead for this campaign (see `Reason.final`)."""
        return any(reason.final for reason in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """The `POST /v1/compliance/check` answer body."""
        return {
            "allowed": self.allowed,
            "reasons": [{"rule": r.rule, "detail": r.detail} for r in self.reasons],
            "next_allowed_at": _iso(self.next_allowed_at),
        }

    def audit_record(self, number_pepper: str | bytes | None = None) -> dict[str, Any]:
        """A compact, JSON-ready record for the decision log and blocked-by-rule reports.

        With `number_pepper` the number is logged only as its peppered hash.
        """
        if number_pepper is None or not self.number.startswith("+"):
            who: dict[str, Any] = {"number": self.number}
        else:
            who = {"number_hash": number_hash(self.number, number_pepper)}
        return {
            "at": _iso(self.at),
            **who,
            "campaign_id": self.campaign_id,
            "allowed": self.allowed,
            "blocked_by": [r.rule for r in self.reasons],
            "rules": [f"{rule_id}@{version}" for rule_id, version in self.evaluated],
            "next_allowed_at": _iso(self.next_allowed_at),
        }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
