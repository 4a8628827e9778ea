"""Rule kinds: each is a small parameterised check with an id, a version and effective dates.

A rule answers for one moment: None when it does not block, or a Block with the reason and
the earliest moment it alone would stop blocking (None: not with time). The rule sets in
`compliance.rulesets` are data built from these kinds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import ClassVar, NamedTuple

import phonenumbers

from compliance.jurisdiction import Jurisdiction, zone
from compliance.models import Attempt, CheckRequest, SuppressionKind
from compliance.numbers import InvalidNumberError, parse_number
from compliance.windows import CallingWindow, first_common_open


class Block(NamedTuple):
    """Why a rule blocks, and when it alone would lift (None: never by waiting)."""

    detail: str
    until: datetime | None


@dataclass(frozen=True, slots=True)
class RuleContext:
    """One check's inputs as the rules see them; `origin` is the moment asked about."""

    request: CheckRequest
    jurisdiction: Jurisdiction
    origin: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule(ABC):
    """Identity and validity of a rule; subclasses implement `evaluate`."""

    id: str
    version: int = 1
    effective_from: date = date(2000, 1, 1)
    effective_until: date | None = None  # exclusive
    states: frozenset[str] = frozenset()  # empty: the whole country
    policy: bool = False  # company policy (tunable per profile), not law
    needs_zones: ClassVar[bool] = False
    closes_lead: ClassVar[bool] = False  # a block without end means: never dial this lead again

    def in_effect(self, local_day: date) -> bool:
        if local_day < self.effective_from:
            return False
        return self.effective_until is None or local_day < self.effective_until

    def applies_to(self, jurisdiction: Jurisdiction) -> bool:
        return not self.states or not self.states.isdisjoint(jurisdiction.states)

    @abstractmethod
    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        """None if the rule lets the dial through at `at`, else why and until when."""


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowRule(Rule):
    """Calls only inside the window in every candidate zone of the callee."""

    window: CallingWindow
    needs_zones: ClassVar[bool] = True

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        zones = ctx.jurisdiction.time_zones
        if len(zones) == 1:
            if self.window.is_open(at, zones[0]):
                return None
            closed = list(zones)
        else:
            closed = [z for z in zones if not self.window.is_open(at, z)]
            if not closed:
                return None
        first = at.astimezone(zone(closed[0]))
        where = closed[0] if len(closed) == 1 else f"{closed[0]} (+{len(closed) - 1} more zones)"
        detail = (
            f"{first.strftime('%a %Y-%m-%d %H:%M')} in {where} is outside "
            f"{self.window.describe()}"
        )
        return Block(detail, first_common_open((self.window,), zones, at))


@dataclass(frozen=True, slots=True, kw_only=True)
class SuppressionRule(Rule):
    """A hit on a suppression list blocks for good (until the entry is removed).

    For registry hits, `registry` picks one registry; without it, `other_than` leaves out the
    registries that have rules of their own, so a list the rule sets do not name still counts.
    """

    closes_lead: ClassVar[bool] = True

    kind: SuppressionKind
    registry: str | None = None
    other_than: frozenset[str] = frozenset()

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        request = ctx.request
        if not request.suppressions and self.kind is not SuppressionKind.COMPLAINT:
            return None
        for hit in request.suppressions:
            if hit.kind is not self.kind:
                continue
            if self.registry is not None and hit.registry != self.registry:
                continue
            if hit.registry in self.other_than:
                continue
            if self.kind is SuppressionKind.CAMPAIGN and hit.campaign_id not in (
                None,
                request.campaign_id,
            ):
                continue
            since = f" since {hit.added_at.date().isoformat()}" if hit.added_at else ""
            label = hit.registry or self.kind.value
            return Block(f"number is on the {label} list{since} {hit.detail}".rstrip(), None)
        if self.kind is SuppressionKind.COMPLAINT:
            for attempt in request.history:
                if attempt.complaint:
                    return Block(
                        f"complaint recorded on {attempt.at.date().isoformat()} "
                        f"in campaign {attempt.campaign_id}",
                        None,
                    )
        return None


def _latest(moments: list[datetime]) -> datetime | None:
    return max(moments) if moments else None


@dataclass(frozen=True, slots=True, kw_only=True)
class RefusalRule(Rule):
    """A clear refusal in any campaign suppresses the number: for good, or for `cooldown`."""

    closes_lead: ClassVar[bool] = True

    cooldown: timedelta | None = None  # None: permanent

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        request = ctx.request
        moments = [a.at for a in request.history if a.refusal]
        if request.last_refusal_at is not None:
            moments.append(request.last_refusal_at)
        last = _latest(moments)
        if last is None:
            return None
        if self.cooldown is None:
            return Block(f"callee refused on {last.date().isoformat()}: suppressed", None)
        until = last + self.cooldown
        if at >= until:
            return None
        days = self.cooldown.days
        return Block(f"callee refused on {last.date().isoformat()}: no contact for {days} days",
                     until)


def _subject(attempt_subject: str | None, campaign_id: int) -> str:
    return attempt_subject if attempt_subject is not None else f"campaign:{campaign_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FrequencyRule(Rule):
    """At most `max_calls` attempts to the number within any `period` (optionally per subject)."""

    max_calls: int
    period: timedelta
    same_subject: bool = False

    def _counted(self, ctx: RuleContext, attempt: Attempt) -> bool:
        if not self.same_subject:
            return True
        request = ctx.request
        wanted = _subject(request.profile.subject, request.campaign_id)
        return _subject(attempt.subject, attempt.campaign_id) == wanted

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        start = at - self.period
        recent = sorted(
            a.at for a in ctx.request.history if start < a.at <= at and self._counted(ctx, a)
        )
        if len(recent) < self.max_calls:
            return None
        until = recent[len(recent) - self.max_calls] + self.period
        scope = " on the same subject" if self.same_subject else ""
        return Block(
            f"{len(recent)} calls{scope} in the last {_span(self.period)} "
            f"(at most {self.max_calls})",
            until,
        )


