"""`dialer recordings purge`: the retention job. Deletes the recordings of calls older than
each campaign's retention (at least the legal minimum of its rule sets) and clears their
paths. Run it daily from cron or a systemd timer; `--dry-run` only counts."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path

from dialer.db.engine import open_database
from dialer.services.errors import NotFound
from dialer.services.recordings import PurgeResult, purge_recordings


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a UTC offset, e.g. 2026-03-02T00:00:00Z")
    return value


def purge_main(argv: list[str]) -> int:
    from dialer.settings import Settings

    parser = argparse.ArgumentParser(prog="dialer recordings purge", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="count what is due, delete nothing")
    parser.add_argument("--campaign", type=int, help="only this campaign id")
    parser.add_argument("--now", type=_aware, help="purge as of this moment (default: now)")
    parser.add_argument("--dir", type=Path, help="recordings directory (default: configured)")
    parser.add_argument("--url", help="database URL (default: the configured database)")
    args = parser.parse_args(argv)
    settings = Settings()
    root = args.dir or settings.recordings_path
    url = args.url or settings.database_url

    async def work() -> list[PurgeResult]:
        async with open_database(url) as session_factory:
            return await purge_recordings(
                session_factory,
                root,
                now=args.now or datetime.now(UTC),
                default_days=settings.recordings_retention_days,
                campaign_id=args.campaign,
                dry_run=args.dry_run,
            )

    try:
        results = asyncio.run(work())
    except NotFound as exc:
        print(f"dialer recordings purge: {exc}")
        return 1
    failed = 0
    for r in results:
        if r.error:
            failed += 1
            print(f"campaign {r.campaign_id} ({r.campaign}): NOT purged: {r.error}")
        elif args.dry_run:
            print(f"campaign {r.campaign_id}: {r.due} recordings older than {r.retention_days} d")
        else:
            print(
                f"campaign {r.campaign_id}: {r.due} due after {r.retention_days} d, "
                f"{r.deleted} files deleted, {r.missing} already gone, "
                f"{r.kept_outside} outside {root} kept"
            )
    return 1 if failed else 0
