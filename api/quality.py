"""Quality scoring: score forms, scoring a call (beside its recording), agents' own scores and
the QA report per agent. Supervisors and admins score; an agent sees only its own scores."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.paging import DbId, Limit, Offset, Since, Until
from api.security import AnyUser, Ctx, Supervisor
from dialer.db.enums import Role
from dialer.db.models import QaScore
from dialer.services import quality as service
from dialer.services.users import Principal

router = APIRouter(prefix="/v1/qa", tags=["quality"])

AttemptId = Annotated[str, Path(min_length=1, max_length=64)]
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$")]
ScoreValue = Annotated[int, Field(ge=0, le=100)]


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Key
    label: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    weight: float = Field(default=1.0, gt=0, le=1000)
    max_score: int = Field(default=5, ge=1, le=100)


class FormFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=10_000)
    pass_score: float | None = Field(default=None, ge=0, le=100, description="percent")
    active: bool | None = None


class FormCreate(FormFields):
    name: str = Field(min_length=1, max_length=200)
    campaign_id: DbId | None = Field(default=None, description="null: for every campaign")
    criteria: list[Criterion] = Field(min_length=1, max_length=service.MAX_CRITERIA)


class FormUpdate(FormFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    criteria: list[Criterion] | None = Field(
        default=None,
        min_length=1,
        max_length=service.MAX_CRITERIA,
        description="only while no call has been scored with the form",
    )


class FormOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    campaign_id: int | None
    criteria: list[dict[str, Any]]
    pass_score: float | None
    active: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


class ScoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempt_id: str = Field(min_length=1, max_length=64)
    form_id: DbId
    scores: dict[Key, ScoreValue | None] = Field(
        description="per criterion key: 0..max_score, or null when it does not apply"
    )
    notes: str = Field(default="", max_length=20_000)


class ScoreUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: dict[Key, ScoreValue | None] | None = None
    notes: str | None = Field(default=None, max_length=20_000)


class ScoreOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    attempt_id: str
    form_id: int
    campaign_id: int
    agent_id: int | None
    scorer: str
    answers: list[dict[str, Any]] = Field(description="the criteria as scored, with `score`")
    total: float = Field(description="weighted percent, 0..100")
    passed: bool | None
    notes: str
    created_at: datetime
    updated_at: datetime


class ScorePage(BaseModel):
    items: list[ScoreOut]
    total: int


class CallSheet(BaseModel):
    """A call to score: the call, the forms that apply, its scores, and its recording."""

    attempt_id: str
    campaign_id: int
    agent_id: int | None
    agent_extension: str | None
    agent_name: str | None
    number_dialed: str
    originate_at: datetime
    connect_at: datetime | None
    hangup_at: datetime | None
    disposition: str | None
    notes: str
    recording_url: str | None
    forms: list[FormOut]
    scores: list[ScoreOut]


class AgentQaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    agent_id: int | None
    extension: str
    name: str
    scored_calls: int
    average: float
    lowest: float
    highest: float
    passed: int
    failed: int
    criteria: dict[str, float] = Field(description="average percent per criterion key")


def _own(who: Principal, agent_id: int | None) -> int | None:
    """Agents are narrowed to their own scores; asking for another agent's is a 403."""
    if who.role != Role.AGENT:
        return agent_id
    if who.agent_id is None:
        raise HTTPException(403, "this agent user is not linked to an agent")
    if agent_id is not None and agent_id != who.agent_id:
        raise HTTPException(403, "an agent sees only its own scores")
    return who.agent_id


# ---------------------------------------------------------------------- forms


@router.get("/forms", response_model=list[FormOut])
async def list_forms(
    ctx: Ctx, _: Supervisor, campaign_id: DbId | None = None, active: bool | None = None
) -> Any:
    return await service.list_forms(ctx.session_factory, campaign_id=campaign_id, active=active)


@router.post("/forms", response_model=FormOut, status_code=201)
async def create_form(ctx: Ctx, who: Supervisor, body: FormCreate) -> Any:
    fields = body.model_dump(exclude_none=True)
    return await service.create_form(ctx.session_factory, fields, who.username)


@router.get("/forms/{form_id}", response_model=FormOut)
async def read_form(ctx: Ctx, _: Supervisor, form_id: DbId) -> Any:
    return await service.get_form(ctx.session_factory, form_id)


