"""The default rule sets as data: ids, versions, effective dates and parameters.

`BASE` applies to every callee; a national set applies when the callee's number or address
is in one of its countries, and only if the campaign's profile lists it. Rules marked
`policy=True` are the company's own and may be retuned per profile; the others are law.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta

from compliance.calendars import MONDAY_TO_FRIDAY, DayCalendar
from compliance.models import SuppressionKind
from compliance.rules import (
    AbandonCooldownRule,
    AbandonRateRule,
    AgentDailyCapRule,
    CallerIdRule,
    ConnectWindowRule,
    FrequencyRule,
    InformationMessageRule,
    MinRingRule,
    RefusalRule,
    RegistryScrubRule,
    Rule,
    SuppressionRule,
    WindowRule,
)
from compliance.windows import CallingWindow

BASE = "BASE"
# Registry ids the national rule sets name; a registry hit with any other id (a list the
# company imported for a country without rules here) is still honoured by `dnc.registry`.
NATIONAL_REGISTRIES = frozenset({"us.dnc", "uk.tps", "uk.ctps", "in.ncpr"})


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A named group of rules for the callees of some countries (empty: every callee)."""

    id: str
    countries: frozenset[str]
    rules: tuple[Rule, ...]
    description: str = ""

    def covers(self, country: str) -> bool:
        return not self.countries or country in self.countries


CN_WORKING_DAYS = DayCalendar(official_workdays_of="CN")
FR_WORKING_DAYS = DayCalendar(weekdays=MONDAY_TO_FRIDAY, closed_on_holidays_of="FR")


def _base() -> RuleSet:
    since = date(2000, 1, 1)
    return RuleSet(
        BASE,
        frozenset(),
        (
            SuppressionRule(id="dnc.company", kind=SuppressionKind.COMPANY_DNC,
                            effective_from=since),
            SuppressionRule(id="dnc.complaint", kind=SuppressionKind.COMPLAINT,
                            effective_from=since),
            SuppressionRule(id="dnc.campaign", kind=SuppressionKind.CAMPAIGN,
                            effective_from=since),
            SuppressionRule(id="dnc.registry", kind=SuppressionKind.REGISTRY,
                            other_than=NATIONAL_REGISTRIES, effective_from=since),
        ),
        "company-wide suppression: company DNC, complaints, campaign lists, other registries",
    )


def _china() -> RuleSet:
    since = date(2020, 1, 1)
    return RuleSet(
        "CN",
        frozenset({"CN"}),
        (
            WindowRule(
                id="cn.window",
                window=CallingWindow.of((time(9), time(18)), calendar=CN_WORKING_DAYS),
                effective_from=since,
                policy=True,
            ),
            AgentDailyCapRule(id="cn.agent_daily_cap", cap=200, effective_from=since,
                              policy=True),
            RefusalRule(id="cn.refusal", cooldown=None, effective_from=since, policy=True),
        ),
        "company default: 09:00-18:00 on official working days, 200 calls/agent/day, "
        "refusal suppresses permanently",
    )


def _united_states() -> RuleSet:
    tcpa = date(1992, 12, 20)
    tsr_2003 = date(2003, 10, 1)
    state_rules: list[Rule] = []
    for state, effective in (
        ("FL", date(2021, 7, 1)),  # Florida Telephone Solicitation Act (SB 1120)
        ("OK", date(2022, 11, 1)),  # Oklahoma Telephone Solicitation Act of 2022
        ("MD", date(2024, 1, 1)),  # Maryland Stop the Spam Calls Act of 2023
    ):
        prefix = f"us.{state.lower()}"
        state_rules += [
            WindowRule(id=f"{prefix}.window", window=CallingWindow.of((time(8), time(20))),
                       states=frozenset({state}), effective_from=effective),
            FrequencyRule(id=f"{prefix}.frequency", max_calls=3, period=timedelta(hours=24),
                          same_subject=True, states=frozenset({state}),
                          effective_from=effective),
        ]
    return RuleSet(
        "US",
        frozenset({"US", "PR", "VI", "GU", "AS", "MP"}),
        (
            WindowRule(id="us.window", window=CallingWindow.of((time(8), time(21))),
                       effective_from=tcpa),
            AbandonRateRule(id="us.abandon_rate", max_rate=0.03, effective_from=tsr_2003),
            InformationMessageRule(id="us.information_message", effective_from=tsr_2003),
            ConnectWindowRule(id="us.connect_window", max_seconds=2.0, effective_from=tsr_2003),
            MinRingRule(id="us.ring_time", min_seconds=15, effective_from=tsr_2003),
            SuppressionRule(id="us.dnc.registry", kind=SuppressionKind.REGISTRY,
                            registry="us.dnc", effective_from=tsr_2003),
            RegistryScrubRule(id="us.dnc.scrub", registry="us.dnc",
                              max_age=timedelta(days=31), effective_from=date(2005, 1, 1)),
            CallerIdRule(id="us.caller_id", effective_from=date(2004, 1, 29)),
            *state_rules,
        ),
        "TCPA/TSR: 08:00-21:00, abandonment <= 3% over 30 days, national DNC scrubbed "
        "<= 31 days, caller ID; FL/OK/MD: 08:00-20:00 and <= 3 calls per 24 h per subject",
    )


