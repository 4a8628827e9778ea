"""The compliance gate: looks up what the engine needs in the database (history of the
number across campaigns, refusals and complaints of any age, suppression hits, registry
scrub dates) and asks the pure engine.

The runtime calls it before every dial; the API's `POST /v1/compliance/check` calls the same
`check`, so a supervisor sees exactly why a lead was or was not called.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from compliance import (
    NATIONAL_REGISTRIES,
    AbandonmentStatus,
    AgentCounters,
    Attempt,
    CheckRequest,
    ComplianceEngine,
    ComplianceProfile,
    Decision,
    InvalidNumberError,
    SuppressionHit,
    SuppressionKind,
    normalise_e164,
)
from dialer.db.enums import (
    AttemptTerminalState,
    SuppressionListKind,
    SuppressionScope,
)
from dialer.db.hashing import number_hash as _number_hash
from dialer.db.models import (
    CallAttempt,
    Campaign,
    Complaint,
    Disposition,
    SuppressionEntry,
    SuppressionList,
)
from dialer.runtime import store
from dialer.runtime.campaigns import CampaignConfig
from dialer.runtime.store_writer import StoreWriter

log = logging.getLogger(__name__)

HISTORY_DAYS = 35  # the longest rolling look-back of any rule (30 days) plus margin
FLAGS_TTL_S = 60.0  # disposition flags are reread this often, so new codes are seen

# (campaign id or None for a global code, code) -> (refusal, complaint)
Flags = dict[tuple[int | None, str], tuple[bool, bool]]

_US_DNC_WORDS = frozenset(
    {
        "us",
        "usa",
        "ftc",
        "national",
        "federal",
        "dnc",
        "do",
        "not",
        "call",
        "donotcall",
        "registry",
        "list",
        "gov",
    }
)


def registry_id(name: str | None) -> str | None:
    """The engine's id ("us.dnc", "uk.tps", "uk.ctps", "in.ncpr") for a registry list name
    as imported ("US DNC 2026-03", "TPS", "Corporate TPS", "India NCPR/DND"...).

    Names that are none of these come back trimmed and lower-cased, so the engine still
    honours the hit (`dnc.registry`); None for an empty name.
    """
    if not name or not name.strip():
        return None
    text = name.strip().casefold()
    if text in NATIONAL_REGISTRIES:
        return text
    tokens = re.findall(r"[a-z0-9]+", text)
    words = {t for t in tokens if not t.isdigit()}  # dates in list names say nothing
    compact = "".join(tokens)
    if "ctps" in words or ("corporate" in words and ("tps" in words or "preference" in words)):
        return "uk.ctps"
    if "tps" in words or "telephonepreferenceservice" in compact:
        return "uk.tps"
    if words & {"ncpr", "dnd", "ndnc", "nccpr"} or "customerpreference" in compact:
        return "in.ncpr"
    if ("dnc" in words or "donotcall" in compact) and words <= _US_DNC_WORDS:
        return "us.dnc"
    return text


def _strictest(decisions: list[Decision]) -> Decision:
    """Of the decisions for each caller ID the dial may present, the one that blocks most."""
    blocked = [d for d in decisions if not d.allowed]
    if not blocked:
        return decisions[0]
    return max(
        blocked,
        key=lambda d: (
            d.final,
            d.next_allowed_at is None,
            d.next_allowed_at or d.at,
            len(d.reasons),
        ),
    )


class ComplianceGate:
    """Reads the records a decision depends on and asks the engine; holds no rule logic."""

    def __init__(
        self,
        session_factory: Any,
        engine: ComplianceEngine | None = None,
        *,
        default_region: str = "CN",
        writer: StoreWriter | None = None,
    ) -> None:
        self.sessions = session_factory
        self.engine = engine or ComplianceEngine()
        self.default_region = default_region
        self.writer = writer
        self._flags: Flags = {}
        self._flags_read_at: float | None = None

    @staticmethod
    def number_hash(number: str) -> str:
        return _number_hash(number)

    @staticmethod
    def is_permanent(decision: Decision) -> bool:
        """The engine says the block ends the lead (suppression, refusal, attempts, bad number)."""
        return decision.final

    @staticmethod
    def retry_later(at: datetime) -> datetime:
        """A block with no known end that is not permanent (e.g. a stale registry scrub)."""
        return at + timedelta(hours=1)

    async def check_lead(
        self,
        config: CampaignConfig,
        lead: store.ClaimedLead,
        at: datetime,
        *,
        caller_id: str | None = None,
        agent: AgentCounters | None = None,
        abandonment: AbandonmentStatus | None = None,
        agent_guaranteed: bool = False,
    ) -> Decision:
        """The check before dialling `lead`.

        `caller_id`: the ID this dial presents; without it every ID of the campaign's pool
        must pass, since the runtime rotates through all of them.
        """
        caller_ids = (caller_id,) if caller_id else tuple(config.caller_id_pool)
        return await self.check(
            lead.phone_e164,
            config.id,
            at,
            profile=config.compliance,
            lead_id=lead.id,
            caller_ids=caller_ids,
            agent=agent,
            abandonment=abandonment,
            agent_guaranteed=agent_guaranteed,
        )

    async def check(
        self,
        number: str,
        campaign_id: int,
        at: datetime,
        *,
        profile: ComplianceProfile | None = None,
        lead_id: int | None = None,
        log_decision: bool = True,
        caller_ids: Sequence[str] | None = None,
        agent: AgentCounters | None = None,
        abandonment: AbandonmentStatus | None = None,
        agent_guaranteed: bool = False,
    ) -> Decision:
        """May `number` be dialled at `at` by the campaign? `profile` and `caller_ids` default
        to the campaign's stored settings."""
        try:
            e164: str | None = normalise_e164(number, self.default_region)
        except InvalidNumberError:
            e164 = None  # the engine answers `number.invalid`; nothing to look up
        async with self.sessions() as session:
            if profile is None or caller_ids is None:
                row = await session.get(Campaign, campaign_id)
                if row is None:
                    raise LookupError(f"no campaign {campaign_id}")
                config = CampaignConfig.from_row(row)
                if profile is None:
                    profile = config.compliance
                caller_ids = config.caller_id_pool if caller_ids is None else caller_ids
            request = CheckRequest(
                number=e164 or number,
                campaign_id=campaign_id,
                at=at,
                profile=profile,
                agent=agent,
                agent_guaranteed=agent_guaranteed,
                abandonment=abandonment,
                default_region=self.default_region,
            )
            if e164 is not None:
                request = await self._with_records(session, request, e164)
        candidates = list(dict.fromkeys(c for c in caller_ids if c)) or [None]
        decision = _strictest(
            [self.engine.check(dataclasses.replace(request, caller_id=c)) for c in candidates]
        )
        if log_decision and self.writer is not None:
            audit = decision.audit_record()
            audit.pop("number", None)  # the log keeps the hash, never the plain number
            self.writer.submit(
                store.decision_op(
                    _number_hash(e164) if e164 is not None else "",
                    campaign_id,
                    lead_id,
                    decision.allowed,
                    [r.rule for r in decision.reasons],
                    audit,
                    at,
                )
            )
        return decision

    async def _disposition_flags(self, session: Any) -> Flags:
        now = time.monotonic()
        if self._flags_read_at is None or now - self._flags_read_at > FLAGS_TTL_S:
            rows = (await session.execute(select(Disposition))).scalars().all()
            self._flags = {(d.campaign_id, d.code): (d.refusal, d.complaint) for d in rows}
            self._flags_read_at = now
        return self._flags

    @staticmethod
    def _flag(flags: Flags, campaign_id: int, code: str | None) -> tuple[bool, bool]:
        """A campaign's own code wins over a global one of the same name."""
        if not code:
            return False, False
        found = flags.get((campaign_id, code))
        return found if found is not None else flags.get((None, code), (False, False))

    async def _with_records(self, session: Any, request: CheckRequest, number: str) -> CheckRequest:
        """The request filled with the number's records: history, refusals, lists, scrubs."""
        at, campaign_id = request.at, request.campaign_id
        flags = await self._disposition_flags(session)
        hashed = _number_hash(number)
        attempts = (
            await session.execute(
                select(
                    CallAttempt.originate_at,
                    CallAttempt.campaign_id,
                    CallAttempt.outcome,
                    CallAttempt.abandoned,
                    CallAttempt.terminal_state,
                    CallAttempt.disposition,
                ).where(
                    CallAttempt.number_dialed == number,
                    CallAttempt.originate_at >= at - timedelta(days=HISTORY_DAYS),
                    or_(
                        CallAttempt.terminal_state.is_(None),
                        CallAttempt.terminal_state != AttemptTerminalState.CANCELLED,
                    ),
                )
            )
        ).all()
        # A refusal or complaint suppresses for good (or for months): found at any age. The
        # number-first index (number_dialed, originate_at) bounds this to the number's rows.
        flagged_codes = sorted({code for (_, code), (r, c) in flags.items() if r or c})
        flagged: list[Any] = []
        if flagged_codes:
            flagged = (
                await session.execute(
                    select(
                        CallAttempt.campaign_id,
                        CallAttempt.disposition,
                        func.max(CallAttempt.originate_at),
                    )
                    .where(
                        CallAttempt.number_dialed == number,
                        CallAttempt.disposition.in_(flagged_codes),
                    )
                    .group_by(CallAttempt.campaign_id, CallAttempt.disposition)
                )
            ).all()
        entries = (
            await session.execute(
                select(
                    SuppressionEntry,
                    SuppressionList.name,
                    SuppressionList.kind,
                    SuppressionList.campaign_id,
                )
                .outerjoin(SuppressionList, SuppressionEntry.list_id == SuppressionList.id)
                .where(
                    or_(
                        SuppressionEntry.number_hash == hashed,
                        SuppressionEntry.phone_e164 == number,
                    )
                )
            )
        ).all()
        registries = (
            await session.execute(
                select(SuppressionList.name, SuppressionList.scrubbed_at).where(
                    SuppressionList.kind == SuppressionListKind.NATIONAL_REGISTRY,
                    SuppressionList.scrubbed_at.is_not(None),
                )
            )
        ).all()
        complaints = (
            (
                await session.execute(
                    select(Complaint.received_at).where(Complaint.phone_e164 == number)
                )
            )
            .scalars()
            .all()
        )

        history: list[Attempt] = []
        last_abandon = None
        for a in attempts:
            refusal, complaint = self._flag(flags, a.campaign_id, a.disposition)
            abandoned = bool(a.abandoned) or a.terminal_state == AttemptTerminalState.ABANDONED
            history.append(
                Attempt(
                    at=a.originate_at,
                    campaign_id=a.campaign_id,
                    outcome=a.outcome or "failed",
                    abandoned=abandoned,
                    refusal=refusal,
                    complaint=complaint,
                )
            )
            if abandoned and (last_abandon is None or a.originate_at > last_abandon):
                last_abandon = a.originate_at
        last_refusal = None
        hits: list[SuppressionHit] = []
        for flagged_campaign, code, latest in flagged:
            refusal, complaint = self._flag(flags, flagged_campaign, code)
            if refusal and (last_refusal is None or latest > last_refusal):
                last_refusal = latest
            if complaint:
                hits.append(
                    SuppressionHit(
                        SuppressionKind.COMPLAINT,
                        added_at=latest,
                        detail=f"(disposition {code} in campaign {flagged_campaign})",
                    )
                )
        hits += [SuppressionHit(SuppressionKind.COMPLAINT, added_at=c) for c in complaints]
        hits += [
            h
            for entry, list_name, list_kind, list_campaign in entries
            if (h := _hit(entry, list_name, list_kind, list_campaign, campaign_id, at)) is not None
        ]
        scrubs: dict[str, datetime] = {}
        for name, scrubbed_at in registries:
            key = registry_id(name)
            if key is not None and (key not in scrubs or scrubbed_at > scrubs[key]):
                scrubs[key] = scrubbed_at
        return dataclasses.replace(
            request,
            history=tuple(sorted(history, key=lambda h: h.at)),
            last_refusal_at=last_refusal,
            last_abandon_at=last_abandon,
            suppressions=tuple(hits),
            registry_scrubs=scrubs,
        )


