"""Quality scoring: score forms (weighted criteria), supervisors' scores of calls with notes,
and the QA report per agent.

A score keeps a copy of the form's criteria as they were, and a form's criteria cannot change
once a call has been scored with it (make a new form instead), so totals never shift after
the fact. The total is a weighted percentage: Σ weight·score/max ÷ Σ weight over the criteria
that apply (a criterion may be marked not applicable with null).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.db.engine import SessionFactory
from dialer.db.models import Agent, CallAttempt, Campaign, QaForm, QaScore
from dialer.services.audit import add_audit
from dialer.services.errors import Conflict, Invalid, NotFound

_KEY = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")
MAX_CRITERIA = 50


def check_criteria(criteria: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Normalised criteria: key (a short slug, unique), label, weight > 0, max_score ≥ 1."""
    if not criteria:
        raise Invalid("a score form needs at least one criterion")
    if len(criteria) > MAX_CRITERIA:
        raise Invalid(f"at most {MAX_CRITERIA} criteria")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for c in criteria:
        key = str(c.get("key", ""))
        if not _KEY.match(key):
            raise Invalid(f"criterion key {key!r}: use 1-40 of a-z, 0-9, _ and -")
        if key in seen:
            raise Invalid(f"criterion key {key!r} appears twice")
        seen.add(key)
        weight = float(c.get("weight", 1))
        max_score = int(c.get("max_score", 5))
        if not 0 < weight <= 1000:
            raise Invalid(f"criterion {key!r}: weight must be above 0 (and at most 1000)")
        if not 1 <= max_score <= 100:
            raise Invalid(f"criterion {key!r}: max_score must be 1-100")
        out.append(
            {
                "key": key,
                "label": str(c.get("label") or key)[:200],
                "description": str(c.get("description") or "")[:2000],
                "weight": weight,
                "max_score": max_score,
            }
        )
    return out


def weighted_total(answers: Sequence[Mapping[str, Any]]) -> float:
    """The weighted percentage over the answered criteria (pure)."""
    scored = [a for a in answers if a.get("score") is not None]
    if not scored:
        raise Invalid("score at least one criterion")
    weights = sum(float(a["weight"]) for a in scored)
    points = sum(float(a["weight"]) * a["score"] / a["max_score"] for a in scored)
    return round(100.0 * points / weights, 2)


def answer_sheet(
    criteria: Sequence[Mapping[str, Any]], scores: Mapping[str, int | None]
) -> list[dict[str, Any]]:
    """The form's criteria with the given scores: every criterion must be given (null: not
    applicable), each within 0..max_score."""
    keys = [c["key"] for c in criteria]
    unknown = sorted(set(scores) - set(keys))
    if unknown:
        raise Invalid(f"not on this form: {unknown}")
    missing = [k for k in keys if k not in scores]
    if missing:
        raise Invalid(f"score every criterion (null if it does not apply): missing {missing}")
    answers = []
    for c in criteria:
        value = scores[c["key"]]
        if value is not None and not 0 <= value <= c["max_score"]:
            raise Invalid(f"{c['key']}: score {value} is outside 0..{c['max_score']}")
        answers.append({**c, "score": value})
    return answers


# ---------------------------------------------------------------------- forms


async def _form(session: AsyncSession, form_id: int) -> QaForm:
    form = await session.get(QaForm, form_id)
    if form is None:
        raise NotFound(f"no score form {form_id}")
    return form


async def _form_used(session: AsyncSession, form_id: int) -> bool:
    return (
        await session.scalar(select(QaScore.id).where(QaScore.form_id == form_id).limit(1))
        is not None
    )


async def create_form(
    session_factory: SessionFactory, fields: dict[str, Any], actor: str = ""
) -> QaForm:
    fields = dict(fields)
    fields["criteria"] = check_criteria(fields.get("criteria") or [])
    async with session_factory() as session, session.begin():
        if (
            fields.get("campaign_id") is not None
            and await session.get(Campaign, fields["campaign_id"]) is None
        ):
            raise NotFound(f"no campaign {fields['campaign_id']}")
        if await session.scalar(select(QaForm.id).where(QaForm.name == fields["name"])):
            raise Conflict(f"a score form named {fields['name']!r} exists already")
        form = QaForm(created_by=actor, **fields)
        session.add(form)
        await session.flush()
        add_audit(session, actor, "qa.form.create", "qa_form", form.id, {"name": form.name})
    return form


async def list_forms(
    session_factory: SessionFactory, *, campaign_id: int | None = None, active: bool | None = None
) -> list[QaForm]:
    """With `campaign_id`: the forms usable for its calls (its own and the global ones)."""
    query = select(QaForm).order_by(QaForm.id)
    if campaign_id is not None:
        query = query.where((QaForm.campaign_id == campaign_id) | QaForm.campaign_id.is_(None))
    if active is not None:
        query = query.where(QaForm.active.is_(active))
    async with session_factory() as session:
        return list(await session.scalars(query))


