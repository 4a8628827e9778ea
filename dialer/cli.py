"""The `dialer` command. Each subcommand lives in its own module with `main(argv) -> int`;
this file only dispatches, so parts can grow their commands independently."""

from __future__ import annotations

import importlib
import sys

# command words -> "module:function" taking the remaining argv
COMMANDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("migrate",): ("dialer.db.migrate:main", "apply database migrations (Alembic)"),
    ("leads", "import"): ("dialer.leads.commands:import_main", "import a CSV/XLSX lead file"),
    ("leads", "export"): ("dialer.leads.commands:export_main", "export leads or attempts"),
    ("campaign", "create"): ("dialer.leads.commands:campaign_create_main", "create a campaign"),
    ("campaign", "summary"): ("dialer.leads.commands:campaign_summary_main", "campaign summary"),
    ("users", "create"): ("dialer.services.user_commands:create_main", "create an API user"),
    ("recordings", "purge"): (
        "dialer.services.recording_commands:purge_main",
        "delete recordings past their campaign's retention",
    ),
    ("demo",): ("dialer.demo:main", "run the demo: SQLite, simulated PBX, sample campaign"),
    ("run",): ("dialer.service:main", "run the dialer service against configured Asterisks"),
    ("pbxsim",): ("pbxsim.__main__:main", "run the simulated Asterisk standalone"),
    ("bench", "pacing"): ("pacing.bench:main", "pacing policies on the simulator"),
    ("bench", "pacing-speed"): ("pacing.microbench:main", "calls_to_place timing"),
    ("bench", "import"): ("dialer.bench.import_leads:main", "1M-row lead import"),
    ("bench", "ami"): ("ami.bench:main", "AMI events/s over a real socket"),
    ("bench", "agi"): ("agi.bench:main", "AGI decision latency"),
    ("bench", "compliance"): ("compliance.bench:main", "compliance checks/s"),
    ("bench", "runtime"): ("dialer.bench.runtime:main", "runtime load on the simulated PBX"),
}


def _usage() -> str:
    lines = ["usage: dialer COMMAND [ARGS...]", "", "commands:"]
    for words, (_, help_text) in COMMANDS.items():
        lines.append(f"  {' '.join(words):<18} {help_text}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    for n in (2, 1):
        key = tuple(args[:n])
        if key in COMMANDS:
            target = COMMANDS[key][0]
            module_name, func_name = target.split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name and module_name.startswith(exc.name):
                    name = " ".join(key)
                    print(f"dialer: '{name}' is not available in this build", file=sys.stderr)
                    return 2
                raise
            result = getattr(module, func_name)(args[n:])
            return int(result or 0)
    print(f"dialer: unknown command {' '.join(args[:2])!r}\n\n{_usage()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