def _united_kingdom() -> RuleSet:
    ofcom = date(2016, 10, 1)  # Ofcom revised statement of policy on persistent misuse
    return RuleSet(
        "UK",
        frozenset({"GB", "GG", "JE", "IM"}),
        (
            AbandonRateRule(id="uk.abandon_rate", max_rate=0.03, effective_from=ofcom),
            AbandonCooldownRule(id="uk.abandon_72h", period=timedelta(hours=72),
                                effective_from=ofcom),
            InformationMessageRule(id="uk.information_message", effective_from=ofcom),
            ConnectWindowRule(id="uk.connect_window", max_seconds=2.0, effective_from=ofcom),
            MinRingRule(id="uk.ring_time", min_seconds=15, effective_from=ofcom),
            SuppressionRule(id="uk.tps.registry", kind=SuppressionKind.REGISTRY,
                            registry="uk.tps", effective_from=date(2003, 12, 11)),
            # Corporate TPS: business numbers registered under PECR reg. 21 (since 2004-06-25)
            SuppressionRule(id="uk.ctps.registry", kind=SuppressionKind.REGISTRY,
                            registry="uk.ctps", effective_from=date(2004, 6, 25)),
            RegistryScrubRule(id="uk.tps.scrub", registry="uk.tps",
                              max_age=timedelta(days=28), effective_from=date(2003, 12, 11)),
            CallerIdRule(id="uk.caller_id", callable_required=True, effective_from=ofcom),
        ),
        "Ofcom/PECR: abandonment <= 3% per day, 72 h after an abandon, TPS <= 28 days, CTPS, "
        "callable caller ID",
    )


def _france() -> RuleSet:
    decree = date(2023, 3, 1)  # décret n° 2022-1313
    return RuleSet(
        "FR",
        frozenset({"FR"}),
        (
            WindowRule(
                id="fr.window",
                window=CallingWindow.of(
                    (time(10), time(13)), (time(14), time(20)), calendar=FR_WORKING_DAYS
                ),
                effective_from=decree,
            ),
            FrequencyRule(id="fr.attempts", max_calls=4, period=timedelta(days=30),
                          effective_from=decree),
            RefusalRule(id="fr.refusal", cooldown=timedelta(days=60), effective_from=decree),
        ),
        "Mon-Fri 10:00-13:00 and 14:00-20:00 except public holidays, <= 4 attempts per "
        "30 days, 60 days after a refusal",
    )


def _india() -> RuleSet:
    tccpr = date(2018, 7, 19)  # TRAI TCCCPR 2018
    return RuleSet(
        "IN",
        frozenset({"IN"}),
        (
            WindowRule(id="in.window", window=CallingWindow.of((time(9), time(21))),
                       effective_from=tccpr),
            SuppressionRule(id="in.ncpr", kind=SuppressionKind.REGISTRY, registry="in.ncpr",
                            effective_from=tccpr),
        ),
        "09:00-21:00, NCPR/DND preferences honoured",
    )


def default_rulesets() -> dict[str, RuleSet]:
    """The shipped rule sets by id: BASE, CN, US, UK, FR, IN."""
    return {rs.id: rs for rs in (_base(), _china(), _united_states(), _united_kingdom(),
                                 _france(), _india())}


def rulesets_by_id(rulesets: Iterable[RuleSet]) -> dict[str, RuleSet]:
    by_id: dict[str, RuleSet] = {}
    for ruleset in rulesets:
        if ruleset.id in by_id:
            raise ValueError(f"duplicate rule set id {ruleset.id!r}")
        by_id[ruleset.id] = ruleset
    return by_id
