"""The one entry point the runtime and the API share: may this number be dialled now?

`ComplianceEngine(default_rulesets()).check(request)` resolves the callee's jurisdiction,
picks the rules of every applicable rule set (strictest wins: all must pass), evaluates
each, and searches forward for the first moment at which all would pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import NamedTuple

from compliance.jurisdiction import Jurisdiction, resolve_jurisdiction, zone
from compliance.models import CheckRequest, ComplianceProfile, Decision, Reason
from compliance.numbers import InvalidNumberError
from compliance.rules import (
    AgentDailyCapRule,
    Block,
    MaxAttemptsRule,
    RetryIntervalRule,
    Rule,
    RuleContext,
    WindowRule,
)
from compliance.rulesets import BASE, RuleSet, default_rulesets, rulesets_by_id
from compliance.windows import CallingWindow

MAX_SEARCH_ROUNDS = 64  # rule hand-offs while searching for the next allowed moment


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """The rules that apply to one (profile, jurisdiction) pair, overrides applied."""

    rules: tuple[Rule, ...]
    uncovered: tuple[str, ...]  # callee countries no listed rule set covers
    _by_day: dict[tuple[date, bool], ActiveRules] = field(default_factory=dict)

    def active(self, day: date, zones_known: bool) -> ActiveRules:
        """The rules in effect on the callee's local `day` (cached: asked on every check)."""
        key = (day, zones_known)
        found = self._by_day.get(key)
        if found is None:
            rules = tuple(
                rule for rule in self.rules
                if rule.in_effect(day) and (zones_known or not rule.needs_zones)
            )
            found = ActiveRules(rules, tuple((rule.id, rule.version) for rule in rules))
            if len(self._by_day) > 4096:
                self._by_day.clear()
            self._by_day[key] = found
        return found


class ActiveRules(NamedTuple):
    """Rules in effect on one day, with their (id, version) pairs for the audit record."""

    rules: tuple[Rule, ...]
    ids: tuple[tuple[str, int], ...]


def _campaign_rules(profile: ComplianceProfile) -> list[Rule]:
    rules: list[Rule] = []
    if profile.window is not None:
        rules.append(WindowRule(id="campaign.window", window=CallingWindow.of(*profile.window)))
    if profile.agent_daily_cap is not None:
        rules.append(AgentDailyCapRule(id="campaign.agent_daily_cap", cap=profile.agent_daily_cap))
    if profile.max_attempts is not None:
        rules.append(MaxAttemptsRule(id="campaign.max_attempts", max_attempts=profile.max_attempts))
    if profile.retry_interval is not None:
        rules.append(RetryIntervalRule(id="campaign.retry_interval",
                                       interval=profile.retry_interval))
    return rules


def _local_day(at: datetime, zones: tuple[str, ...]) -> date:
    """The latest local date among the zones: a rule in effect anywhere applies."""
    if len(zones) == 1:
        return at.astimezone(zone(zones[0])).date()
    if not zones:
        return at.astimezone(UTC).date()
    return max(at.astimezone(zone(z)).date() for z in zones)


