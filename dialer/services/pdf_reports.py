"""The daily campaign report as a PDF: KPIs, abandonment per window, hourly and disposition
charts, and the agent performance table (calls against the daily cap, talk, wrap, pauses by
reason).

`daily_report` gathers the numbers (the same stored data and formulas as the CSV/XLSX
reports in `dialer.services.reports`); `render_daily_pdf` draws them with ReportLab (its own
charts: no plotting stack needed). The day is the call centre's calendar day.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from compliance.rules import AbandonRateRule, AgentDailyCapRule
from compliance.rulesets import default_rulesets
from dialer.db.engine import SessionFactory
from dialer.db.models import Agent, AuditLog, Campaign
from dialer.runtime.pause_log import PAUSE_ACTION
from dialer.services import reports
from dialer.services.errors import NotFound

Row = dict[str, Any]

CJK_FONT = "STSong-Light"  # one of ReportLab's built-in Asian fonts: no font file needed
pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


@dataclass
class DailyReport:
    campaign_id: int
    campaign: str
    day: date
    zone: str
    generated_at: datetime
    summary: Row
    hourly: list[Row]  # local hour label, dials, live answers, abandons, abandon rate
    dispositions: list[Row]
    abandonment: list[Row]  # window, live answers, abandoned, rate, limit
    abandon_limit: float
    agents: list[Row]
    pause_reasons: list[str] = field(default_factory=list)


def _day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    start = datetime.combine(day, datetime.min.time(), tz)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)


def _ruleset_values(campaign: Campaign, kind: type, attr: str) -> list[float]:
    known = default_rulesets()
    values = []
    for name in campaign.compliance_profile or ():
        ruleset = known.get(name)
        for rule in ruleset.rules if ruleset else ():
            if isinstance(rule, kind):
                values.append(getattr(rule, attr))
    return values


def abandon_limit(campaign: Campaign) -> float:
    """The strictest abandonment limit of the campaign's rule sets, else its pacing target."""
    limits = _ruleset_values(campaign, AbandonRateRule, "max_rate")
    if limits:
        return float(min(limits))
    return float((campaign.pacing or {}).get("target_abandon_rate") or 0.03)


def agent_daily_cap(agent: Agent) -> int | None:
    """The cap the dialer applies to the agent: the smallest `pacing.agent_daily_cap` of its
    campaigns, else the smallest cap their rule sets set (CN: 200), else none."""
    caps = [c.pacing.get("agent_daily_cap") for c in agent.campaigns if c.pacing]
    explicit = [int(c) for c in caps if c]
    if explicit:
        return min(explicit)
    by_rules = [
        cap for c in agent.campaigns for cap in _ruleset_values(c, AgentDailyCapRule, "cap")
    ]
    return int(min(by_rules)) if by_rules else None


async def _pauses(
    session_factory: SessionFactory, since: datetime, until: datetime
) -> dict[int, dict[str, float]]:
    """Seconds paused per agent and reason, for pauses that ended in the window."""
    totals: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    async with session_factory() as session:
        rows = await session.scalars(
            select(AuditLog).where(
                AuditLog.action == PAUSE_ACTION, AuditLog.at >= since, AuditLog.at < until
            )
        )
        for row in rows:
            try:
                agent_id = int(row.object_id)
                seconds = float(row.detail.get("seconds") or 0.0)
            except (TypeError, ValueError):
                continue
            totals[agent_id][str(row.detail.get("reason") or "(none)")] += seconds
    return totals


