"""The compliance gate: looks up what the engine needs in the database (history of the
number across campaigns, suppression hits, registry scrub dates) and asks the pure engine.

The runtime calls it before every dial; the API's `POST /v1/compliance/check` calls the same
`check`, so a supervisor sees exactly why a lead was or was not called.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from compliance import (
    Attempt,
    CheckRequest,
    ComplianceEngine,
    ComplianceProfile,
    Decision,
    SuppressionHit,
    SuppressionKind,
)
from compliance import number_hash as _number_hash
from dialer.db.enums import SuppressionListKind, SuppressionScope
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

HISTORY_DAYS = 35  # the longest look-back of any rule (30 days rolling) plus margin

# Rules whose block does not lift with time: the lead is marked do-not-call.
_PERMANENT_PREFIXES = ("dnc.", "suppression.", "refusal", "complaint", "number.")


class ComplianceGate:
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
        self._flags: dict[str, tuple[bool, bool]] = {}  # disposition code -> (refusal, complaint)

    @staticmethod
    def number_hash(number: str) -> str:
        return _number_hash(number)

    @staticmethod
    def is_permanent(decision: Decision) -> bool:
        return any(
            r.rule.startswith(_PERMANENT_PREFIXES)
            or ".dnc" in r.rule
            or "refusal" in r.rule
            or "complaint" in r.rule
            for r in decision.reasons
        )

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
        agent_guaranteed: bool = False,
    ) -> Decision:
        """`agent_guaranteed`: an agent is already waiting on this call (preview, manual,
        personal callback), which some rules (UK repeat after an abandon) take into account."""
        return await self.check(
            lead.phone_e164,
            config.id,
            at,
            profile=config.compliance,
            lead_id=lead.id,
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
        agent_guaranteed: bool = False,
    ) -> Decision:
        async with self.sessions() as session:
            if profile is None:
                row = await session.get(Campaign, campaign_id)
                if row is None:
                    raise LookupError(f"no campaign {campaign_id}")
                profile = CampaignConfig.from_row(row).compliance
            if not self._flags:
                rows = (await session.execute(select(Disposition))).scalars().all()
                self._flags = {d.code: (d.refusal, d.complaint) for d in rows}
            hashed = self.number_hash(number)
            since = at - timedelta(days=HISTORY_DAYS)
            attempts = (
                await session.execute(
                    select(
                        CallAttempt.originate_at,
                        CallAttempt.campaign_id,
                        CallAttempt.outcome,
                        CallAttempt.abandoned,
                        CallAttempt.disposition,
                    ).where(CallAttempt.number_dialed == number, CallAttempt.originate_at >= since)
                )
            ).all()
            entries = (
                (
                    await session.execute(
                        select(SuppressionEntry).where(
                            or_(
                                SuppressionEntry.number_hash == hashed,
                                SuppressionEntry.phone_e164 == number,
                            )
                        )
                    )
                )
                .scalars()
                .all()
            )
            registries = (
                await session.execute(
                    select(SuppressionList.name, SuppressionList.scrubbed_at).where(
                        SuppressionList.kind == SuppressionListKind.NATIONAL_REGISTRY
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
        last_refusal = last_abandon = None
        for a in attempts:
            refusal, complaint = self._flags.get(a.disposition or "", (False, False))
            history.append(
                Attempt(
                    at=a.originate_at,
                    campaign_id=a.campaign_id,
                    outcome=a.outcome or "failed",
                    abandoned=bool(a.abandoned),
                    refusal=refusal,
                    complaint=complaint,
                )
            )
            if refusal and (last_refusal is None or a.originate_at > last_refusal):
                last_refusal = a.originate_at
            if a.abandoned and (last_abandon is None or a.originate_at > last_abandon):
                last_abandon = a.originate_at
        hits = [h for e in entries if (h := _hit(e, campaign_id, at)) is not None] + [
            SuppressionHit(SuppressionKind.COMPLAINT, added_at=c) for c in complaints
        ]
        request = CheckRequest(
            number=number,
            campaign_id=campaign_id,
            at=at,
            profile=profile,
            history=tuple(sorted(history, key=lambda h: h.at)),
            last_refusal_at=last_refusal,
            last_abandon_at=last_abandon,
            suppressions=tuple(hits),
            registry_scrubs={name: ts for name, ts in registries if ts is not None},
            default_region=self.default_region,
            agent_guaranteed=agent_guaranteed,
        )
        decision = self.engine.check(request)
        if log_decision and self.writer is not None:
            audit = decision.audit_record()
            audit.pop("number", None)  # the log keeps the hash, never the plain number
            self.writer.submit(
                store.decision_op(
                    hashed,
                    campaign_id,
                    lead_id,
                    decision.allowed,
                    [r.rule for r in decision.reasons],
                    audit,
                    at,
                )
            )
        return decision


def _hit(entry: SuppressionEntry, campaign_id: int, at: datetime) -> SuppressionHit | None:
    if entry.expires_at is not None and entry.expires_at <= at:
        return None
    if entry.scope == SuppressionScope.COMPANY:
        return SuppressionHit(
            SuppressionKind.COMPANY_DNC, added_at=entry.created_at, detail=entry.reason
        )
    if entry.scope == SuppressionScope.CAMPAIGN:
        if entry.campaign_id != campaign_id:
            return None
        return SuppressionHit(
            SuppressionKind.CAMPAIGN,
            campaign_id=campaign_id,
            added_at=entry.created_at,
            detail=entry.reason,
        )
    return SuppressionHit(
        SuppressionKind.REGISTRY,
        registry=entry.registry_name,
        added_at=entry.created_at,
        detail=entry.reason,
    )
