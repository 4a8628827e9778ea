"""Rule engine: may this number be dialled now, by this campaign; why not; when next.

Pure (no I/O, no clock): the caller supplies history, suppression hits, registry scrub
dates and agent counters; `ComplianceEngine.check` answers with a `Decision`::

    engine = ComplianceEngine(default_rulesets())        # build once, share
    decision = engine.check(CheckRequest(
        number="+13055550123", campaign_id=1, at=now_utc,
        profile=ComplianceProfile(rulesets=("US",), subject="solar"),
        history=(...Attempt...), suppressions=(...SuppressionHit...),
        registry_scrubs={"us.dnc": scrubbed_at}, caller_id="+13055550100",
    ))
    decision.allowed, decision.reasons, decision.next_allowed_at   # the API answer
    decision.final          # a block that ends the lead (DNC, refusal, attempts, bad number)
    decision.audit_record() # rule ids@versions evaluated and the result, for the log

Registry ids used by the default rule sets (`NATIONAL_REGISTRIES`): "us.dnc", "uk.tps",
"uk.ctps", "in.ncpr"; a registry hit under any other id still blocks (`dnc.registry`).
The hopper can store `earliest_call_time(...)` as `next_call_at` and filter with
`open_time_zones(...)`; the pacer's abandonment budget comes from `AbandonmentWindow`.
"""

from compliance.abandonment import AbandonmentWindow
from compliance.audit import blocked_by_rule
from compliance.engine import ComplianceEngine
from compliance.hopper import earliest_call_time, open_time_zones
from compliance.jurisdiction import Jurisdiction, resolve_jurisdiction
from compliance.models import (
    AbandonmentStatus,
    AgentCounters,
    Attempt,
    CheckRequest,
    ComplianceProfile,
    Decision,
    LeadLocation,
    PolicyOverride,
    Reason,
    SuppressionHit,
    SuppressionKind,
)
from compliance.numbers import InvalidNumberError, normalise_and_hash, normalise_e164, number_hash
from compliance.rulesets import NATIONAL_REGISTRIES, RuleSet, default_rulesets

__all__ = [
    "NATIONAL_REGISTRIES",
    "AbandonmentStatus",
    "AbandonmentWindow",
    "AgentCounters",
    "Attempt",
    "CheckRequest",
    "ComplianceEngine",
    "ComplianceProfile",
    "Decision",
    "InvalidNumberError",
    "Jurisdiction",
    "LeadLocation",
    "PolicyOverride",
    "Reason",
    "RuleSet",
    "SuppressionHit",
    "SuppressionKind",
    "blocked_by_rule",
    "default_rulesets",
    "earliest_call_time",
    "normalise_and_hash",
    "normalise_e164",
    "number_hash",
    "open_time_zones",
    "resolve_jurisdiction",
]
