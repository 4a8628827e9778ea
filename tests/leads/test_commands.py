"""The `dialer` commands of this part, run in-process on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dialer.cli import main as dialer
from dialer.leads.sample import write_sample_leads


def test_full_cycle(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leads_file = tmp_path / "名单.csv"
    stats = write_sample_leads(
        leads_file, 400, seed=3, invalid_fraction=0.1, duplicate_fraction=0.05
    )
    url = ["--url", db_url]

    assert dialer(["leads", "import", str(leads_file), "--campaign", "1", *url]) == 1
    assert "dialer migrate" in capsys.readouterr().err

    assert dialer(["migrate", *url]) == 0
    assert "revision 0003" in capsys.readouterr().out
    assert dialer(["campaign", "create", "春季回访", "--mode", "progressive", *url]) == 0
    assert capsys.readouterr().out.strip() == "1"
    assert dialer(["campaign", "create", "春季回访", *url]) == 1
    assert "exists already" in capsys.readouterr().err

    assert (
        dialer(["leads", "import", str(leads_file), "--campaign", "春季回访", "--json", *url]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == 400 - stats.invalid - stats.duplicates
    assert report["invalid"] == stats.invalid and report["ok"] is True

    assert dialer(["leads", "import", str(leads_file), "--campaign", "1", *url]) == 0
    out = capsys.readouterr().out
    assert f"duplicates: 0 in file, {400 - stats.invalid} already in campaign" in out
    assert "rows/s" in out and "first invalid rows" in out

    assert dialer(["campaign", "summary", "1", "--json", *url]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["leads_total"] == report["imported"] and summary["lead_lists"] == 2
    assert summary["dial_mode"] == "progressive"
    assert dialer(["campaign", "summary", "春季回访", *url]) == 0
    assert "leads by status" in capsys.readouterr().out

    exported = tmp_path / "out.xlsx"
    assert dialer(["leads", "export", "--campaign", "1", "-o", str(exported), *url]) == 0
    assert f"wrote {report['imported']} leads" in capsys.readouterr().out
    assert exported.read_bytes()[:2] == b"PK"

    assert dialer(["campaign", "summary", "没有这个", *url]) == 1
    assert "no campaign" in capsys.readouterr().err


def test_import_reports_bad_file(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,城市\n张伟,上海\n", encoding="utf-8")
    assert dialer(["migrate", "--url", sqlite_url]) == 0
    assert dialer(["campaign", "create", "c", "--url", sqlite_url]) == 0
    capsys.readouterr()
    assert dialer(["leads", "import", str(bad), "--campaign", "c", "--url", sqlite_url]) == 1
    out = capsys.readouterr().out
    assert "no phone number column found" in out and "'姓名'" in out
    args = ["leads", "import", str(bad), "--campaign", "c", "--url", sqlite_url, "--map", "x"]
    assert dialer(args) == 1
    assert "HEADER=FIELD" in capsys.readouterr().err


def test_migrate_creates_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALER_DATA_DIR", str(tmp_path / "fresh" / "data"))
    monkeypatch.delenv("DIALER_DATABASE_URL", raising=False)
    assert dialer(["migrate"]) == 0
    assert (tmp_path / "fresh" / "data" / "dialer.db").is_file()