async def get_form(session_factory: SessionFactory, form_id: int) -> QaForm:
    async with session_factory() as session:
        return await _form(session, form_id)


async def update_form(
    session_factory: SessionFactory, form_id: int, changes: dict[str, Any], actor: str = ""
) -> QaForm:
    allowed = {"name", "description", "criteria", "pass_score", "active"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(f"cannot change {sorted(unknown)}")
    async with session_factory() as session, session.begin():
        form = await _form(session, form_id)
        if "criteria" in changes:
            criteria = check_criteria(changes["criteria"])
            if criteria != form.criteria and await _form_used(session, form_id):
                raise Conflict(
                    "calls were scored with this form: its criteria are frozen (create a new form)"
                )
            changes["criteria"] = criteria
        if "name" in changes and changes["name"] != form.name:
            taken = await session.scalar(
                select(QaForm.id).where(QaForm.name == changes["name"], QaForm.id != form_id)
            )
            if taken:
                raise Conflict(f"a score form named {changes['name']!r} exists already")
        for key, value in changes.items():
            setattr(form, key, value)
        add_audit(session, actor, "qa.form.update", "qa_form", form_id, {"fields": sorted(changes)})
    return form


async def delete_form(session_factory: SessionFactory, form_id: int, actor: str = "") -> None:
    async with session_factory() as session, session.begin():
        form = await _form(session, form_id)
        if await _form_used(session, form_id):
            raise Conflict("calls were scored with this form: deactivate it instead")
        await session.delete(form)
        add_audit(session, actor, "qa.form.delete", "qa_form", form_id, {"name": form.name})


# ---------------------------------------------------------------------- scores


@dataclass
class CallForScoring:
    attempt: CallAttempt
    agent: Agent | None
    forms: list[QaForm]
    scores: list[QaScore]


async def call_for_scoring(session_factory: SessionFactory, attempt_id: str) -> CallForScoring:
    """What a supervisor needs beside the recording: the call, its agent, the active forms
    that apply and the scores it has."""
    async with session_factory() as session:
        attempt = await session.get(CallAttempt, attempt_id)
        if attempt is None:
            raise NotFound(f"no call attempt {attempt_id}")
        agent = await session.get(Agent, attempt.agent_id) if attempt.agent_id else None
        forms = list(
            await session.scalars(
                select(QaForm)
                .where(
                    QaForm.active.is_(True),
                    (QaForm.campaign_id == attempt.campaign_id) | QaForm.campaign_id.is_(None),
                )
                .order_by(QaForm.id)
            )
        )
        scores = list(
            await session.scalars(
                select(QaScore).where(QaScore.attempt_id == attempt_id).order_by(QaScore.id)
            )
        )
    return CallForScoring(attempt, agent, forms, scores)


async def score_call(
    session_factory: SessionFactory,
    attempt_id: str,
    form_id: int,
    scores: Mapping[str, int | None],
    *,
    notes: str = "",
    scorer: str,
) -> QaScore:
    async with session_factory() as session, session.begin():
        attempt = await session.get(CallAttempt, attempt_id)
        if attempt is None:
            raise NotFound(f"no call attempt {attempt_id}")
        if attempt.agent_id is None:
            raise Conflict(f"call {attempt_id} reached no agent: there is nobody to score")
        form = await _form(session, form_id)
        if not form.active:
            raise Conflict(f"score form {form_id} is not active")
        if form.campaign_id is not None and form.campaign_id != attempt.campaign_id:
            raise Conflict(f"score form {form_id} belongs to another campaign")
        answers = answer_sheet(form.criteria, scores)
        total = weighted_total(answers)
        score = QaScore(
            attempt_id=attempt_id,
            form_id=form_id,
            campaign_id=attempt.campaign_id,
            agent_id=attempt.agent_id,
            scorer=scorer,
            answers=answers,
            total=total,
            passed=None if form.pass_score is None else total >= form.pass_score,
            notes=notes,
        )
        session.add(score)
        await session.flush()
        add_audit(
            session,
            scorer,
            "qa.score",
            "call_attempt",
            attempt_id,
            {"score_id": score.id, "form_id": form_id, "total": total},
        )
    return score


async def _score(session: AsyncSession, score_id: int) -> QaScore:
    score = await session.get(QaScore, score_id)
    if score is None:
        raise NotFound(f"no score {score_id}")
    return score


async def get_score(session_factory: SessionFactory, score_id: int) -> QaScore:
    async with session_factory() as session:
        return await _score(session, score_id)


async def update_score(
    session_factory: SessionFactory,
    score_id: int,
    *,
    scores: Mapping[str, int | None] | None = None,
    notes: str | None = None,
    actor: str,
) -> QaScore:
    """Correct a score: against the criteria it was given with (the form may have moved on)."""
    async with session_factory() as session, session.begin():
        score = await _score(session, score_id)
        if scores is not None:
            criteria = [{k: v for k, v in a.items() if k != "score"} for a in score.answers]
            score.answers = answer_sheet(criteria, scores)
            score.total = weighted_total(score.answers)
            form = await session.get(QaForm, score.form_id)
            if form is not None and form.pass_score is not None:
                score.passed = score.total >= form.pass_score
        if notes is not None:
            score.notes = notes
        add_audit(
            session,
            actor,
            "qa.score.update",
            "call_attempt",
            score.attempt_id,
            {"score_id": score_id, "total": score.total},
        )
    return score


async def delete_score(session_factory: SessionFactory, score_id: int, actor: str) -> None:
    async with session_factory() as session, session.begin():
        score = await _score(session, score_id)
        await session.delete(score)
        add_audit(
            session,
            actor,
            "qa.score.delete",
            "call_attempt",
            score.attempt_id,
            {"score_id": score_id, "total": score.total, "scorer": score.scorer},
        )


def _score_filters(
    *,
    agent_id: int | None = None,
    campaign_id: int | None = None,
    form_id: int | None = None,
    attempt_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Any]:
    where: list[Any] = []
    if agent_id is not None:
        where.append(QaScore.agent_id == agent_id)
    if campaign_id is not None:
        where.append(QaScore.campaign_id == campaign_id)
    if form_id is not None:
        where.append(QaScore.form_id == form_id)
    if attempt_id is not None:
        where.append(QaScore.attempt_id == attempt_id)
    if since is not None:
        where.append(QaScore.created_at >= since)
    if until is not None:
        where.append(QaScore.created_at < until)
    return where


async def list_scores(
    session_factory: SessionFactory, *, offset: int = 0, limit: int = 100, **filters: Any
) -> tuple[list[QaScore], int]:
    """Newest first."""
    where = _score_filters(**filters)
    async with session_factory() as session:
        total = await session.scalar(select(func.count()).select_from(QaScore).where(*where))
        rows = await session.scalars(
            select(QaScore)
            .where(*where)
            .order_by(QaScore.created_at.desc(), QaScore.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), int(total or 0)


# ---------------------------------------------------------------------- the report


@dataclass
class AgentQa:
    agent_id: int | None
    extension: str
    name: str
    scored_calls: int = 0
    average: float = 0.0
    lowest: float = 0.0
    highest: float = 0.0
    passed: int = 0
    failed: int = 0  # against a pass mark (scores of forms without one count in neither)
    criteria: dict[str, float] = field(default_factory=dict)  # key -> average percent


async def qa_report(
    session_factory: SessionFactory,
    *,
    campaign_id: int | None = None,
    form_id: int | None = None,
    agent_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AgentQa]:
    """Per agent: scored calls, average / lowest / highest total, passes and fails, and the
    average percent per criterion key (across the forms that have it)."""
    where = _score_filters(
        agent_id=agent_id, campaign_id=campaign_id, form_id=form_id, since=since, until=until
    )
    async with session_factory() as session:
        rows = (
            await session.execute(
                select(QaScore.agent_id, QaScore.total, QaScore.passed, QaScore.answers).where(
                    *where
                )
            )
        ).all()
        agent_ids = {r.agent_id for r in rows if r.agent_id is not None}
        agents = (
            {a.id: a for a in await session.scalars(select(Agent).where(Agent.id.in_(agent_ids)))}
            if agent_ids
            else {}
        )
    grouped: dict[int | None, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.agent_id, []).append(row)
    out: list[AgentQa] = []
    for aid, items in grouped.items():
        agent = agents.get(aid) if aid is not None else None
        totals = [float(r.total) for r in items]
        per_key: dict[str, list[float]] = {}
        for r in items:
            for a in r.answers or []:
                if a.get("score") is not None:
                    per_key.setdefault(a["key"], []).append(100.0 * a["score"] / a["max_score"])
        out.append(
            AgentQa(
                agent_id=aid,
                extension=agent.extension if agent else "",
                name=agent.name if agent else "",
                scored_calls=len(items),
                average=round(sum(totals) / len(totals), 2),
                lowest=min(totals),
                highest=max(totals),
                passed=sum(1 for r in items if r.passed is True),
                failed=sum(1 for r in items if r.passed is False),
                criteria={k: round(sum(v) / len(v), 2) for k, v in sorted(per_key.items())},
            )
        )
    out.sort(key=lambda r: (-r.average, r.extension))
    return out
