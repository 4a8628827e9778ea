"""`dialer bench agi` runs end to end on a few sessions (numbers are not checked here)."""

from __future__ import annotations

import pytest

from agi.bench import main


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
