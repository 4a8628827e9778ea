"""Campaign creation and the summary a supervisor (or `make demo`) looks at after an import."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from dialer.db.engine import SessionFactory
from dialer.db.enums import CampaignStatus, DialMode, MachineAction, RecordingMode
from dialer.db.models import CallAttempt, Campaign, Lead, LeadList


class CampaignExists(ValueError):
    pass


_CHOICES: dict[str, type] = {
    "dial_mode": DialMode,
    "status": CampaignStatus,
    "amd_machine_action": MachineAction,
    "recording_mode": RecordingMode,
}


async def create_campaign(session_factory: SessionFactory, name: str, **fields: Any) -> Campaign:
    """Create a campaign; `fields` are `Campaign` columns. Enumerated values are checked."""
    for key, choices in _CHOICES.items():
        if key in fields:
            fields[key] = choices(fields[key]).value  # ValueError for an unknown value
    unknown = set(fields) - set(Campaign.__table__.columns.keys())
    if unknown:
        raise TypeError(f"unknown campaign fields: {sorted(unknown)}")
    async with session_factory() as session, session.begin():
        taken = await session.scalar(select(Campaign.id).where(Campaign.name == name))
        if taken is not None:
            raise CampaignExists(f"a campaign named {name!r} exists already (id {taken})")
        campaign = Campaign(name=name, **fields)
        session.add(campaign)
        await session.flush()
    return campaign


async def find_campaign(session_factory: SessionFactory, ref: str | int) -> Campaign | None:
    """A campaign by id, or by name when `ref` is not a number."""
    async with session_factory() as session:
        if isinstance(ref, int) or str(ref).isdigit():
            return await session.get(Campaign, int(ref))
        return await session.scalar(select(Campaign).where(Campaign.name == ref))


@dataclass
class CampaignSummary:
    campaign_id: int
    name: str
    status: str
    dial_mode: str
    lead_lists: int
    leads_total: int
    leads_by_status: dict[str, int] = field(default_factory=dict)
    leads_by_region: dict[str, int] = field(default_factory=dict)
    attempts_total: int = 0
    attempts_by_disposition: dict[str, int] = field(default_factory=dict)


async def campaign_summary(session_factory: SessionFactory, campaign_id: int) -> CampaignSummary:
    """Counts of leads by status and region, and attempts by disposition."""
    async with session_factory() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise LookupError(f"no campaign with id {campaign_id}")
        lists = await session.scalar(
            select(func.count()).select_from(LeadList).where(LeadList.campaign_id == campaign_id)
        )
        by_status = dict(
            (
                await session.execute(
                    select(Lead.status, func.count())
                    .where(Lead.campaign_id == campaign_id)
                    .group_by(Lead.status)
                )
            ).all()
        )
        by_region = dict(
            (
                await session.execute(
                    select(Lead.region, func.count())
                    .where(Lead.campaign_id == campaign_id)
                    .group_by(Lead.region)
                )
            ).all()
        )
        by_disposition: dict[str, int] = {}
        rows = await session.execute(
            select(CallAttempt.disposition, func.count())
            .where(CallAttempt.campaign_id == campaign_id)
            .group_by(CallAttempt.disposition)
        )
        for disposition, count in rows.all():
            by_disposition[disposition or ""] = by_disposition.get(disposition or "", 0) + count
    return CampaignSummary(
        campaign_id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        dial_mode=campaign.dial_mode,
        lead_lists=int(lists or 0),
        leads_total=sum(by_status.values()),
        leads_by_status=by_status,
        leads_by_region=by_region,
        attempts_total=sum(by_disposition.values()),
        attempts_by_disposition=by_disposition,
    )
