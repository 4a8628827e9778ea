"""Campaign settings and status as stored; the runtime is told separately by the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from dialer.db.engine import SessionFactory
from dialer.db.enums import CampaignStatus, DialMode, MachineAction, RecordingMode
from dialer.db.models import Campaign
from dialer.services.audit import add_audit
from dialer.services.errors import Conflict, Invalid, NotFound

_CHOICES: dict[str, type] = {
    "dial_mode": DialMode,
    "status": CampaignStatus,
    "amd_machine_action": MachineAction,
    "recording_mode": RecordingMode,
}
_READ_ONLY = {"id", "created_at", "updated_at"}
# start/pause/stop: which statuses each action may leave from.
_TRANSITIONS: dict[str, tuple[CampaignStatus, set[str]]] = {
    "start": (CampaignStatus.ACTIVE, {"draft", "paused", "stopped", "active"}),
    "pause": (CampaignStatus.PAUSED, {"active", "paused"}),
    "stop": (CampaignStatus.STOPPED, {"draft", "active", "paused", "stopped"}),
}
PACING_KEYS = {
    "mode",
    "target_abandon_rate",
    "ratio",
    "max_lines_per_agent",
    "max_calls_per_second",
    "max_dials_per_agent_day",
}


def _check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - (set(Campaign.__table__.columns.keys()) - _READ_ONLY)
    if unknown:
        raise Invalid(f"unknown campaign fields: {sorted(unknown)}")
    for key, choices in _CHOICES.items():
        if key in fields:
            try:
                fields[key] = choices(fields[key]).value
            except ValueError as exc:
                raise Invalid(f"{key}: {exc}") from exc
    return fields


async def _name_taken(session: Any, name: str, other_than: int | None = None) -> bool:
    query = select(Campaign.id).where(Campaign.name == name)
    if other_than is not None:
        query = query.where(Campaign.id != other_than)
    return await session.scalar(query) is not None


async def _check_dids(session: Any, inbound: dict[str, Any], campaign_id: int | None) -> None:
    """A number is answered by one campaign only: a caller must not depend on luck."""
    wanted = set(inbound.get("dids") or ())
    if not wanted:
        return
    query = select(Campaign.id, Campaign.name, Campaign.inbound)
    for other_id, name, other in (await session.execute(query)).all():
        taken = wanted & set((other or {}).get("dids") or ())
        if other_id != campaign_id and taken:
            raise Conflict(f"campaign {name!r} already answers {sorted(taken)}")


async def create_campaign(session_factory: SessionFactory, fields: dict[str, Any]) -> Campaign:
    fields = _check_fields(dict(fields))
    async with session_factory() as session, session.begin():
        if await _name_taken(session, fields.get("name", "")):
            raise Conflict(f"a campaign named {fields.get('name')!r} exists already")
        await _check_dids(session, fields.get("inbound") or {}, None)
        campaign = Campaign(**fields)
        session.add(campaign)
        await session.flush()
    return campaign


async def get_campaign(session_factory: SessionFactory, campaign_id: int) -> Campaign:
    async with session_factory() as session:
        campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


async def list_campaigns(
    session_factory: SessionFactory,
    *,
    status: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[Campaign], int]:
    async with session_factory() as session:
        query = select(Campaign)
        if status:
            query = query.where(Campaign.status == status)
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await session.scalars(query.order_by(Campaign.id).offset(offset).limit(limit))
        return list(rows), int(total or 0)


async def update_campaign(
    session_factory: SessionFactory, campaign_id: int, fields: dict[str, Any]
) -> Campaign:
    fields = _check_fields(dict(fields))
    async with session_factory() as session, session.begin():
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id}")
        if "name" in fields and await _name_taken(session, fields["name"], campaign_id):
            raise Conflict(f"a campaign named {fields['name']!r} exists already")
        await _check_dids(session, fields.get("inbound") or {}, campaign_id)
        for key, value in fields.items():
            setattr(campaign, key, value)
    return campaign


async def clone_campaign(
    session_factory: SessionFactory, campaign_id: int, new_name: str
) -> Campaign:
    """A copy of the settings (not the leads), as a draft."""
    async with session_factory() as session, session.begin():
        source = await session.get(Campaign, campaign_id)
        if source is None:
            raise NotFound(f"no campaign {campaign_id}")
        if await _name_taken(session, new_name):
            raise Conflict(f"a campaign named {new_name!r} exists already")
        columns = set(Campaign.__table__.columns.keys()) - _READ_ONLY - {"name", "status"}
        copy = Campaign(
            name=new_name,
            status=CampaignStatus.DRAFT,
            **{c: _copy_value(getattr(source, c)) for c in columns},
        )
        copy.inbound = {**(source.inbound or {}), "dids": []}  # numbers stay with the source
        session.add(copy)
        await session.flush()
    return copy


def _copy_value(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


async def change_status(
    session_factory: SessionFactory, campaign_id: int, action: str, actor: str
) -> Campaign:
    if action not in _TRANSITIONS:
        raise Invalid(f"unknown action {action!r}")
    target, allowed_from = _TRANSITIONS[action]
    async with session_factory() as session, session.begin():
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id}")
        if campaign.status not in allowed_from:
            raise Conflict(f"cannot {action} a campaign that is {campaign.status}")
        before = campaign.status
        campaign.status = target.value
        add_audit(
            session,
            actor,
            f"campaign.{action}",
            "campaign",
            campaign_id,
            {"from": before, "to": target.value},
        )
    return campaign


def pacing_view(campaign: Campaign) -> dict[str, Any]:
    view = dict(campaign.pacing or {})
    view["mode"] = campaign.dial_mode  # the runtime paces by dial_mode, whatever pacing says
    return view


async def patch_pacing(
    session_factory: SessionFactory, campaign_id: int, changes: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Merge pacing changes; `mode` is the campaign's dial mode. The change is audited."""
    unknown = set(changes) - PACING_KEYS
    if unknown:
        raise Invalid(f"unknown pacing settings: {sorted(unknown)}")
    async with session_factory() as session, session.begin():
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id}")
        before = pacing_view(campaign)
        pacing = dict(campaign.pacing or {})
        for key, value in changes.items():
            if key == "mode":
                campaign.dial_mode = DialMode(value).value
                pacing.pop("mode", None)  # no stale copy beside dial_mode
            else:
                pacing[key] = value
        campaign.pacing = pacing
        after = pacing_view(campaign)
        add_audit(
            session,
            actor,
            "campaign.pacing",
            "campaign",
            campaign_id,
            {"before": before, "after": after},
        )
    return after
