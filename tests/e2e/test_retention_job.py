"""The recording retention job inside the running service (`make demo`'s setup): expired
recordings of outbound and inbound calls are deleted on schedule and their paths cleared,
a recording under legal hold and a recent one are kept, and the run is audited."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dialer.db.migrate import upgrade
from dialer.db.models import AuditLog, CallAttempt, InboundCall
from dialer.demo import DemoOptions, start_demo, stop_demo
from dialer.settings import Settings

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


async def test_the_service_purges_expired_recordings_on_schedule(sqlite_url, tmp_path) -> None:
    await upgrade(sqlite_url)
    settings = Settings(
        database_url=sqlite_url,
        data_dir=tmp_path,
        recordings_purge_first_s=0.5,
        recordings_purge_every_h=0.0005,  # about every 2 s
    )
    options = DemoOptions(
        speed=20.0, agents=1, leads=50, live_view=False, serve_http=False, start_wall=START
    )
    world = await start_demo(settings, options)
    service = world.service
    root = service.settings.recordings_path
    old, recent = START - timedelta(days=40), START - timedelta(days=2)
    files = {
        name: root / f"dialer/{world.campaign_id}/{name}.wav"
        for name in ("old", "held", "recent", "inbound-old")
    }
    try:
        for path in files.values():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"RIFF")
        async with service.sessions() as s, s.begin():
            for name, at, hold in (
                ("old", old, False),
                ("held", old, True),
                ("recent", recent, False),
            ):
                s.add(
                    CallAttempt(
                        id=f"att-{name}",
                        campaign_id=world.campaign_id,
                        number_dialed="+8613800000000",
                        originate_at=at,
                        terminal_state="completed",
                        recording_path=str(files[name].relative_to(root)),
                        legal_hold=hold,
                    )
                )
            s.add(
                InboundCall(
                    id="1700000000.9",
                    campaign_id=world.campaign_id,
                    did="4001",
                    arrived_at=old,
                    outcome="answered",
                    recording_path=str(files["inbound-old"].relative_to(root)),
                )
            )
        async with asyncio.timeout(15):
            while files["old"].exists() or files["inbound-old"].exists():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert files["held"].exists() and files["recent"].exists()
        async with service.sessions() as s:
            paths = dict(
                (await s.execute(select(CallAttempt.id, CallAttempt.recording_path))).all()
            )
            inbound = await s.get(InboundCall, "1700000000.9")
            audits = (
                await s.scalars(select(AuditLog).where(AuditLog.action == "recording.purge"))
            ).all()
        assert paths["att-old"] is None and inbound.recording_path is None
        assert paths["att-held"] and paths["att-recent"]
        assert audits and audits[0].actor == "retention"
        assert audits[0].detail["deleted"] == 2
        assert sum(r.deleted for r in service.last_purge) in (0, 2)  # 0: a later, idle run
    finally:
        await stop_demo(world, drain_s=5)
