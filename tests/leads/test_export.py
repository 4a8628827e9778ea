"""Export of leads and attempts (CSV with BOM, XLSX), and re-import of an export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from dialer.db.models import CallAttempt
from dialer.db.types import utcnow
from dialer.leads.campaigns import create_campaign
from dialer.leads.export import export_campaign
from dialer.leads.importer import import_leads
from tests.leads.helpers import campaign_db

SOURCE = (
    "手机号,姓名,城市,备注,优先级\n"
    '13812345678,张伟,上海,"含,逗号",2\n'
    "+86 139 1234 5678,王芳,北京,,0\n"
    '18600001234,李娜,,"多行\n备注",1\n'
).encode()


async def test_csv_export_has_bom_and_round_trips(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        await import_leads(
            db.session_factory,
            db.campaign_id,
            io.BytesIO(SOURCE),
            filename="a.csv",
            default_region="CN",
        )
        buffer = io.BytesIO()
        rows = await export_campaign(db.session_factory, db.campaign_id, buffer)
        assert rows == 3
        data = buffer.getvalue()
        assert data.startswith(b"\xef\xbb\xbf")
        table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert [row["phone"] for row in table] == [
            "+8613812345678",
            "+8613912345678",
            "+8618600001234",
        ]
        assert table[0]["备注"] == "含,逗号" and table[2]["备注"] == "多行\n备注"
        assert table[0]["#status"] == "new" and table[0]["#timezones"] == "Asia/Shanghai"

        # The export imports back into another campaign as the same leads.
        other = await create_campaign(db.session_factory, f"复制-{db.campaign_id}")
        report = await import_leads(
            db.session_factory,
            other.id,
            io.BytesIO(data),
            filename="export.csv",
            default_region="CN",
        )
        assert report.ok and report.imported == 3, report.error
        assert all(v == "ignored" for k, v in report.columns.items() if k.startswith("#"))
        original = await db.leads()
        copied = await db.leads(other.id)
    key = lambda lead: (lead.phone_e164, lead.name, lead.priority, lead.custom_fields)  # noqa: E731
    assert [key(lead) for lead in copied] == [key(lead) for lead in original]


async def test_xlsx_export_round_trips(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        await import_leads(
            db.session_factory,
            db.campaign_id,
            io.BytesIO(SOURCE),
            filename="a.csv",
            default_region="CN",
        )
        buffer = io.BytesIO()
        assert await export_campaign(db.session_factory, db.campaign_id, buffer, fmt="xlsx") == 3
        sheet = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True).worksheets[0]
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert values[0][:5] == ["phone", "name", "priority", "城市", "备注"]
        assert values[1][:2] == ["+8613812345678", "张伟"]

        other = await create_campaign(db.session_factory, f"复制-{db.campaign_id}")
        report = await import_leads(
            db.session_factory,
            other.id,
            io.BytesIO(buffer.getvalue()),
            filename="e.xlsx",
            default_region="CN",
        )
        assert report.imported == 3


async def test_attempts_export(shared_db_url: str) -> None:
    started = utcnow()
    async with campaign_db(shared_db_url) as db:
        async with db.session_factory() as session, session.begin():
            session.add_all(
                [
                    CallAttempt(
                        id=f"att-{n:08d}",
                        campaign_id=db.campaign_id,
                        number_dialed="+8613812345678",
                        originate_at=started + timedelta(seconds=n),
                        outcome="human" if n else "busy",
                        originate_reason=4 if n else 5,
                        hangup_cause=16 if n else 17,
                        disposition="SALE" if n else "BUSY",
                        notes="客户很满意" if n else "",
                    )
                    for n in range(2)
                ]
            )
        buffer = io.BytesIO()
        rows = await export_campaign(
            db.session_factory, db.campaign_id, buffer, kind="attempts", fmt="csv"
        )
        table = list(csv.DictReader(io.StringIO(buffer.getvalue().decode("utf-8-sig"))))
    assert rows == 2
    assert [row["id"] for row in table] == ["att-00000000", "att-00000001"]
    assert table[1]["notes"] == "客户很满意" and table[0]["hangup_cause"] == "17"
    assert table[0]["originate_at"].endswith("+00:00")
