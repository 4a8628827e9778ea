"""`dialer leads import|export` and `dialer campaign create|summary`.

Each command takes the database from the settings (`DIALER_DATABASE_URL`, default a SQLite
file under the data dir) unless `--url` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from dialer.db.engine import SessionFactory, open_database
from dialer.db.migrate import current_revision
from dialer.db.models import Campaign
from dialer.leads.campaigns import (
    CampaignExists,
    CampaignSummary,
    campaign_summary,
    create_campaign,
    find_campaign,
)
from dialer.leads.columns import BadMapping, parse_mapping_args
from dialer.leads.export import ExportFormat, ExportKind, export_campaign
from dialer.leads.importer import ImportProgress, ImportReport, import_leads

T = TypeVar("T")
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


class CommandError(Exception):
    """A user-facing failure: printed without a traceback, exit status 1."""


def _database_url(explicit: str | None) -> str:
    if explicit:
        return explicit
    from dialer.settings import Settings

    return Settings().database_url


def _default_region() -> str:
    from dialer.settings import Settings

    return Settings().default_region


def _run(url: str, work: Callable[[SessionFactory], Awaitable[T]]) -> T:
    async def main() -> T:
        if await current_revision(url) is None:
            raise CommandError("the database has no schema yet: run `dialer migrate` first")
        async with open_database(url) as session_factory:
            return await work(session_factory)

    return asyncio.run(main())


async def _campaign(session_factory: SessionFactory, ref: str) -> Campaign:
    campaign = await find_campaign(session_factory, ref)
    if campaign is None:
        raise CommandError(f"no campaign {ref!r} (give its id or exact name)")
    return campaign


def _command(func: Callable[[list[str]], int]) -> Callable[[list[str]], int]:
    def wrapper(argv: list[str]) -> int:
        try:
            return func(argv)
        except CommandError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    wrapper.__doc__ = func.__doc__
    wrapper.__name__ = func.__name__
    return wrapper


def _print_report(console: Console, report: ImportReport, limit: int) -> None:
    for line in report.summary_lines():
        console.print(line, markup=False, highlight=False)
    if report.invalid_rows and limit:
        console.print(f"first invalid rows (of {report.invalid}):", highlight=False)
        for problem in report.invalid_rows[:limit]:
            console.print(
                f"  row {problem.row}: {problem.reason}: {problem.value!r}",
                markup=False,
                highlight=False,
            )


@_command
def import_main(argv: list[str]) -> int:
    """Import a CSV/XLSX lead file into a campaign."""
    parser = argparse.ArgumentParser(prog="dialer leads import", description=import_main.__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--campaign", required=True, help="campaign id or name")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HEADER=FIELD",
        help="column override; FIELD is phone, name, priority, '-' (ignore) or a custom key",
    )
    parser.add_argument("--delimiter", help="CSV delimiter (default: detected); 'tab' for tabs")
    parser.add_argument("--encoding", help="text encoding (default: UTF-8, else GB18030)")
    parser.add_argument("--region", help="region for numbers without a country code")
    parser.add_argument("--url", help="database URL (default: from settings)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--show-invalid", type=int, default=20, metavar="N")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        raise CommandError(f"no such file: {args.file}")
    try:
        mapping = parse_mapping_args(args.map)
    except BadMapping as exc:
        raise CommandError(str(exc)) from None
    delimiter = _DELIMITER_NAMES.get(args.delimiter, args.delimiter) if args.delimiter else None
    region = (args.region or _default_region()).upper()
    console = Console(stderr=True)

    async def work(session_factory: SessionFactory) -> ImportReport:
        campaign = await _campaign(session_factory, args.campaign)
        columns = [
            TextColumn("[bold]importing"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:>12,} rows"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, console=console, disable=args.json) as bar:
            task = bar.add_task("import", total=args.file.stat().st_size, rows=0)

            def on_progress(state: ImportProgress) -> None:
                bar.update(task, completed=state.bytes_read, rows=state.rows_read)

            report = await import_leads(
                session_factory,
                campaign.id,
                args.file,
                filename=args.file.name,
                mapping=mapping,
                delimiter=delimiter,
                encoding=args.encoding,
                default_region=region,
                progress=on_progress,
            )
            bar.update(task, completed=args.file.stat().st_size, rows=report.total_rows)
        return report

    report = _run(_database_url(args.url), work)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        _print_report(Console(), report, args.show_invalid)
    return 0 if report.ok else 1


@_command
def export_main(argv: list[str]) -> int:
    """Export a campaign's leads or call attempts as CSV (UTF-8 with BOM) or XLSX."""
    parser = argparse.ArgumentParser(prog="dialer leads export", description=export_main.__doc__)
    parser.add_argument("--campaign", required=True, help="campaign id or name")
    parser.add_argument("--kind", choices=[k.value for k in ExportKind], default="leads")
    parser.add_argument("--format", choices=[f.value for f in ExportFormat])
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--url", help="database URL (default: from settings)")
    args = parser.parse_args(argv)
    fmt = args.format or ("xlsx" if args.output.suffix.lower() == ".xlsx" else "csv")

    async def work(session_factory: SessionFactory) -> int:
        campaign = await _campaign(session_factory, args.campaign)
        return await export_campaign(
            session_factory, campaign.id, args.output, kind=args.kind, fmt=fmt
        )

    rows = _run(_database_url(args.url), work)
    print(f"wrote {rows} {args.kind} to {args.output}")
    return 0