async def daily_report(
    session_factory: SessionFactory,
    campaign_id: int,
    day: date,
    zone: str,
    *,
    generated_at: datetime | None = None,
) -> DailyReport:
    async with session_factory() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id}")
        assigned = list(
            await session.scalars(
                select(Agent)
                .where(Agent.campaigns.any(Campaign.id == campaign_id))
                .options(selectinload(Agent.campaigns))
                .order_by(Agent.extension)
            )
        )
    since, until = _day_bounds(day, zone)
    summary = (await reports.campaign_summary(session_factory, campaign_id, since, until))[0]
    rolling = (
        await reports.campaign_summary(
            session_factory, campaign_id, until - timedelta(days=30), until
        )
    )[0]
    limit = abandon_limit(campaign)
    tz = ZoneInfo(zone)
    hourly = []
    for row in await reports.hourly(session_factory, campaign_id, since, until):
        hour = datetime.fromisoformat(row["hour"])
        hour = hour if hour.tzinfo else hour.replace(tzinfo=UTC)
        hourly.append(
            {
                "hour": hour.astimezone(tz).strftime("%H:%M"),
                "dials": row["dials"],
                "live_answers": row["live_answers"],
                "abandoned": row["abandoned"],
                "abandon_rate": row["abandon_rate"],
            }
        )
    abandonment = [
        {
            "window": f"calendar day {day.isoformat()}",
            "live_answers": summary["live_answers"],
            "abandoned": summary["abandoned"],
            "rate": summary["abandon_rate"],
            "limit": limit,
        },
        {
            "window": "rolling 30 days to the day's end",
            "live_answers": rolling["live_answers"],
            "abandoned": rolling["abandoned"],
            "rate": rolling["abandon_rate"],
            "limit": limit,
        },
    ]
    abandonment += [
        {
            "window": f"hour {h['hour']}",
            "live_answers": h["live_answers"],
            "abandoned": h["abandoned"],
            "rate": h["abandon_rate"],
            "limit": limit,
        }
        for h in hourly
        if h["live_answers"]
    ]
    dispositions = await reports.dispositions(session_factory, campaign_id, since, until)
    performance = {
        r["agent_id"]: r
        for r in await reports.agent_performance(session_factory, campaign_id, since, until)
    }
    pauses = await _pauses(session_factory, since, until)
    agents_by_id = {a.id: a for a in assigned}
    missing = [aid for aid in performance if aid not in agents_by_id]
    if missing:
        async with session_factory() as session:
            for agent in await session.scalars(
                select(Agent).where(Agent.id.in_(missing)).options(selectinload(Agent.campaigns))
            ):
                agents_by_id[agent.id] = agent
    agents = []
    for agent in sorted(agents_by_id.values(), key=lambda a: a.extension):
        perf = performance.get(agent.id, {})
        cap = agent_daily_cap(agent)
        calls = int(perf.get("calls", 0))
        paused = dict(sorted(pauses.get(agent.id, {}).items()))
        agents.append(
            {
                "agent_id": agent.id,
                "extension": agent.extension,
                "name": agent.name,
                "calls": calls,
                "daily_cap": cap,
                "cap_used": round(calls / cap, 4) if cap else None,
                "talk_seconds": float(perf.get("talk_seconds", 0.0)),
                "wrap_seconds": float(perf.get("wrap_seconds", 0)),
                "pauses": paused,
                "pause_seconds": round(sum(paused.values()), 1),
            }
        )
    reasons = sorted({reason for a in agents for reason in a["pauses"]})
    return DailyReport(
        campaign_id=campaign.id,
        campaign=campaign.name,
        day=day,
        zone=zone,
        generated_at=generated_at or datetime.now(UTC),
        summary=summary,
        hourly=hourly,
        dispositions=dispositions,
        abandonment=abandonment,
        abandon_limit=limit,
        agents=agents,
        pause_reasons=reasons,
    )


# ------------------------------------------------------------------------ rendering

ACCENT = colors.HexColor("#1f4e79")
LIGHT = colors.HexColor("#e8eef5")
SERIES = (colors.HexColor("#1f77b4"), colors.HexColor("#2ca02c"), colors.HexColor("#d62728"))


def _hms(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


class _Styles:
    def __init__(self) -> None:
        base = getSampleStyleSheet()
        self.title = base["Title"]
        self.h2 = ParagraphStyle("h2", parent=base["Heading2"], textColor=ACCENT, spaceBefore=8)
        self.body = ParagraphStyle("body", parent=base["BodyText"], fontSize=9, leading=11)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=7.5, leading=9)
        self.num = ParagraphStyle("num", parent=self.body, alignment=TA_RIGHT)
        self.cjk = {
            id(s): ParagraphStyle(f"{s.name}-cjk", parent=s, fontName=CJK_FONT)
            for s in (self.title, self.h2, self.body, self.small, self.num)
        }

    def p(self, text: Any, style: ParagraphStyle | None = None) -> Paragraph:
        """A paragraph, in the CJK font when the text needs it (campaign and agent names)."""
        style = style or self.body
        text = str(text)
        if any(ord(ch) > 0x2E7F for ch in text):
            style = self.cjk[id(style)]
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Paragraph(escaped, style)


