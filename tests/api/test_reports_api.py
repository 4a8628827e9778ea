"""Reports over HTTP in JSON, CSV and XLSX; exports are audited."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from dialer.db.models import AuditLog
from tests.api.conftest import Harness
from tests.services.seed import seed_campaign


async def test_report_formats(harness: Harness) -> None:
    cid, _ = await seed_campaign(harness.session_factory)
    url = f"/v1/reports/campaigns/{cid}/summary"
    as_json = await harness.client.get(url, headers=harness.supervisor)
    assert as_json.json()["rows"][0]["abandon_rate"] == 0.3333
    as_csv = await harness.client.get(url, params={"format": "csv"}, headers=harness.supervisor)
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = as_csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("campaign_id,campaign,dials,answered")
    assert lines[1].startswith(f"{cid},report,5,4,0.8,3,1,0.3333")
    as_xlsx = await harness.client.get(
        f"/v1/reports/campaigns/{cid}/dispositions",
        params={"format": "xlsx"},
        headers=harness.supervisor,
    )
    assert as_xlsx.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("code", "label", "count", "share")
    assert len(rows) == 6
    async with harness.session_factory() as session:
        exports = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action == "report.export").order_by(AuditLog.id)
            )
        )
    assert [e.detail["format"] for e in exports] == ["csv", "xlsx"]  # JSON reads are not exports
    assert exports[0].actor == "sup"


async def test_other_reports_and_errors(harness: Harness) -> None:
    cid, _ = await seed_campaign(harness.session_factory)
    h = harness.supervisor
    for path in ("hourly", "blocked"):
        r = await harness.client.get(f"/v1/reports/campaigns/{cid}/{path}", headers=h)
        assert r.status_code == 200 and r.json()["rows"]
    agents = await harness.client.get("/v1/reports/agents", params={"format": "csv"}, headers=h)
    assert "王五" in agents.content.decode("utf-8-sig")
    assert (
        await harness.client.get("/v1/reports/campaigns/99999/summary", headers=h)
    ).status_code == 404
    bad = await harness.client.get(
        f"/v1/reports/campaigns/{cid}/summary", params={"format": "pdf"}, headers=h
    )
    assert bad.status_code == 422
    assert (
        await harness.client.get("/v1/reports/agents", headers=harness.agent)
    ).status_code == 403