@_command
def campaign_create_main(argv: list[str]) -> int:
    """Create a campaign and print its id."""
    parser = argparse.ArgumentParser(
        prog="dialer campaign create", description=campaign_create_main.__doc__
    )
    parser.add_argument("name")
    parser.add_argument(
        "--mode",
        default="predictive",
        choices=["predictive", "progressive", "ratio", "preview", "manual"],
    )
    parser.add_argument("--target-abandon-rate", type=float, default=0.03)
    parser.add_argument("--ratio", type=float, default=1.5)
    parser.add_argument("--caller-id", action="append", default=[], help="repeatable")
    parser.add_argument("--trunk", default="")
    parser.add_argument("--server", default="", help="Asterisk server name from the settings")
    parser.add_argument("--amd", action="store_true", help="enable answering-machine detection")
    parser.add_argument("--compliance", action="append", help="rule-set id (default: CN)")
    parser.add_argument("--script", default="", help="script text shown to agents")
    parser.add_argument("--active", action="store_true", help="create it active, not draft")
    parser.add_argument("--url", help="database URL (default: from settings)")
    args = parser.parse_args(argv)

    async def work(session_factory: SessionFactory) -> Campaign:
        try:
            return await create_campaign(
                session_factory,
                args.name,
                dial_mode=args.mode,
                status="active" if args.active else "draft",
                pacing={
                    "target_abandon_rate": args.target_abandon_rate,
                    "ratio": args.ratio,
                    "max_lines_per_agent": 3.0,
                },
                caller_id_pool=args.caller_id,
                trunk=args.trunk,
                asterisk_server=args.server,
                amd_enabled=args.amd,
                compliance_profile=args.compliance or ["CN"],
                script_text=args.script,
            )
        except CampaignExists as exc:
            raise CommandError(str(exc)) from None

    campaign = _run(_database_url(args.url), work)
    print(campaign.id)
    return 0


@_command
def campaign_summary_main(argv: list[str]) -> int:
    """Show a campaign's lead counts by status and region, and attempts by disposition."""
    parser = argparse.ArgumentParser(
        prog="dialer campaign summary", description=campaign_summary_main.__doc__
    )
    parser.add_argument("campaign", help="campaign id or name")
    parser.add_argument("--url", help="database URL (default: from settings)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    async def work(session_factory: SessionFactory) -> CampaignSummary:
        campaign = await _campaign(session_factory, args.campaign)
        return await campaign_summary(session_factory, campaign.id)

    summary = _run(_database_url(args.url), work)
    if args.json:
        print(json.dumps(asdict(summary), ensure_ascii=False, indent=2))
        return 0
    console = Console()
    console.print(
        f"[bold]campaign {summary.campaign_id}[/bold] {summary.name} "
        f"({summary.dial_mode}, {summary.status}): {summary.leads_total} leads "
        f"in {summary.lead_lists} lists, {summary.attempts_total} attempts"
    )
    for title, counts in (
        ("leads by status", summary.leads_by_status),
        ("leads by region", summary.leads_by_region),
        ("attempts by disposition", summary.attempts_by_disposition),
    ):
        if not counts:
            continue
        table = Table(title=title, title_justify="left")
        table.add_column("value")
        table.add_column("count", justify="right")
        for value, count in sorted(counts.items(), key=lambda kv: -kv[1]):
            table.add_row(value or "-", f"{count:,}")
        console.print(table)
    return 0