def _table(rows: list[list[Any]], widths: list[float], numeric_from: int = 1) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, LIGHT]),
                ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0bec5")),
            ]
        )
    )
    return table


def _count_axis(chart: Any, top: int) -> None:
    """Whole-number ticks from 0 for a chart of counts."""
    step = max(1, math.ceil(top / 5))
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(step, math.ceil(top / step) * step)
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d"


def _hourly_chart(report: DailyReport, width: float) -> Drawing:
    drawing = Drawing(width, 190)
    drawing.add(String(0, 178, "Dials and live answers per hour", fontSize=10, fillColor=ACCENT))
    hours = report.hourly or [{"hour": "-", "dials": 0, "live_answers": 0}]
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 35, 30, width - 140, 135
    chart.data = [[h["dials"] for h in hours], [h["live_answers"] for h in hours]]
    chart.categoryAxis.categoryNames = [h["hour"] for h in hours]
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 45 if len(hours) > 8 else 0
    chart.categoryAxis.labels.dy = -8 if len(hours) > 8 else -2
    _count_axis(chart, max(h["dials"] for h in hours))
    chart.bars[0].fillColor, chart.bars[1].fillColor = SERIES[0], SERIES[1]
    chart.barSpacing = 1
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 95, 150
    legend.fontSize = 8
    legend.colorNamePairs = [(SERIES[0], "dials"), (SERIES[1], "live answers")]
    drawing.add(legend)
    return drawing


def _abandon_chart(report: DailyReport, width: float) -> Drawing:
    drawing = Drawing(width, 170)
    title = f"Abandonment rate per hour (limit {_pct(report.abandon_limit)})"
    drawing.add(String(0, 158, title, fontSize=10, fillColor=ACCENT))
    hours = report.hourly or [{"hour": "-", "abandon_rate": 0.0}]
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 35, 30, width - 140, 115
    chart.data = [[h["abandon_rate"] * 100 for h in hours]]
    chart.categoryAxis.categoryNames = [h["hour"] for h in hours]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(
        [report.abandon_limit * 100 * 1.5, *[h["abandon_rate"] * 100 * 1.1 for h in hours]]
    )
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%.1f%%"
    chart.bars[0].fillColor = SERIES[2]
    drawing.add(chart)
    return drawing


def _disposition_chart(report: DailyReport, width: float) -> Drawing:
    rows = report.dispositions[:12] or [{"code": "-", "count": 0}]
    height = 40 + 14 * len(rows)
    drawing = Drawing(width, height + 20)
    drawing.add(String(0, height + 8, "Dispositions", fontSize=10, fillColor=ACCENT))
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 90, 15, width - 130, height - 20
    chart.data = [[r["count"] for r in reversed(rows)]]
    chart.categoryAxis.categoryNames = [str(r["code"]) for r in reversed(rows)]
    chart.categoryAxis.labels.fontSize = 7
    _count_axis(chart, max(r["count"] for r in rows))
    chart.bars[0].fillColor = SERIES[0]
    drawing.add(chart)
    return drawing


