"""Agents: CRUD (stored) and sessions (live, through the runtime)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from api.masking import mask_number, visible_digits
from api.paging import DbId
from api.security import AnyUser, Ctx, Supervisor, ensure_own_agent
from dialer.db.enums import Role
from dialer.db.models import Campaign, Lead
from dialer.runtime.control import AgentView, ControlError, MonitorMode
from dialer.services import agents as service
from dialer.services.audit import record_audit
from dialer.services.dispositions import list_dispositions
from dialer.services.errors import NotFound

router = APIRouter(prefix="/v1/agents", tags=["agents"])


class AgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extension: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_\-]+$")
    name: str = Field(default="", max_length=200)
    asterisk_server: str = Field(default="", max_length=80)
    active: bool = True
    campaign_ids: list[int] = Field(default_factory=list)
    pin: str | None = Field(default=None, min_length=4, max_length=32)


class AgentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extension: str | None = Field(
        default=None, min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_\-]+$"
    )
    name: str | None = Field(default=None, max_length=200)
    asterisk_server: str | None = Field(default=None, max_length=80)
    active: bool | None = None
    campaign_ids: list[int] | None = None


class AgentOut(BaseModel):
    id: int
    extension: str
    name: str
    asterisk_server: str
    active: bool
    state: str
    campaign_ids: list[int]


class PauseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=80)


class DispositionSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=32)
    notes: str = Field(default="", max_length=10_000)
    callback_at: AwareDatetime | None = None
    callback_agent_only: bool = False
    pause_after: str | None = Field(default=None, max_length=80)


def _agent_out(agent: Any) -> AgentOut:
    return AgentOut(
        id=agent.id,
        extension=agent.extension,
        name=agent.name,
        asterisk_server=agent.asterisk_server,
        active=agent.active,
        state=agent.state,
        campaign_ids=[c.id for c in agent.campaigns],
    )


def _view(view: AgentView) -> dict[str, Any]:
    return asdict(view)


@router.get("", response_model=list[AgentOut])
async def list_agents(ctx: Ctx, _: Supervisor) -> list[AgentOut]:
    return [_agent_out(a) for a in await service.list_agents(ctx.session_factory)]


@router.post("", response_model=AgentOut, status_code=201)
async def create_agent(ctx: Ctx, _: Supervisor, body: AgentCreate) -> AgentOut:
    fields = body.model_dump(exclude={"campaign_ids", "pin"})
    agent = await service.create_agent(
        ctx.session_factory, fields, campaign_ids=body.campaign_ids, pin=body.pin
    )
    return _agent_out(agent)


@router.get("/board")
async def agent_board(ctx: Ctx, _: Supervisor) -> list[dict[str, Any]]:
    """Live state of every logged-in agent (state, since when, calls today)."""
    return [_view(v) for v in ctx.require_runtime().agents()]


@router.get("/{agent_id}", response_model=AgentOut)
async def read_agent(ctx: Ctx, who: AnyUser, agent_id: DbId) -> AgentOut:
    ensure_own_agent(who, agent_id)
    return _agent_out(await service.get_agent(ctx.session_factory, agent_id))


@router.patch("/{agent_id}", response_model=AgentOut)
async def update_agent(ctx: Ctx, _: Supervisor, agent_id: DbId, body: AgentUpdate) -> AgentOut:
    fields = body.model_dump(exclude_unset=True, exclude={"campaign_ids"})
    agent = await service.update_agent(
        ctx.session_factory, agent_id, fields, campaign_ids=body.campaign_ids
    )
    return _agent_out(agent)


@router.delete("/{agent_id}", status_code=204)
async def delete_agent(ctx: Ctx, _: Supervisor, agent_id: DbId) -> Response:
    await service.delete_agent(ctx.session_factory, agent_id)
    return Response(status_code=204)


@router.get("/{agent_id}/session")
async def read_session(ctx: Ctx, who: AnyUser, agent_id: DbId) -> dict[str, Any]:
    ensure_own_agent(who, agent_id)
    for view in ctx.require_runtime().agents():
        if view.agent_id == agent_id:
            return _view(view)
    raise NotFound(f"agent {agent_id} is not logged in")


@router.post("/{agent_id}/session/login")
async def login(ctx: Ctx, who: AnyUser, agent_id: DbId) -> dict[str, Any]:
    ensure_own_agent(who, agent_id)
    return _view(await ctx.require_runtime().agent_login(agent_id))


@router.post("/{agent_id}/session/logout", status_code=204)
async def logout(ctx: Ctx, who: AnyUser, agent_id: DbId) -> Response:
    ensure_own_agent(who, agent_id)
    await ctx.require_runtime().agent_logout(agent_id)
    return Response(status_code=204)


@router.post("/{agent_id}/session/pause")
async def pause(ctx: Ctx, who: AnyUser, agent_id: DbId, body: PauseRequest) -> dict[str, Any]:
    ensure_own_agent(who, agent_id)
    return _view(await ctx.require_runtime().agent_pause(agent_id, body.reason))


@router.post("/{agent_id}/session/ready")
async def ready(ctx: Ctx, who: AnyUser, agent_id: DbId) -> dict[str, Any]:
    ensure_own_agent(who, agent_id)
    return _view(await ctx.require_runtime().agent_ready(agent_id))


@router.get("/{agent_id}/session/call")
async def current_call(ctx: Ctx, who: AnyUser, agent_id: DbId) -> dict[str, Any]:
    """The call the agent is on: lead (number masked for agents), script, disposition codes."""
    ensure_own_agent(who, agent_id)
    call = ctx.require_runtime().current_call(agent_id)
    if call is None:
        return {"call": None}
    async with ctx.session_factory() as session:
        campaign = await session.get(Campaign, call.campaign_id)
        lead = await session.get(Lead, call.lead_id) if call.lead_id is not None else None
        if lead is None and call.direction == "inbound" and call.number:
            # a caller who is one of the campaign's leads: their record is on screen
            lead = await session.scalar(
                select(Lead).where(
                    Lead.campaign_id == call.campaign_id, Lead.phone_e164 == call.number
                )
            )
    lead_view = None
    if lead is not None:
        phone = lead.phone_e164
        if who.role == Role.AGENT:
            phone = mask_number(phone, visible_digits(campaign))
        lead_view = {
            "id": lead.id,
            "name": lead.name,
            "phone": phone,
            "custom_fields": lead.custom_fields,
            "attempt_count": lead.attempt_count,
        }
    codes = await list_dispositions(ctx.session_factory, call.campaign_id, agent_only=True)
    shown = asdict(call)
    if who.role == Role.AGENT and shown["number"]:
        shown["number"] = mask_number(shown["number"], visible_digits(campaign))
    return {
        "call": shown,
        "lead": lead_view,
        "script": campaign.script_text if campaign else "",
        "dispositions": [
            {"code": d.code, "label": d.label, "callback": d.callback, "dtmf": d.dtmf}
            for d in codes
        ],
    }


@router.post("/{agent_id}/session/disposition", status_code=204)
async def submit_disposition(
    ctx: Ctx, who: AnyUser, agent_id: DbId, body: DispositionSubmit
) -> Response:
    ensure_own_agent(who, agent_id)
    await ctx.require_runtime().submit_disposition(
        agent_id,
        body.code,
        notes=body.notes,
        callback_at=body.callback_at,
        callback_agent_only=body.callback_agent_only,
        pause_after=body.pause_after,
    )
    return Response(status_code=204)


class ManualDial(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=3, max_length=32, examples=["13800138000"])
    campaign_id: DbId | None = None  # default: the agent's manual-dial campaign


@router.post("/{agent_id}/session/preview")
async def preview_next(ctx: Ctx, who: AnyUser, agent_id: DbId) -> dict[str, Any]:
    """Preview mode: hold the next lead for the agent (paused "preview") to dial or skip."""
    ensure_own_agent(who, agent_id)
    held = await ctx.require_runtime().preview_next(agent_id)
    if held is None:
        return {"lead": None}
    async with ctx.session_factory() as session:
        campaign = await session.get(Campaign, held.campaign_id)
        lead = await session.get(Lead, held.lead_id)
    if lead is None:
        raise NotFound(f"lead {held.lead_id} is gone")
    phone = lead.phone_e164
    if who.role == Role.AGENT:
        phone = mask_number(phone, visible_digits(campaign))
    return {
        "campaign_id": held.campaign_id,
        "lead": {
            "id": lead.id,
            "name": lead.name,
            "phone": phone,
            "custom_fields": lead.custom_fields,
            "attempt_count": lead.attempt_count,
            "last_disposition": lead.last_disposition,
        },
        "script": campaign.script_text if campaign else "",
    }


@router.post("/{agent_id}/session/preview/dial")
async def preview_dial(ctx: Ctx, who: AnyUser, agent_id: DbId) -> dict[str, Any]:
    ensure_own_agent(who, agent_id)
    return {"call": asdict(await ctx.require_runtime().preview_dial(agent_id))}


@router.post("/{agent_id}/session/preview/skip", status_code=204)
async def preview_skip(ctx: Ctx, who: AnyUser, agent_id: DbId) -> Response:
    ensure_own_agent(who, agent_id)
    await ctx.require_runtime().preview_skip(agent_id)
    return Response(status_code=204)


@router.post("/{agent_id}/session/dial")
async def manual_dial(ctx: Ctx, who: AnyUser, agent_id: DbId, body: ManualDial) -> dict[str, Any]:
    """Manual mode: dial a typed number; the compliance gate decides as for any dial (409
    with the rules when it refuses)."""
    ensure_own_agent(who, agent_id)
    call = await ctx.require_runtime().manual_dial(agent_id, body.number, body.campaign_id)
    return {"call": asdict(call)}


@router.post("/{agent_id}/session/record")
async def start_recording(ctx: Ctx, who: AnyUser, agent_id: DbId) -> dict[str, str]:
    """Start recording the agent's current call, where the campaign records on demand."""
    ensure_own_agent(who, agent_id)
    return {"recording_path": await ctx.require_runtime().start_recording(agent_id)}


class MonitorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: MonitorMode
    supervisor_extension: str = Field(
        min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_\-]+$", examples=["2001"]
    )


@router.post("/{agent_id}/monitor", status_code=202)
async def monitor(
    ctx: Ctx, who: Supervisor, agent_id: DbId, body: MonitorRequest
) -> dict[str, Any]:
    """Live monitoring: ring the supervisor's phone into the agent's current call, to listen,
    whisper (the agent alone hears the supervisor) or barge in (both hear). Supervisors and
    admins only; every request, granted or refused, is in the audit log (`agent.monitor`)."""
    runtime = ctx.require_runtime()
    detail: dict[str, Any] = {
        "mode": body.mode.value,
        "supervisor_extension": body.supervisor_extension,
    }
    try:
        session = await runtime.monitor_agent(agent_id, body.mode, body.supervisor_extension)
    except ControlError as exc:
        detail.update(result="refused", reason=str(exc))
        await record_audit(
            ctx.session_factory, who.username, "agent.monitor", "agent", agent_id, detail
        )
        raise
    detail.update(
        result="ringing",
        monitor_id=session.monitor_id,
        attempt_id=session.attempt_id,
        campaign_id=session.campaign_id,
        channel=session.spied_channel,
        server=session.server,
    )
    await record_audit(
        ctx.session_factory, who.username, "agent.monitor", "agent", agent_id, detail
    )
    return asdict(session)
