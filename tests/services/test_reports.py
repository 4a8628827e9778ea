"""Report numbers on seeded attempts, checked against hand-worked values."""

from __future__ import annotations

import pytest

from dialer.db.engine import SessionFactory
from dialer.services import reports
from dialer.services.errors import NotFound
from tests.services.seed import at, seed_campaign


async def test_campaign_summary(session_factory: SessionFactory) -> None:
    cid, _ = await seed_campaign(session_factory)
    [row] = await reports.campaign_summary(session_factory, cid)
    assert row["dials"] == 5  # the cancelled attempt is not a dial
    assert row["answered"] == 4
    assert row["connect_rate"] == 0.8
    assert row["live_answers"] == 3
    assert row["abandoned"] == 1
    assert row["abandon_rate"] == 0.3333  # abandoned / live answers
    assert row["talk_seconds"] == 180.0
    assert row["avg_talk_seconds"] == 90.0
    assert row["conversions"] == 1
    assert row["conversion_rate"] == 0.3333


async def test_summary_window(session_factory: SessionFactory) -> None:
    cid, _ = await seed_campaign(session_factory)
    [row] = await reports.campaign_summary(session_factory, cid, since=at(10, 0))
    assert (row["dials"], row["live_answers"], row["abandon_rate"]) == (2, 0, 0.0)


async def test_hourly(session_factory: SessionFactory) -> None:
    cid, _ = await seed_campaign(session_factory)
    rows = await reports.hourly(session_factory, cid)
    assert [(r["hour"][11:16], r["dials"], r["live_answers"], r["abandoned"]) for r in rows] == [
        ("09:00", 3, 3, 1),
        ("10:00", 2, 0, 0),
    ]


async def test_dispositions(session_factory: SessionFactory) -> None:
    cid, _ = await seed_campaign(session_factory)
    rows = await reports.dispositions(session_factory, cid)
    assert {r["code"]: (r["count"], r["share"]) for r in rows} == {
        code: (1, 0.2) for code in ("SALE", "NOT_NOW", "ABANDONED", "NA", "MACHINE")
    }
    assert next(r for r in rows if r["code"] == "SALE")["label"] == "成交"


async def test_agent_performance(session_factory: SessionFactory) -> None:
    cid, aid = await seed_campaign(session_factory)
    [row] = await reports.agent_performance(session_factory, cid, daily_cap=4)
    assert row["agent_id"] == aid
    assert (row["calls"], row["talk_seconds"], row["wrap_seconds"]) == (2, 180.0, 45)
    assert (row["calls_per_day"], row["cap_used"]) == (2.0, 0.5)


async def test_blocked_by_rule(session_factory: SessionFactory) -> None:
    cid, _ = await seed_campaign(session_factory)
    rows = await reports.blocked_by_rule(session_factory, cid)
    assert rows == [
        {"rule": "CN.hours", "blocked": 2, "share": 1.0},
        {"rule": "DNC.company", "blocked": 1, "share": 0.5},
    ]


async def test_unknown_campaign(session_factory: SessionFactory) -> None:
    with pytest.raises(NotFound):
        await reports.campaign_summary(session_factory, 987654)