class ComplianceEngine:
    """Pure rule evaluation; safe to share across tasks (its caches only grow)."""

    def __init__(self, rulesets: Mapping[str, RuleSet] | Iterable[RuleSet] | None = None) -> None:
        if rulesets is None:
            rulesets = default_rulesets()
        self.rulesets: dict[str, RuleSet] = (
            dict(rulesets) if isinstance(rulesets, Mapping) else rulesets_by_id(rulesets)
        )
        self._compiled: dict[tuple[object, ...], CompiledRules] = {}

    # -- profile compilation -------------------------------------------------------------

    def validate_profile(self, profile: ComplianceProfile) -> None:
        """Raise ValueError for unknown rule sets or overrides of rules that are not policy."""
        unknown = [rs for rs in profile.rulesets if rs not in self.rulesets]
        if unknown:
            raise ValueError(f"unknown rule sets {unknown}; known: {sorted(self.rulesets)}")
        policy_rules = {
            rule.id: rule
            for rs in profile.rulesets
            for rule in self.rulesets[rs].rules
            if rule.policy
        }
        for override in profile.policy_overrides:
            rule = policy_rules.get(override.rule_id)
            if rule is None:
                raise ValueError(
                    f"{override.rule_id!r} is not a company-policy rule of this profile"
                )
            names = {f.name for f in dataclasses.fields(rule)}
            if override.param not in names:
                raise ValueError(f"{override.rule_id!r} has no parameter {override.param!r}")

    def compile(self, profile: ComplianceProfile, jurisdiction: Jurisdiction) -> CompiledRules:
        key = (profile, jurisdiction.countries, jurisdiction.states)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(profile, jurisdiction)
            self._compiled[key] = compiled
        return compiled

    def _compile(self, profile: ComplianceProfile, jurisdiction: Jurisdiction) -> CompiledRules:
        self.validate_profile(profile)
        overrides: dict[str, dict[str, object]] = {}
        for override in profile.policy_overrides:
            overrides.setdefault(override.rule_id, {})[override.param] = override.value
        chosen = [self.rulesets[BASE]] if BASE in self.rulesets else []
        covered: set[str] = set()
        for ruleset_id in profile.rulesets:
            ruleset = self.rulesets[ruleset_id]
            hits = {c for c in jurisdiction.countries if ruleset.covers(c)}
            if hits and ruleset_id != BASE:
                chosen.append(ruleset)
                covered |= hits
        rules: list[Rule] = []
        for ruleset in chosen:
            for rule in ruleset.rules:
                if not rule.applies_to(jurisdiction):
                    continue
                tuned = rule.policy and rule.id in overrides
                rules.append(dataclasses.replace(rule, **overrides[rule.id]) if tuned else rule)
        rules += _campaign_rules(profile)
        uncovered = tuple(sorted(jurisdiction.countries - covered))
        return CompiledRules(tuple(rules), uncovered)

    # -- checking ------------------------------------------------------------------------

    def jurisdiction_of(self, request: CheckRequest) -> Jurisdiction:
        """The request's pre-resolved jurisdiction, or the one derived from number and lead."""
        if request.jurisdiction is not None:
            return request.jurisdiction
        lead = request.lead_location
        if lead is None:
            return resolve_jurisdiction(request.number, default_region=request.default_region)
        return resolve_jurisdiction(
            request.number, lead.country, lead.state, lead.time_zone, request.default_region
        )

    def check(self, request: CheckRequest) -> Decision:
        """Allowed or not, every blocking rule with its detail, and the next allowed moment."""
        at = request.at
        if at.tzinfo is None:
            raise ValueError("CheckRequest.at must be timezone-aware")
        try:
            jurisdiction = self.jurisdiction_of(request)
        except InvalidNumberError as exc:
            return Decision(False, [Reason("number.invalid", str(exc), final=True)], None, at,
                            request.number, request.campaign_id)
        compiled = self.compile(request.profile, jurisdiction)
        ctx = RuleContext(request, jurisdiction, at)
        reasons: list[Reason] = []
        permanent = False
        if compiled.uncovered:
            permanent = True
            reasons.append(Reason(
                "jurisdiction.uncovered",
                f"no rule set of this campaign covers {', '.join(compiled.uncovered)}",
            ))
        zones = jurisdiction.time_zones
        if not zones:
            permanent = True
            reasons.append(Reason("tz.unknown", "the callee's time zone is unknown"))
        active = compiled.active(_local_day(at, zones), bool(zones))
        blocks = self._blocks(active.rules, ctx, at)
        for rule, block in blocks:
            reasons.append(Reason(rule.id, block.detail, rule.closes_lead and block.until is None))
            permanent = permanent or block.until is None
        next_allowed = None
        if blocks and not permanent:
            next_allowed = self._search(compiled, ctx, blocks)
        return Decision(
            allowed=not reasons,
            reasons=reasons,
            next_allowed_at=next_allowed,
            at=at,
            number=jurisdiction.e164,
            campaign_id=request.campaign_id,
            evaluated=active.ids,
        )

    @staticmethod
    def _blocks(
        rules: tuple[Rule, ...], ctx: RuleContext, at: datetime
    ) -> list[tuple[Rule, Block]]:
        found = []
        for rule in rules:
            block = rule.evaluate(ctx, at)
            if block is not None:
                found.append((rule, block))
        return found

    def _search(
        self, compiled: CompiledRules, ctx: RuleContext, blocks: list[tuple[Rule, Block]]
    ) -> datetime | None:
        """Step to the latest lift time of the current blocks until nothing blocks."""
        zones = ctx.jurisdiction.time_zones
        moment = ctx.origin
        for _ in range(MAX_SEARCH_ROUNDS):
            lifts = [block.until for _, block in blocks]
            if any(lift is None for lift in lifts):
                return None
            later = max(lift for lift in lifts if lift is not None)
            if later <= moment:  # a rule that cannot say when it lifts; do not loop
                return None
            moment = later
            active = compiled.active(_local_day(moment, zones), bool(zones))
            blocks = self._blocks(active.rules, ctx, moment)
            if not blocks:
                return moment.astimezone(UTC)
        return None