def render_daily_pdf(report: DailyReport) -> bytes:
    """The report as PDF bytes (same numbers in, same bytes out: no timestamps of its own)."""
    styles = _Styles()
    buffer = io.BytesIO()
    title = f"Daily report: {report.campaign} ({report.day.isoformat()})"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author="Predictive dialer",
        invariant=True,
    )
    width = doc.width
    s = report.summary
    story: list[Any] = [
        styles.p(f"Daily campaign report: {report.campaign}", styles.title),
        styles.p(
            f"Campaign {report.campaign_id} - {report.day.isoformat()} ({report.zone}) - "
            f"generated {report.generated_at:%Y-%m-%d %H:%M} UTC",
            styles.small,
        ),
        Spacer(1, 4 * mm),
        styles.p("Key figures", styles.h2),
    ]
    kpis = [
        ("Dials", f"{s['dials']}", "Connect rate", _pct(s["connect_rate"])),
        ("Answered", f"{s['answered']}", "Live answers", f"{s['live_answers']}"),
        ("Connected to agent", f"{s['connected_to_agent']}", "Abandoned", f"{s['abandoned']}"),
        (
            "Abandonment rate",
            _pct(s["abandon_rate"]),
            "Abandonment limit",
            _pct(report.abandon_limit),
        ),
        ("Talk time", _hms(s["talk_seconds"]), "Average talk", _hms(s["avg_talk_seconds"])),
        ("Conversions", f"{s['conversions']}", "Conversion rate", _pct(s["conversion_rate"])),
    ]
    kpi_table = Table(
        [["Figure", "Value", "Figure", "Value"], *[list(k) for k in kpis]],
        colWidths=[width * 0.3, width * 0.2, width * 0.3, width * 0.2],
    )
    kpi_table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (1, 1), (1, -1), "Helvetica-Bold"),
                ("FONTNAME", (3, 1), (3, -1), "Helvetica-Bold"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, LIGHT]),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("ALIGN", (3, 0), (3, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0bec5")),
            ]
        )
    )
    story += [kpi_table, Spacer(1, 4 * mm), styles.p("Abandonment per window", styles.h2)]
    rows: list[list[Any]] = [["Window", "Live answers", "Abandoned", "Rate", "Limit", "Status"]]
    for w in report.abandonment:
        status = "over" if w["rate"] > w["limit"] else "ok"
        rows.append(
            [
                w["window"],
                w["live_answers"],
                w["abandoned"],
                _pct(w["rate"]),
                _pct(w["limit"]),
                status,
            ]
        )
    story.append(_table(rows, [width * f for f in (0.36, 0.14, 0.13, 0.12, 0.12, 0.13)]))
    story += [
        Spacer(1, 4 * mm),
        KeepTogether([_hourly_chart(report, width)]),
        KeepTogether([_abandon_chart(report, width)]),
        PageBreak(),
        styles.p("Dispositions", styles.h2),
    ]
    rows = [["Code", "Label", "Calls", "Share"]]
    for d in report.dispositions:
        rows.append([d["code"], styles.p(d["label"] or ""), d["count"], _pct(d["share"])])
    story += [
        _table(rows, [width * f for f in (0.25, 0.45, 0.15, 0.15)], numeric_from=2),
        Spacer(1, 3 * mm),
        KeepTogether([_disposition_chart(report, width)]),
        PageBreak(),
        styles.p("Agent performance", styles.h2),
        styles.p(
            "Calls connected to each agent in this campaign against the agent's daily cap; talk "
            "time in this campaign; wrap-up time (all campaigns) and pauses by reason that day.",
            styles.small,
        ),
        Spacer(1, 2 * mm),
    ]
    rows = [["Agent", "Calls", "Daily cap", "Cap used", "Talk", "Wrap", "Pauses by reason"]]
    for a in report.agents:
        pauses = ", ".join(f"{r} {_hms(sec)}" for r, sec in a["pauses"].items()) or "-"
        if a["pauses"]:
            pauses += f" (total {_hms(a['pause_seconds'])})"
        rows.append(
            [
                styles.p(f"{a['extension']} {a['name']}".strip()),
                a["calls"],
                a["daily_cap"] if a["daily_cap"] is not None else "-",
                _pct(a["cap_used"]),
                _hms(a["talk_seconds"]),
                _hms(a["wrap_seconds"]),
                styles.p(pauses, styles.small),
            ]
        )
    if len(rows) == 1:
        rows.append(["no agents", "", "", "", "", "", ""])
    story.append(
        _table(rows, [width * f for f in (0.2, 0.08, 0.1, 0.1, 0.11, 0.11, 0.3)], numeric_from=1)
    )

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(
            doc.leftMargin,
            8 * mm,
            f"Campaign {report.campaign_id} - {report.day.isoformat()} - page {document.page}",
        )
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