@router.patch("/forms/{form_id}", response_model=FormOut)
async def update_form(ctx: Ctx, who: Supervisor, form_id: DbId, body: FormUpdate) -> Any:
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "criteria", "active", "description"):
        if key in changes and changes[key] is None:
            raise HTTPException(422, f"{key} cannot be null")
    return await service.update_form(ctx.session_factory, form_id, changes, who.username)


@router.delete("/forms/{form_id}", status_code=204)
async def delete_form(ctx: Ctx, who: Supervisor, form_id: DbId) -> Response:
    """Only a form no call was scored with; otherwise deactivate it."""
    await service.delete_form(ctx.session_factory, form_id, who.username)
    return Response(status_code=204)


# ---------------------------------------------------------------------- scoring


@router.get("/calls/{attempt_id}", response_model=CallSheet)
async def call_sheet(ctx: Ctx, _: Supervisor, attempt_id: AttemptId) -> CallSheet:
    """Everything to score a call while listening to it (`recording_url`)."""
    found = await service.call_for_scoring(ctx.session_factory, attempt_id)
    a = found.attempt
    return CallSheet(
        attempt_id=a.id,
        campaign_id=a.campaign_id,
        agent_id=a.agent_id,
        agent_extension=found.agent.extension if found.agent else None,
        agent_name=found.agent.name if found.agent else None,
        number_dialed=a.number_dialed,
        originate_at=a.originate_at,
        connect_at=a.connect_at,
        hangup_at=a.hangup_at,
        disposition=a.disposition,
        notes=a.notes,
        recording_url=f"/v1/recordings/{a.id}/audio" if a.recording_path else None,
        forms=[FormOut.model_validate(f) for f in found.forms],
        scores=[ScoreOut.model_validate(s) for s in found.scores],
    )


@router.post("/scores", response_model=ScoreOut, status_code=201)
async def score_call(ctx: Ctx, who: Supervisor, body: ScoreCreate) -> Any:
    return await service.score_call(
        ctx.session_factory,
        body.attempt_id,
        body.form_id,
        body.scores,
        notes=body.notes,
        scorer=who.username,
    )


@router.get("/scores", response_model=ScorePage)
async def list_scores(
    ctx: Ctx,
    who: AnyUser,
    agent_id: DbId | None = None,
    campaign_id: DbId | None = None,
    form_id: DbId | None = None,
    attempt_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Since = None,
    until: Until = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> ScorePage:
    """Newest first. Agents get their own scores only."""
    items, total = await service.list_scores(
        ctx.session_factory,
        agent_id=_own(who, agent_id),
        campaign_id=campaign_id,
        form_id=form_id,
        attempt_id=attempt_id,
        since=since,
        until=until,
        offset=offset,
        limit=limit,
    )
    return ScorePage(items=[ScoreOut.model_validate(s) for s in items], total=total)


async def _visible(ctx: Any, who: Principal, score_id: int) -> QaScore:
    score = await service.get_score(ctx.session_factory, score_id)
    if who.role == Role.AGENT and (who.agent_id is None or score.agent_id != who.agent_id):
        raise HTTPException(404, f"no score {score_id}")
    return score


@router.get("/scores/{score_id}", response_model=ScoreOut)
async def read_score(ctx: Ctx, who: AnyUser, score_id: DbId) -> Any:
    return await _visible(ctx, who, score_id)


@router.patch("/scores/{score_id}", response_model=ScoreOut)
async def update_score(ctx: Ctx, who: Supervisor, score_id: DbId, body: ScoreUpdate) -> Any:
    return await service.update_score(
        ctx.session_factory, score_id, scores=body.scores, notes=body.notes, actor=who.username
    )


@router.delete("/scores/{score_id}", status_code=204)
async def delete_score(ctx: Ctx, who: Supervisor, score_id: DbId) -> Response:
    await service.delete_score(ctx.session_factory, score_id, who.username)
    return Response(status_code=204)


@router.get("/report", response_model=list[AgentQaOut])
async def qa_report(
    ctx: Ctx,
    who: AnyUser,
    campaign_id: DbId | None = None,
    form_id: DbId | None = None,
    agent_id: DbId | None = None,
    since: Since = None,
    until: Until = None,
) -> Any:
    """Per agent, best average first. An agent gets its own row only."""
    return await service.qa_report(
        ctx.session_factory,
        campaign_id=campaign_id,
        form_id=form_id,
        agent_id=_own(who, agent_id),
        since=since,
        until=until,
    )