def _hit(
    entry: SuppressionEntry,
    list_name: str | None,
    list_kind: str | None,
    list_campaign: int | None,
    campaign_id: int,
    at: datetime,
) -> SuppressionHit | None:
    """The engine's view of one entry, or None when it does not apply now to this campaign."""
    if entry.expires_at is not None and entry.expires_at <= at:
        return None
    registry = entry.scope == SuppressionScope.REGISTRY or (
        list_kind == SuppressionListKind.NATIONAL_REGISTRY
        and entry.scope != SuppressionScope.CAMPAIGN
    )
    if registry:
        name = entry.registry_name or list_name
        return SuppressionHit(
            SuppressionKind.REGISTRY,
            registry=registry_id(name) or "unnamed",
            added_at=entry.created_at,
            detail=entry.reason,
        )
    if entry.scope == SuppressionScope.CAMPAIGN:
        owner = entry.campaign_id if entry.campaign_id is not None else list_campaign
        if owner != campaign_id:
            return None
        return SuppressionHit(
            SuppressionKind.CAMPAIGN,
            campaign_id=campaign_id,
            added_at=entry.created_at,
            detail=entry.reason,
        )
    return SuppressionHit(
        SuppressionKind.COMPANY_DNC, added_at=entry.created_at, detail=entry.reason
    )
