"""Reading recorded traffic, and a smoke run of `dialer bench ami` (correctness, not speed)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ami import bench
from ami.recordings import read_recording, received_ami_lines, wire_bytes


def test_recording_lines_keep_direction_and_exact_text(tmp_path: Path) -> None:
    path = tmp_path / "99-sample.txt"
    path.write_text(
        "    0.001 AMI< Action: Ping\n"
        "    0.001 AMI< \n"
        "    0.002 AMI> Response: Success\n"
        "    0.002 AMI> AccountCode: \n"
        "    0.002 AMI> \n"
        "    0.003 AGI> agi_network: yes\n"
        "    0.004 AMI> <EOF>\n",
        encoding="utf-8",
    )
    lines = read_recording(path)
    assert [(line.direction, line.text) for line in lines][:2] == [
        ("AMI<", "Action: Ping"),
        ("AMI<", ""),
    ]
    assert received_ami_lines(path) == ["Response: Success", "AccountCode: ", ""]
    assert wire_bytes(received_ami_lines(path)) == (b"Response: Success\r\nAccountCode: \r\n\r\n")


def test_a_line_that_is_not_traffic_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "98-bad.txt"
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"98-bad\.txt:1"):
        read_recording(path)


def test_bench_runs_end_to_end_and_prints_its_table(
    transcripts_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = bench.main(["--transcripts", str(transcripts_dir), "--repeat", "2", "--goal", "0"])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"events dispatched\s+1,014\n", out)  # 507 recorded events, sent twice
    assert "events/s per CPU-second" in out


def test_bench_without_recordings_says_so(tmp_path: Path) -> None:
    assert bench.main(["--transcripts", str(tmp_path)]) == 2


def test_bench_runs_as_a_module(transcripts_dir: Path) -> None:
    """`python -m ami.bench` is the documented entry point beside `dialer bench ami`."""
    command = ["-m", "ami.bench", "--transcripts", str(transcripts_dir), "--repeat", "1"]
    done = subprocess.run(
        [sys.executable, *command, "--goal", "0"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"events dispatched\s+507\n", done.stdout)
    assert re.search(r"events/s per CPU-second\s+[\d,]+\n", done.stdout)
