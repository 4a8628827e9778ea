"""Call recordings: search, and play in the browser. Agents find and play only their own
calls (numbers masked); supervisors and admins any. Every search and every play is audited
(`recording.search`, `recording.play`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import FileResponse
from pydantic import AwareDatetime, BaseModel

from api.masking import mask_number, visible_digits
from api.paging import DbId, Limit, Offset, Since, Until
from api.security import AnyUser, Ctx
from dialer.db.enums import Role
from dialer.db.models import Campaign
from dialer.services.audit import record_audit
from dialer.services.recordings import (
    RecordingQuery,
    day_window,
    get_recording,
    media_type,
    recording_file,
    search_recordings,
)
from dialer.services.users import Principal

router = APIRouter(prefix="/v1/recordings", tags=["recordings"])

AttemptId = Annotated[str, Path(min_length=1, max_length=64)]


class RecordingOut(BaseModel):
    attempt_id: str
    campaign_id: int
    campaign: str
    agent_id: int | None
    agent_extension: str | None
    agent_name: str | None
    lead_id: int | None
    number: str
    started_at: AwareDatetime
    connected_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    talk_seconds: float | None
    disposition: str | None
    recording_path: str
    audio_url: str


class RecordingPage(BaseModel):
    items: list[RecordingOut]
    total: int


def _own_calls_only(who: Principal, agent_id: int | None) -> int | None:
    """An agent's searches are narrowed to its own calls; asking for another's is a 403."""
    if who.role != Role.AGENT:
        return agent_id
    if who.agent_id is None or (agent_id is not None and agent_id != who.agent_id):
        raise HTTPException(403, "an agent may only see its own recordings")
    return who.agent_id


async def _masked(ctx: Any, who: Principal, rows: list[dict[str, Any]]) -> list[RecordingOut]:
    digits: dict[int, int] = {}
    if who.role == Role.AGENT and rows:
        async with ctx.session_factory() as session:
            for cid in {r["campaign_id"] for r in rows}:
                digits[cid] = visible_digits(await session.get(Campaign, cid))
    out = []
    for row in rows:
        if who.role == Role.AGENT:
            row = {**row, "number": mask_number(row["number"], digits[row["campaign_id"]])}
        out.append(RecordingOut(**row, audio_url=f"/v1/recordings/{row['attempt_id']}/audio"))
    return out


@router.get("", response_model=RecordingPage)
async def search(
    ctx: Ctx,
    who: AnyUser,
    campaign_id: DbId | None = None,
    agent_id: DbId | None = None,
    lead_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    day: Annotated[
        date | None, Query(description="a calendar day in the call centre's time zone")
    ] = None,
    since: Since = None,
    until: Until = None,
    disposition: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> RecordingPage:
    """Recorded calls by campaign, agent, lead, date (`day`, or `since`/`until` on the call's
    start) and disposition, newest first."""
    agent_id = _own_calls_only(who, agent_id)
    if day is not None:
        start, end = day_window(day, ctx.settings.default_timezone)
        since = max(since, start) if since else start
        until = min(until, end) if until else end
    query = RecordingQuery(campaign_id, agent_id, lead_id, since, until, disposition)
    rows, total = await search_recordings(ctx.session_factory, query, offset=offset, limit=limit)
    detail = {
        "campaign_id": campaign_id,
        "agent_id": agent_id,
        "lead_id": lead_id,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "disposition": disposition,
        "results": len(rows),
    }
    await record_audit(
        ctx.session_factory, who.username, "recording.search", "recording", "", detail
    )
    return RecordingPage(items=await _masked(ctx, who, rows), total=total)


async def _readable(ctx: Any, who: Principal, attempt_id: str) -> dict[str, Any]:
    row = await get_recording(ctx.session_factory, attempt_id)
    if who.role == Role.AGENT and (who.agent_id is None or row["agent_id"] != who.agent_id):
        raise HTTPException(403, "an agent may only play its own calls")
    return row


@router.get("/{attempt_id}", response_model=RecordingOut)
async def read(ctx: Ctx, who: AnyUser, attempt_id: AttemptId) -> RecordingOut:
    row = await _readable(ctx, who, attempt_id)
    return (await _masked(ctx, who, [row]))[0]


@router.get(
    "/{attempt_id}/audio",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}, "description": "the recording"}},
)
async def play(ctx: Ctx, who: AnyUser, attempt_id: AttemptId) -> FileResponse:
    """The recording's audio, for the browser's player (byte ranges allowed, so it can
    seek). Each request is audited as `recording.play`."""
    row = await _readable(ctx, who, attempt_id)
    path = recording_file(ctx.settings.recordings_path, row["recording_path"])
    await record_audit(
        ctx.session_factory,
        who.username,
        "recording.play",
        "attempt",
        attempt_id,
        {"campaign_id": row["campaign_id"], "agent_id": row["agent_id"], "lead_id": row["lead_id"]},
    )
    return FileResponse(
        path,
        media_type=media_type(path),
        filename=path.name,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, no-store"},
    )
