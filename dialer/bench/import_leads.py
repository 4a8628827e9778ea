"""`dialer bench import`: import a generated 1,000,000-row lead file into PostgreSQL.

Generates a realistic CSV (Chinese mobile numbers in mixed written forms, names, custom columns,
a few % garbage and repeated rows), imports it through the same service the CLI and API use,
and prints rows/s and the process's peak RSS. By default it creates a scratch database on the
local PostgreSQL server (user postgres) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dialer.db.engine import open_database
from dialer.db.migrate import upgrade
from dialer.leads.campaigns import create_campaign
from dialer.leads.importer import ImportReport, import_leads
from dialer.leads.sample import SampleStats, write_sample_leads

GOAL_ROWS_PER_S = 20_000
GOAL_PEAK_RSS_MB = 300


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _admin(host: str, port: int, user: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(host=host, port=port, user=user, database="postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _import(url: str, path: Path, batch_rows: int) -> ImportReport:
    await upgrade(url)
    async with open_database(url) as session_factory:
        campaign = await create_campaign(session_factory, f"bench-{uuid.uuid4().hex[:8]}")
        return await import_leads(
            session_factory,
            campaign.id,
            path,
            default_region="CN",
            batch_rows=batch_rows,
        )


def _table(
    rows: int,
    generated_s: float,
    report: ImportReport,
    stats: SampleStats,
    rss_mb: float,
    cpu_s: float,
    load: tuple[float, float],
) -> Table:
    table = Table(title="lead import benchmark (PostgreSQL)", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    table.add_row("rows in file", f"{rows:,}", "")
    table.add_row("file generated in", f"{generated_s:.1f} s", "")
    table.add_row("imported", f"{report.imported:,}", "")
    table.add_row("invalid (generated / reported)", f"{stats.invalid:,} / {report.invalid:,}", "")
    table.add_row(
        "repeated (generated / reported)", f"{stats.duplicates:,} / {report.duplicates:,}", ""
    )
    table.add_row("import elapsed", f"{report.elapsed_s:.1f} s", "")
    table.add_row("rows/s", f"{report.rows_per_s:,.0f}", f">= {GOAL_ROWS_PER_S:,}")
    table.add_row("peak RSS", f"{rss_mb:.0f} MB", f"< {GOAL_PEAK_RSS_MB} MB")
    table.add_row("CPU time, migrate + import (this process)", f"{cpu_s:.1f} s", "")
    table.add_row("machine load (1 min) before / after", f"{load[0]:.1f} / {load[1]:.1f}", "")
    return table


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="dialer bench import", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", help="PostgreSQL URL (default: a scratch database it creates)")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--batch-rows", type=int, default=5_000)
    parser.add_argument("--invalid", type=float, default=0.03, help="fraction of garbage rows")
    parser.add_argument("--repeated", type=float, default=0.02, help="fraction of repeated rows")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    console = Console()

    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as tmp:
        path = Path(tmp) / "leads.csv"
        console.print(f"generating {args.rows:,} rows ...")
        started = time.perf_counter()
        stats = write_sample_leads(
            path,
            args.rows,
            seed=args.seed,
            invalid_fraction=args.invalid,
            duplicate_fraction=args.repeated,
        )
        generated_s = time.perf_counter() - started
        console.print(f"file: {path.stat().st_size / 1e6:.0f} MB; importing ...")

        scratch = None
        url = args.url
        if url is None:
            scratch = f"dialer_bench_{uuid.uuid4().hex[:10]}"
            asyncio.run(
                _admin(args.pg_host, args.pg_port, args.pg_user, f'CREATE DATABASE "{scratch}"')
            )
            url = f"postgresql+asyncpg://{args.pg_user}@{args.pg_host}:{args.pg_port}/{scratch}"
        load_before = os.getloadavg()[0]
        cpu_before = time.process_time()
        try:
            report = asyncio.run(_import(url, path, args.batch_rows))
            cpu_s = time.process_time() - cpu_before
        finally:
            if scratch is not None:
                asyncio.run(
                    _admin(
                        args.pg_host,
                        args.pg_port,
                        args.pg_user,
                        f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)',
                    )
                )
    rss_mb = peak_rss_mb()
    load = (load_before, os.getloadavg()[0])
    console.print(_table(args.rows, generated_s, report, stats, rss_mb, cpu_s, load))
    if report.error:
        console.print(f"[red]import error: {report.error}")
        return 1
    met = report.rows_per_s >= GOAL_ROWS_PER_S and rss_mb < GOAL_PEAK_RSS_MB
    console.print("goals met" if met else "[yellow]goals NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
