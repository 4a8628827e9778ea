"""Call recordings: search, the file behind a recorded call, and the retention purge.

Asterisk writes a recording (MixMonitor) under its monitor directory and the dialer stores the
relative path on the attempt (`call_attempts.recording_path`). The dialer reads the files from
`Settings.recordings_path` (that directory as this host sees it) and never serves a file
outside it. Retention: a campaign keeps its recordings `pacing.recording_retention_days` days
(default `Settings.recordings_retention_days`, 30), never less than its rule sets' legal
minimum; older ones are deleted and their paths cleared by `purge_recordings`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from compliance.retention import purge_cutoff
from dialer.db.engine import SessionFactory
from dialer.db.models import Agent, CallAttempt, Campaign, InboundCall
from dialer.services.audit import add_audit
from dialer.services.errors import NotFound

Row = dict[str, Any]
PURGE_BATCH = 500


@dataclass(frozen=True)
class RecordingQuery:
    campaign_id: int | None = None
    agent_id: int | None = None
    lead_id: int | None = None
    since: datetime | None = None  # call started at or after
    until: datetime | None = None  # call started before
    disposition: str | None = None


def day_window(day: date, zone: str) -> tuple[datetime, datetime]:
    """A calendar day in the call centre's zone, as the [start, end) of aware datetimes."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time.min, tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tz)


def _talk_seconds(row: CallAttempt) -> float | None:
    end = row.hangup_at or row.end_at
    if row.connect_at is None or end is None:
        return None
    return round(max(0.0, (end - row.connect_at).total_seconds()), 1)


def _row(attempt: CallAttempt, campaign: str, agent: Agent | None) -> Row:
    return {
        "attempt_id": attempt.id,
        "campaign_id": attempt.campaign_id,
        "campaign": campaign,
        "agent_id": attempt.agent_id,
        "agent_extension": agent.extension if agent is not None else None,
        "agent_name": agent.name if agent is not None else None,
        "lead_id": attempt.lead_id,
        "number": attempt.number_dialed,
        "started_at": attempt.originate_at,
        "connected_at": attempt.connect_at,
        "ended_at": attempt.end_at,
        "talk_seconds": _talk_seconds(attempt),
        "disposition": attempt.disposition,
        "recording_path": attempt.recording_path,
    }


async def search_recordings(
    session_factory: SessionFactory, query: RecordingQuery, *, offset: int = 0, limit: int = 100
) -> tuple[list[Row], int]:
    """Recorded calls matching every given filter, newest first, and how many match."""
    where = [CallAttempt.recording_path.is_not(None)]
    if query.campaign_id is not None:
        where.append(CallAttempt.campaign_id == query.campaign_id)
    if query.agent_id is not None:
        where.append(CallAttempt.agent_id == query.agent_id)
    if query.lead_id is not None:
        where.append(CallAttempt.lead_id == query.lead_id)
    if query.since is not None:
        where.append(CallAttempt.originate_at >= query.since)
    if query.until is not None:
        where.append(CallAttempt.originate_at < query.until)
    if query.disposition is not None:
        where.append(CallAttempt.disposition == query.disposition)
    async with session_factory() as session:
        total = await session.scalar(select(func.count()).select_from(CallAttempt).where(*where))
        rows = await session.execute(
            select(CallAttempt, Campaign.name, Agent)
            .join(Campaign, Campaign.id == CallAttempt.campaign_id)
            .outerjoin(Agent, Agent.id == CallAttempt.agent_id)
            .where(*where)
            .order_by(CallAttempt.originate_at.desc(), CallAttempt.id)
            .offset(offset)
            .limit(limit)
        )
        found = [_row(attempt, name, agent) for attempt, name, agent in rows]
    return found, int(total or 0)


async def get_recording(session_factory: SessionFactory, attempt_id: str) -> Row:
    """The recorded call `attempt_id`; NotFound when there is no such call or recording."""
    async with session_factory() as session:
        found = (
            await session.execute(
                select(CallAttempt, Campaign.name, Agent)
                .join(Campaign, Campaign.id == CallAttempt.campaign_id)
                .outerjoin(Agent, Agent.id == CallAttempt.agent_id)
                .where(CallAttempt.id == attempt_id)
            )
        ).first()
    if found is None or found[0].recording_path is None:
        raise NotFound(f"no recording for call {attempt_id}")
    return _row(*found)


def recording_file(root: Path, recording_path: str) -> Path:
    """The file of a stored recording path, which must lie inside `root`."""
    base = root.resolve()
    stored = Path(recording_path)
    candidate = (stored if stored.is_absolute() else base / stored).resolve()
    if not candidate.is_relative_to(base) or candidate == base:
        raise NotFound("the recording is not in the recordings directory")
    if not candidate.is_file():
        raise NotFound("the recording file is missing")
    return candidate


MEDIA_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".gsm": "audio/x-gsm",
    ".wav49": "audio/x-wav",
}


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


# ------------------------------------------------------------------------ retention


