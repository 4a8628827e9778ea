"""Lead import on SQLite and PostgreSQL: formats, encodings, mapping, and bad input."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from dialer.db.enums import LeadStatus, SuppressionScope
from dialer.db.hashing import number_hash
from dialer.db.models import LeadList, SuppressionEntry
from dialer.db.types import utcnow
from dialer.leads.importer import ImportProgress, ImportReport, import_leads
from dialer.leads.sample import write_sample_leads
from tests.leads.helpers import Db, campaign_db

HEADER = ["手机号", "姓名", "城市", "备注"]
ROWS = [
    ["13812345678", "张伟", "上海", "老客户"],
    ["+86 139 1234 5678", "王芳", "北京", ""],
    ["186-0000-1234", "李娜", "广州", "周末联系"],
]
E164 = ["+8613812345678", "+8613912345678", "+8618600001234"]


def _csv(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    return "\n".join(delimiter.join(row) for row in rows).encode(encoding) + b"\n"


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("leads")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def _import(
    db: Db, data: bytes, filename: str = "leads.csv", **kwargs: object
) -> ImportReport:
    kwargs.setdefault("default_region", "CN")
    return await import_leads(
        db.session_factory, db.campaign_id, io.BytesIO(data), filename=filename, **kwargs
    )


def _balanced(report: ImportReport) -> bool:
    accounted = (
        report.imported
        + report.suppressed
        + report.duplicates_in_file
        + report.duplicates_in_campaign
        + report.invalid
    )
    return accounted == report.total_rows


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
async def test_csv_with_any_delimiter(shared_db_url: str, delimiter: str) -> None:
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv([HEADER, *ROWS], delimiter))
        assert report.ok, report.error
        assert report.delimiter == delimiter
        assert report.imported == 3 and report.total_rows == 3
        leads = await db.leads()
    assert [lead.phone_e164 for lead in leads] == E164
    first = leads[0]
    assert first.name == "张伟"
    assert first.custom_fields == {"城市": "上海", "备注": "老客户"}
    assert first.region == "CN" and first.timezones == ["Asia/Shanghai"]
    assert first.status == LeadStatus.NEW and first.phone_raw == "13812345678"
    assert leads[1].custom_fields == {"城市": "北京"}  # empty cells are not stored


async def test_gb18030_file_is_detected(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv([HEADER, *ROWS], encoding="gb18030"))
        assert report.ok, report.error
        assert report.encoding == "gb18030"
        leads = await db.leads()
    assert [lead.name for lead in leads] == ["张伟", "王芳", "李娜"]


async def test_utf8_with_bom_and_crlf(shared_db_url: str) -> None:
    data = "\ufeff" + "\r\n".join(",".join(row) for row in [HEADER, *ROWS]) + "\r\n"
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, data.encode("utf-8"))
        assert report.ok and report.imported == 3
        assert "手机号" in report.columns  # the BOM is not part of the first header


async def test_utf16_excel_unicode_text(shared_db_url: str) -> None:
    data = "\r\n".join("\t".join(row) for row in [HEADER, *ROWS]).encode("utf-16")
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, data, filename="leads.txt")
        assert report.ok, report.error
        assert report.imported == 3 and report.delimiter == "\t"


async def test_xlsx_with_numeric_cells(shared_db_url: str) -> None:
    rows: list[list[object]] = [
        ["Phone", "Name", "Priority", "Age"],
        [13812345678, "张伟", 5, 31],
        [13912345678.0, "王芳", None, 40],
        ["+8618600001234", "李娜", "x", None],
        [None, None, None, None],
    ]
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _xlsx(rows), filename="leads.xlsx")
        assert report.ok, report.error
        assert report.format == "xlsx"
        assert report.imported == 3 and report.blank_rows == 1
        leads = await db.leads()
    assert [lead.phone_e164 for lead in leads] == E164
    assert [lead.priority for lead in leads] == [5, 0, 0]
    assert leads[0].custom_fields == {"Age": "31"}


async def test_chinese_headers_and_synonyms(shared_db_url: str) -> None:
    rows = [["客户姓名", "联系电话", "优先级"], ["赵敏", "13712345678", "3"]]
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv(rows))
        assert report.columns == {"联系电话": "phone", "客户姓名": "name", "优先级": "priority"}
        (lead,) = await db.leads()
    assert (lead.name, lead.phone_e164, lead.priority, lead.custom_fields) == (
        "赵敏",
        "+8613712345678",
        3,
        {},
    )


async def test_mapping_overrides(shared_db_url: str) -> None:
    rows = [["号码", "备用", "称谓", "内部编号"], ["010-1234567", "13812345678", "钱先生", "A-1"]]
    mapping = {"备用": "phone", "号码": "landline", "内部编号": "-"}
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv(rows), mapping=mapping)
        assert report.ok, report.error
        (lead,) = await db.leads()
    assert lead.phone_e164 == "+8613812345678"
    assert lead.name == "钱先生"
    assert lead.custom_fields == {"landline": "010-1234567"}
    assert report.columns["内部编号"] == "ignored"


async def test_explicit_delimiter_and_encoding(shared_db_url: str) -> None:
    rows = [["phone", "name"], ["13812345678", "张伟"]]
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv(rows, "|", "gb18030"), delimiter="|", encoding="gb18030")
        assert report.ok and report.imported == 1
        assert (await db.leads())[0].name == "张伟"


async def test_other_region_numbers(shared_db_url: str) -> None:
    rows = [["phone"], ["+1 305 555 0123"], ["+44 20 7946 0958"], ["(212) 555-0199"]]
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv(rows), default_region="US")
        assert report.imported == 3, report.invalid_rows
        leads = await db.leads()
    assert [(lead.phone_e164, lead.region) for lead in leads] == [
        ("+13055550123", "US"),
        ("+442079460958", "GB"),
        ("+12125550199", "US"),
    ]
    assert leads[0].timezones == ["America/New_York"]
    assert leads[1].timezones == ["Europe/London"]


# -- bad input ---------------------------------------------------------------------------------


async def test_empty_file(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        for data in (b"", b"\n\n  \n", "\ufeff".encode()):
            report = await _import(db, data)
            assert not report.ok
            assert report.error == "the file is empty"
            assert report.imported == 0


async def test_header_only_file(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv([HEADER]))
        assert report.ok and report.total_rows == 0 and report.imported == 0


async def test_wrong_encoding(shared_db_url: str) -> None:
    # Bytes that are neither UTF-8 nor GB18030 (0xFF is invalid in both).
    data = _csv([HEADER, *ROWS]) + b"\xff\xfe\xff\x80,\xff\n"
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, data)
        assert not report.ok
        assert "neither UTF-8 nor GB18030" in (report.error or "")
        assert await db.leads() == []


async def test_declared_encoding_that_does_not_fit(shared_db_url: str) -> None:
    data = _csv([HEADER, *ROWS], encoding="gb18030")
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, data, encoding="utf-8")
        assert not report.ok
        assert "not valid utf-8" in (report.error or "")


async def test_binary_file(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, b"PK\x03\x04\x00\x00" + bytes(range(256)), filename="x.csv")
        assert not report.ok and report.imported == 0
        report = await _import(db, b"not a zip at all", filename="x.xlsx")
        assert not report.ok and "XLSX" in (report.error or "")


async def test_missing_phone_column_names_the_headers(shared_db_url: str) -> None:
    rows = [["姓名", "城市"], ["张伟", "上海"]]
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv(rows))
        assert not report.ok
        assert "no phone number column" in (report.error or "")
        assert "'姓名'" in (report.error or "") and "'城市'" in (report.error or "")
        async with db.session_factory() as session:
            lists = await session.scalars(
                select(LeadList).where(LeadList.campaign_id == db.campaign_id)
            )
            assert lists.all() == []  # nothing half-created


async def test_mapping_naming_an_absent_header(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv([HEADER, *ROWS]), mapping={"电话号码": "phone"})
        assert not report.ok and "电话号码" in (report.error or "")


async def test_garbage_rows_are_reported_and_the_rest_imported(shared_db_url: str) -> None:
    garbage = [
        ["", "无号码", "", ""],
        ["abc", "x", "", ""],
        ["12345", "y", "", ""],
        ["1.38123E+10", "z", "", ""],
        ["+86 1", "w", "", ""],
        ["1" * 80, "v", "", ""],
    ]
    rows = [HEADER, *ROWS, *garbage, ["13612345678"]]  # the last row is short: still valid
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv(rows))
        assert report.ok
        assert report.imported == 4 and report.invalid == 6
        assert _balanced(report)
        assert [p.row for p in report.invalid_rows] == [5, 6, 7, 8, 9, 10]
        reasons = {p.value: p.reason for p in report.invalid_rows}
        assert reasons["1.38123E+10"] == "scientific notation (digits lost)"
        assert reasons[""] == "empty"
        assert sum(report.invalid_by_reason.values()) == 6


async def test_ten_percent_garbage_and_duplicates(shared_db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "sample.csv"
    stats = write_sample_leads(path, 3000, seed=5, invalid_fraction=0.1, duplicate_fraction=0.05)
    seen: list[ImportProgress] = []
    async with campaign_db(shared_db_url) as db:
        report = await import_leads(
            db.session_factory,
            db.campaign_id,
            path,
            default_region="CN",
            batch_rows=500,
            progress=seen.append,
        )
        assert report.ok
        assert report.invalid == stats.invalid
        assert report.duplicates_in_file == stats.duplicates
        assert report.imported == 3000 - stats.invalid - stats.duplicates
        assert _balanced(report)
        assert len(await db.leads()) == report.imported
    assert len(seen) == 6 and seen[-1].rows_read == 3000
    assert seen[-1].bytes_read == seen[-1].bytes_total == path.stat().st_size


async def test_duplicates_within_the_file(shared_db_url: str) -> None:
    rows = [HEADER, *ROWS, ["+8613812345678", "张伟2", "", ""], ["138 1234 5678", "", "", ""]]
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv(rows), batch_rows=2)
        assert report.imported == 3 and report.duplicates_in_file == 2
        assert report.duplicates_in_campaign == 0
        leads = await db.leads()
    assert leads[0].name == "张伟"  # the first occurrence wins


async def test_second_import_is_deduplicated_against_the_campaign(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        first = await _import(db, _csv([HEADER, *ROWS]))
        more = [HEADER, *ROWS, ["15012345678", "新客户", "", ""], ROWS[0]]
        second = await _import(db, _csv(more), batch_rows=2)
        assert first.imported == 3
        assert second.imported == 1
        assert second.duplicates_in_campaign == 4 and second.duplicates_in_file == 0
        assert _balanced(second)
        assert len(await db.leads()) == 4
        assert second.list_id != first.list_id


async def test_same_number_in_two_campaigns(shared_db_url: str) -> None:
    from dialer.leads.campaigns import create_campaign

    async with campaign_db(shared_db_url) as db:
        other = await create_campaign(db.session_factory, f"另一个活动-{db.campaign_id}")
        await _import(db, _csv([HEADER, *ROWS]))
        report = await import_leads(
            db.session_factory,
            other.id,
            io.BytesIO(_csv([HEADER, *ROWS])),
            filename="x.csv",
            default_region="CN",
        )
        assert report.imported == 3 and report.duplicates == 0


async def test_dnc_screening_at_import(db_url: str) -> None:
    from dialer.leads.campaigns import create_campaign

    now = utcnow()
    async with campaign_db(db_url) as db:
        other = await create_campaign(db.session_factory, f"另一个活动-{db.campaign_id}")
        async with db.session_factory() as session, session.begin():
            session.add_all(
                [
                    SuppressionEntry(  # company-wide: applies
                        scope=SuppressionScope.COMPANY,
                        phone_e164=E164[0],
                        number_hash=number_hash(E164[0]),
                        reason="明确拒绝",
                    ),
                    SuppressionEntry(  # national registry, hash only: applies
                        scope=SuppressionScope.REGISTRY,
                        registry_name="工信部",
                        number_hash=number_hash(E164[1]),
                    ),
                    SuppressionEntry(  # another campaign's list: does not apply
                        scope=SuppressionScope.CAMPAIGN,
                        campaign_id=other.id,
                        number_hash=number_hash(E164[2]),
                    ),
                    SuppressionEntry(  # expired: does not apply
                        scope=SuppressionScope.COMPANY,
                        number_hash=number_hash("+8615012345678"),
                        expires_at=now - timedelta(days=1),
                    ),
                ]
            )
        rows = [HEADER, *ROWS, ["15012345678", "", "", ""]]
        report = await _import(db, _csv(rows))
        assert report.suppressed == 2 and report.imported == 2
        assert _balanced(report)
        status = {lead.phone_e164: lead.status for lead in await db.leads()}
    assert status == {
        E164[0]: LeadStatus.DNC,
        E164[1]: LeadStatus.DNC,
        E164[2]: LeadStatus.NEW,
        "+8615012345678": LeadStatus.NEW,
    }


async def test_unknown_campaign_raises(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        with pytest.raises(LookupError):
            await import_leads(
                db.session_factory,
                999,
                io.BytesIO(b"phone\n"),
                filename="x.csv",
                default_region="CN",
            )


async def test_lead_list_records_the_file(shared_db_url: str) -> None:
    async with campaign_db(shared_db_url) as db:
        report = await _import(db, _csv([HEADER, *ROWS]), filename="三月名单.csv")
        async with db.session_factory() as session:
            lead_list = await session.get(LeadList, report.list_id)
        assert lead_list is not None
        assert (lead_list.name, lead_list.total_rows, lead_list.imported_rows) == (
            "三月名单.csv",
            3,
            3,
        )