def _span(period: timedelta) -> str:
    hours = period.total_seconds() / 3600
    if hours <= 72 and hours == int(hours):
        return f"{int(hours)} h"
    return f"{period.days} days"


@dataclass(frozen=True, slots=True, kw_only=True)
class AbandonCooldownRule(Rule):
    """No repeat call within `period` after an abandoned call unless an agent is guaranteed."""

    period: timedelta

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        request = ctx.request
        if request.agent_guaranteed:
            return None
        moments = [a.at for a in request.history if a.abandoned]
        if request.last_abandon_at is not None:
            moments.append(request.last_abandon_at)
        last = _latest(moments)
        if last is None or at >= last + self.period:
            return None
        return Block(
            f"call abandoned at {_fmt(last)}: no repeat within {_span(self.period)} "
            "without a guaranteed agent",
            last + self.period,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentDailyCapRule(Rule):
    """An agent takes at most `cap` calls per day (the agent's local day)."""

    cap: int

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        agent = ctx.request.agent
        if agent is None or agent.calls_today < self.cap:
            return None
        tz = zone(agent.day_zone)
        today = ctx.origin.astimezone(tz).date()
        if at.astimezone(tz).date() != today:
            return None  # the counter has reset by then
        tomorrow = today + timedelta(days=1)
        until = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=tz)
        return Block(
            f"agent {agent.agent_id} made {agent.calls_today} calls today (cap {self.cap})",
            until,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryScrubRule(Rule):
    """The national registry must have been scrubbed within `max_age` (never on a stale list)."""

    registry: str
    max_age: timedelta

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        scrubbed = ctx.request.registry_scrubs.get(self.registry)
        if scrubbed is None:
            return Block(f"no {self.registry} scrub on record", None)
        if at - scrubbed > self.max_age:
            return Block(
                f"{self.registry} scrub of {scrubbed.date().isoformat()} is older than "
                f"{self.max_age.days} days",
                None,
            )
        return None


_UNCALLABLE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.UNKNOWN}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerIdRule(Rule):
    """A caller ID must be presented; `callable_required`: one the callee can call back."""

    callable_required: bool = False

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        request = ctx.request
        problem = _caller_id_problem(request.caller_id, request.default_region,
                                     self.callable_required)
        return None if problem is None else Block(problem, None)


@lru_cache(maxsize=4096)
def _caller_id_problem(caller_id: str | None, region: str, callable_required: bool) -> str | None:
    """Why a caller ID is unusable, or None; cached since a campaign reuses a few IDs."""
    if not caller_id:
        return "no caller ID configured"
    try:
        parsed = parse_number(caller_id, region)
    except InvalidNumberError:
        return f"caller ID {caller_id!r} is not a valid number"
    if callable_required and phonenumbers.number_type(parsed) in _UNCALLABLE_TYPES:
        return f"caller ID {caller_id} cannot be called back"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class AbandonRateRule(Rule):
    """Over the abandonment limit, only dials with a guaranteed agent may go out."""

    max_rate: float

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        request = ctx.request
        status = request.abandonment
        if request.agent_guaranteed or status is None or status.rate <= self.max_rate:
            return None
        if status.recovers_at is not None and at >= status.recovers_at:
            return None
        return Block(
            f"campaign abandonment {status.rate:.2%} since {_fmt(status.window_start)} "
            f"exceeds {self.max_rate:.0%}: only agent-guaranteed dials",
            status.recovers_at,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MinRingRule(Rule):
    """The campaign must let a call ring for at least `min_seconds`."""

    min_seconds: float

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        ring = ctx.request.profile.ring_timeout_s
        if ring >= self.min_seconds:
            return None
        return Block(f"ring timeout {ring:g} s is under {self.min_seconds:g} s", None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectWindowRule(Rule):
    """A live callee must reach an agent within `max_seconds` of the greeting, or the call is
    abandoned (with the information message); a longer configured wait breaks the rule."""

    max_seconds: float

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        request = ctx.request
        wait = request.profile.connect_window_s
        if request.agent_guaranteed or wait <= self.max_seconds:
            return None
        return Block(f"connect window {wait:g} s is over {self.max_seconds:g} s", None)


@dataclass(frozen=True, slots=True, kw_only=True)
class InformationMessageRule(Rule):
    """A dial that may be abandoned needs an identification/information message to play."""

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        request = ctx.request
        if request.agent_guaranteed or request.profile.information_message:
            return None
        return Block("no information message configured for abandoned calls", None)


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxAttemptsRule(Rule):
    """At most `max_attempts` attempts to the number within the campaign."""

    closes_lead: ClassVar[bool] = True

    max_attempts: int

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        campaign_id = ctx.request.campaign_id
        made = sum(1 for a in ctx.request.history if a.campaign_id == campaign_id)
        if made < self.max_attempts:
            return None
        return Block(f"{made} attempts made in this campaign (at most {self.max_attempts})", None)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryIntervalRule(Rule):
    """At least `interval` between two attempts to the number within the campaign."""

    interval: timedelta

    def evaluate(self, ctx: RuleContext, at: datetime) -> Block | None:
        campaign_id = ctx.request.campaign_id
        last = _latest([a.at for a in ctx.request.history if a.campaign_id == campaign_id])
        if last is None or at >= last + self.interval:
            return None
        return Block(f"last attempt at {_fmt(last)}: retry interval {self.interval}",
                     last + self.interval)