def retention_days(campaign: Campaign, default_days: int) -> int:
    """The campaign's own retention (`pacing.recording_retention_days`), else the default."""
    value = (campaign.pacing or {}).get("recording_retention_days")
    try:
        return int(value) if value is not None else default_days
    except (TypeError, ValueError):
        return default_days


@dataclass
class PurgeResult:
    campaign_id: int
    campaign: str
    retention_days: int
    cutoff: datetime | None
    due: int = 0  # recorded calls older than the cutoff
    deleted: int = 0  # files deleted
    missing: int = 0  # files already gone (paths cleared all the same)
    kept_outside: int = 0  # paths outside the recordings directory: left alone
    error: str | None = None

    def as_dict(self) -> Row:
        row = asdict(self)
        row["cutoff"] = self.cutoff.isoformat() if self.cutoff else None
        return row


async def purge_recordings(
    session_factory: SessionFactory,
    root: Path,
    *,
    now: datetime,
    default_days: int,
    campaign_id: int | None = None,
    dry_run: bool = False,
    actor: str = "retention",
) -> list[PurgeResult]:
    """Delete the recordings of calls that started before each campaign's cutoff and clear
    their paths. A campaign whose retention is under its legal minimum is skipped with an
    error (nothing is deleted early). Each campaign that purged anything gets an audit row."""
    async with session_factory() as session:
        query = select(Campaign).order_by(Campaign.id)
        if campaign_id is not None:
            query = query.where(Campaign.id == campaign_id)
        campaigns = list(await session.scalars(query))
    if campaign_id is not None and not campaigns:
        raise NotFound(f"no campaign {campaign_id}")
    results = []
    for campaign in campaigns:
        days = retention_days(campaign, default_days)
        rulesets = tuple(campaign.compliance_profile or ())
        result = PurgeResult(campaign.id, campaign.name, days, None)
        results.append(result)
        try:
            result.cutoff = purge_cutoff(now, days, rulesets)
        except ValueError as exc:
            result.error = str(exc)
            continue
        await _purge_campaign(session_factory, root, result, dry_run=dry_run, actor=actor)
    return results


async def _purge_campaign(
    session_factory: SessionFactory, root: Path, result: PurgeResult, *, dry_run: bool, actor: str
) -> None:
    assert result.cutoff is not None
    for model, started, held in (
        (CallAttempt, CallAttempt.originate_at, CallAttempt.legal_hold),
        (InboundCall, InboundCall.arrived_at, None),  # recorded calls to blended campaigns
    ):
        due = [
            model.campaign_id == result.campaign_id,
            model.recording_path.is_not(None),
            started < result.cutoff,
        ]
        if held is not None:
            due.append(held.is_(False))  # held recordings are kept past retention
        if dry_run:
            async with session_factory() as session:
                count = await session.scalar(select(func.count()).select_from(model).where(*due))
            result.due += int(count or 0)
            continue
        await _purge_rows(session_factory, root, result, model, due)
    if result.due and not dry_run:
        async with session_factory() as session, session.begin():
            detail = {k: v for k, v in result.as_dict().items() if k not in ("campaign", "error")}
            add_audit(session, actor, "recording.purge", "campaign", result.campaign_id, detail)


async def _purge_rows(
    session_factory: SessionFactory, root: Path, result: PurgeResult, model: Any, due: list[Any]
) -> None:
    last_id = ""
    while True:
        async with session_factory() as session:
            batch = (
                await session.execute(
                    select(model.id, model.recording_path)
                    .where(*due, model.id > last_id)
                    .order_by(model.id)
                    .limit(PURGE_BATCH)
                )
            ).all()
        if not batch:
            break
        last_id = batch[-1][0]
        cleared = await asyncio.to_thread(_delete_files, root, [(a, p) for a, p in batch], result)
        if cleared:
            async with session_factory() as session, session.begin():
                await session.execute(
                    update(model)
                    .where(model.id.in_(cleared))
                    .values(recording_path=None)
                    .execution_options(synchronize_session=False)
                )


def _delete_files(root: Path, batch: list[tuple[str, str]], result: PurgeResult) -> list[str]:
    """Delete the batch's files; the attempts whose path may now be cleared."""
    base = root.resolve()
    cleared = []
    for attempt_id, path in batch:
        result.due += 1
        stored = Path(path)
        target = (stored if stored.is_absolute() else base / stored).resolve()
        if not target.is_relative_to(base) or target == base:
            result.kept_outside += 1
            continue
        try:
            target.unlink()
            result.deleted += 1
            _remove_empty_dirs(target.parent, base)
        except FileNotFoundError:
            result.missing += 1
        cleared.append(attempt_id)
    return cleared


def _remove_empty_dirs(directory: Path, base: Path) -> None:
    """The day and campaign folders a purge emptied (never `base` itself)."""
    while directory != base and directory.is_relative_to(base):
        with contextlib.suppress(OSError):
            directory.rmdir()  # fails, and stops here, when not empty
        if directory.exists():
            return
        directory = directory.parent
