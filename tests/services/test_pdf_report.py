"""The daily campaign report: its numbers, and the PDF rendered from them (pages read back)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dialer.db.engine import SessionFactory
from dialer.db.models import Agent, Campaign
from dialer.runtime.pause_log import pause_op
from dialer.services.errors import NotFound
from dialer.services.pdf_reports import daily_report, render_daily_pdf
from tests.services.seed import at, seed_campaign

DAY = date(2026, 3, 2)  # the seed's calls are at 17:10-18:20 in Shanghai that day
ZONE = "Asia/Shanghai"
GENERATED = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)


async def _seed(session_factory: SessionFactory) -> tuple[int, int]:
    cid, aid = await seed_campaign(session_factory)
    async with session_factory() as s, s.begin():
        campaign = await s.get(Campaign, cid)
        assert campaign is not None
        campaign.pacing = {"agent_daily_cap": 40}
        campaign.compliance_profile = ["CN"]
        agent = await s.scalar(
            select(Agent).where(Agent.id == aid).options(selectinload(Agent.campaigns))
        )
        assert agent is not None
        agent.campaigns.append(campaign)
        idle = Agent(extension="2002", name="Idle")  # assigned, no calls that day
        idle.campaigns = [campaign]
        s.add(idle)
        for reason, start, minutes in (("break", at(9, 40), 15), ("lunch", at(4, 0), 60)):
            end = start + timedelta(minutes=minutes)
            await pause_op(aid, "2001", reason, start, end, minutes * 60.0)(s)
        # a pause that ended the day before is not this day's
        yesterday = at(4, 0) - timedelta(days=1)
        await pause_op(aid, "2001", "break", yesterday, yesterday, 999.0)(s)
    return cid, aid


async def test_daily_report_numbers(session_factory: SessionFactory) -> None:
    cid, aid = await _seed(session_factory)
    report = await daily_report(session_factory, cid, DAY, ZONE, generated_at=GENERATED)
    s = report.summary
    assert (s["dials"], s["answered"], s["live_answers"], s["abandoned"]) == (5, 4, 3, 1)
    assert (s["connect_rate"], s["conversions"], s["talk_seconds"]) == (0.8, 1, 180.0)
    assert [(h["hour"], h["dials"], h["live_answers"]) for h in report.hourly] == [
        ("17:00", 3, 3),
        ("18:00", 2, 0),
    ]
    assert report.abandon_limit == 0.03
    windows = {w["window"]: w for w in report.abandonment}
    assert windows["calendar day 2026-03-02"]["rate"] == 0.3333
    assert windows["rolling 30 days to the day's end"]["abandoned"] == 1
    assert windows["hour 17:00"]["live_answers"] == 3
    assert {d["code"]: d["count"] for d in report.dispositions}["SALE"] == 1
    by_ext = {a["extension"]: a for a in report.agents}
    me = by_ext["2001"]
    assert (me["agent_id"], me["calls"], me["daily_cap"], me["cap_used"]) == (aid, 2, 40, 0.05)
    assert (me["talk_seconds"], me["wrap_seconds"]) == (180.0, 45.0)
    assert me["pauses"] == {"break": 900.0, "lunch": 3600.0}
    assert me["pause_seconds"] == 4500.0
    assert (by_ext["2002"]["calls"], by_ext["2002"]["pauses"]) == (0, {})
    assert report.pause_reasons == ["break", "lunch"]


async def test_daily_pdf_pages_and_text(session_factory: SessionFactory) -> None:
    cid, _ = await _seed(session_factory)
    report = await daily_report(session_factory, cid, DAY, ZONE, generated_at=GENERATED)
    pdf = render_daily_pdf(report)
    assert pdf.startswith(b"%PDF-")
    assert render_daily_pdf(report) == pdf  # same numbers, same bytes
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3
    assert reader.metadata is not None
    assert reader.metadata.title == "Daily report: report (2026-03-02)"
    first, second, third = (page.extract_text() for page in reader.pages)
    for text in (
        "Daily campaign report",
        "Key figures",
        "Connect rate",
        "80.0%",
        "Live answers",
        "Abandonment rate",
        "33.3%",
        "Talk time",
        "0:03:00",
        "Conversion rate",
        "Abandonment per window",
        "rolling 30 days",
        "Dials and live answers per hour",
        "Abandonment rate per hour (limit 3.0%)",
    ):
        assert text in first, text
    assert "Dispositions" in second and "SALE" in second and "20.0%" in second
    for text in ("Agent performance", "Daily cap", "break 0:15:00", "lunch 1:00:00", "5.0%"):
        assert text in third, text
    assert "Idle" in third


async def test_unknown_campaign(session_factory: SessionFactory) -> None:
    with pytest.raises(NotFound):
        await daily_report(session_factory, 999, DAY, ZONE)
