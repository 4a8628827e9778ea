"""Recordings: search filters, the file behind a path, and the retention purge (service and
`dialer recordings purge`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dialer.cli import main as dialer_main
from dialer.db.engine import SessionFactory, open_database
from dialer.db.migrate import upgrade
from dialer.db.models import Agent, AuditLog, CallAttempt, Campaign
from dialer.services.errors import NotFound
from dialer.services.recordings import (
    RecordingQuery,
    day_window,
    get_recording,
    purge_recordings,
    recording_file,
    search_recordings,
)

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


async def seed(factory: SessionFactory, root: Path) -> dict[str, int]:
    """Two campaigns (one keeps recordings 90 days), two agents, recorded and unrecorded calls
    of several ages; a file on disk for each recording."""
    async with factory() as s, s.begin():
        short = Campaign(name="short", compliance_profile=["CN"])
        long = Campaign(
            name="long", compliance_profile=["CN"], pacing={"recording_retention_days": 90}
        )
        a1, a2 = Agent(extension="1001", name="A"), Agent(extension="1002", name="B")
        s.add_all([short, long, a1, a2])
        await s.flush()
        ids = {"short": short.id, "long": long.id, "a1": a1.id, "a2": a2.id}

        def call(
            name: str, campaign: int, agent: int | None, days_ago: float, **kw: object
        ) -> CallAttempt:
            start = NOW - timedelta(days=days_ago)
            path = f"dialer/{campaign}/{start:%Y%m%d}/{name}.wav"
            file = root / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(b"RIFF....WAVE" + name.encode())
            return CallAttempt(
                id=name,
                campaign_id=campaign,
                lead_id=None,
                number_dialed="+8613800000000",
                agent_id=agent,
                originate_at=start,
                connect_at=start + timedelta(seconds=5),
                hangup_at=start + timedelta(seconds=65),
                end_at=start + timedelta(seconds=70),
                recording_path=path,
                **kw,
            )

        s.add_all(
            [
                call("r-new", short.id, a1.id, 0.1, disposition="SALE"),
                call("r-week", short.id, a2.id, 7, disposition="NOT_NOW"),
                call("r-old", short.id, a1.id, 31, disposition="SALE"),
                call("r-long-40", long.id, a2.id, 40, disposition="SALE"),
                call("r-long-100", long.id, a2.id, 100, disposition="NOT_NOW"),
                CallAttempt(
                    id="unrecorded",
                    campaign_id=short.id,
                    number_dialed="+8613800000001",
                    originate_at=NOW - timedelta(days=60),
                ),
            ]
        )
    return ids


@pytest.fixture
async def factory(sqlite_url: str):  # type: ignore[no-untyped-def]
    await upgrade(sqlite_url)
    async with open_database(sqlite_url) as f:
        yield f


async def test_search_by_each_filter(factory: SessionFactory, tmp_path: Path) -> None:
    ids = await seed(factory, tmp_path)

    async def found(**kw: object) -> list[str]:
        rows, total = await search_recordings(factory, RecordingQuery(**kw))  # type: ignore[arg-type]
        assert total == len(rows)
        return [r["attempt_id"] for r in rows]

    assert await found() == ["r-new", "r-week", "r-old", "r-long-40", "r-long-100"]
    assert await found(campaign_id=ids["long"]) == ["r-long-40", "r-long-100"]
    assert await found(agent_id=ids["a1"]) == ["r-new", "r-old"]
    assert await found(disposition="NOT_NOW") == ["r-week", "r-long-100"]
    since, until = day_window((NOW - timedelta(days=7)).date(), "Asia/Shanghai")
    assert await found(since=since, until=until) == ["r-week"]
    assert await found(agent_id=ids["a2"], since=NOW - timedelta(days=50)) == [
        "r-week",
        "r-long-40",
    ]
    rows, total = await search_recordings(factory, RecordingQuery(), offset=1, limit=2)
    assert [r["attempt_id"] for r in rows] == ["r-week", "r-old"] and total == 5
    first = rows[0]
    assert (first["campaign"], first["agent_extension"], first["talk_seconds"]) == (
        "short",
        "1002",
        60.0,
    )


async def test_recording_file_stays_inside_the_directory(
    factory: SessionFactory, tmp_path: Path
) -> None:
    await seed(factory, tmp_path)
    row = await get_recording(factory, "r-new")
    assert recording_file(tmp_path, row["recording_path"]).read_bytes().endswith(b"r-new")
    (tmp_path.parent / "secret.wav").write_bytes(b"x")
    for bad in ("../secret.wav", str(tmp_path.parent / "secret.wav"), ".", "dialer/none.wav"):
        with pytest.raises(NotFound):
            recording_file(tmp_path, bad)
    with pytest.raises(NotFound):
        await get_recording(factory, "unrecorded")
    with pytest.raises(NotFound):
        await get_recording(factory, "no-such-call")


async def test_purge_keeps_each_campaign_its_retention(
    factory: SessionFactory, tmp_path: Path
) -> None:
    ids = await seed(factory, tmp_path)
    dry = await purge_recordings(factory, tmp_path, now=NOW, default_days=30, dry_run=True)
    assert {r.campaign: r.due for r in dry} == {"short": 1, "long": 1}
    assert (tmp_path / f"dialer/{ids['short']}").exists()

    results = await purge_recordings(factory, tmp_path, now=NOW, default_days=30)
    by_name = {r.campaign: r for r in results}
    assert (by_name["short"].retention_days, by_name["short"].deleted) == (30, 1)
    assert (by_name["long"].retention_days, by_name["long"].deleted) == (90, 1)
    assert by_name["short"].cutoff == NOW - timedelta(days=30)
    async with factory() as s:
        paths = dict((await s.execute(select(CallAttempt.id, CallAttempt.recording_path))).all())
        audit = list(await s.scalars(select(AuditLog).where(AuditLog.action == "recording.purge")))
    assert paths["r-old"] is None and paths["r-long-100"] is None
    assert all(paths[k] for k in ("r-new", "r-week", "r-long-40"))
    for kept in ("r-new", "r-week", "r-long-40"):
        assert (tmp_path / paths[kept]).is_file()
    old_day = tmp_path / f"dialer/{ids['short']}/{NOW - timedelta(days=31):%Y%m%d}"
    assert not old_day.exists()  # the emptied day folder went too
    assert sorted(a.object_id for a in audit) == sorted([str(ids["short"]), str(ids["long"])])
    assert audit[0].detail["deleted"] == 1

    again = await purge_recordings(factory, tmp_path, now=NOW, default_days=30)
    assert sum(r.due for r in again) == 0  # nothing left to do: idempotent


async def test_purge_refuses_a_retention_under_the_legal_minimum(
    factory: SessionFactory, tmp_path: Path
) -> None:
    await seed(factory, tmp_path)
    results = await purge_recordings(factory, tmp_path, now=NOW, default_days=7)
    short = next(r for r in results if r.campaign == "short")
    assert short.error is not None and "30-day minimum" in short.error
    assert short.deleted == 0
    assert (await get_recording(factory, "r-week"))["recording_path"]  # nothing early


async def test_purge_command(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    await upgrade(sqlite_url)
    root = tmp_path / "rec"
    async with open_database(sqlite_url) as f:
        ids = await seed(f, root)
    monkeypatch.setenv("DIALER_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DIALER_RECORDINGS_DIR", str(root))
    args = ["recordings", "purge", "--now", NOW.isoformat()]
    assert await _run([*args, "--dry-run"]) == 0
    assert f"campaign {ids['short']}: 1 recordings older than 30 d" in capsys.readouterr().out
    assert await _run([*args, "--campaign", str(ids["long"])]) == 0
    assert "1 files deleted" in capsys.readouterr().out
    monkeypatch.setenv("DIALER_RECORDINGS_RETENTION_DAYS", "10")
    assert await _run(args) == 1  # under the CN minimum: refused, and said so
    assert "NOT purged" in capsys.readouterr().out


async def _run(argv: list[str]) -> int:
    """The command runs its own event loop: give it a thread."""
    import asyncio

    return await asyncio.to_thread(dialer_main, argv)
