"""The benchmark command runs end to end on a small batch and prints its table."""

from __future__ import annotations

import pytest

from compliance import bench


def test_bench_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--checks", "300", "--no-pin"]) == 0
    out = capsys.readouterr().out
    assert "checks/s" in out
    assert "jurisdiction pre-resolved" in out


def test_bench_requests_are_seeded_and_mixed() -> None:
    first = bench.build_requests(200, seed=3)
    assert first == bench.build_requests(200, seed=3)
    prefixes = {r.number[:3] for r in first}
    assert {"+86", "+12", "+13", "+44"} & prefixes
    assert any(r.history for r in first) and any(not r.history for r in first)
