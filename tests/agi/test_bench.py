"""`dialer bench agi` runs end to end on a few sessions (numbers are not checked here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from agi.bench import main

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("mode", [[], ["--same-process"]])
def test_bench_prints_the_latency_table(
    mode: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--sessions", "30", "--concurrency", "5", *mode]) == 0
    out = capsys.readouterr().out
    assert "p50 ms" in out and "p99 ms" in out
    assert "sessions/s" in out and "failures 0" in out


def test_bench_paced_arrivals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sessions", "10", "--rate", "500", "--same-process"]) == 0
    assert "500 new/s" in capsys.readouterr().out


def test_runs_as_a_module() -> None:
    """`python -m agi.bench` is the documented entry point beside `dialer bench agi`."""
    done = subprocess.run(
        [sys.executable, "-m", "agi.bench", "--sessions", "20", "--same-process"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"server: env end -> DIALER_ACTION set\s*│\s*[\d.]+\s*│\s*[\d.]+", done.stdout)
    assert "failures 0" in done.stdout
