"""Audit records and the blocked-by-rule summary built from them."""

from __future__ import annotations

from datetime import date, timedelta

from compliance import ComplianceEngine, number_hash
from compliance.audit import blocked_by_rule
from tests.compliance.builders import CN_MOBILE, SHANGHAI, local, request

ENGINE = ComplianceEngine()


def test_peppered_audit_record_hides_the_number() -> None:
    decision = ENGINE.check(request(CN_MOBILE, local(SHANGHAI, 2026, 9, 22, 10), "CN"))
    record = decision.audit_record(number_pepper="pepper")
    assert "number" not in record
    assert record["number_hash"] == number_hash(CN_MOBILE, "pepper")


def test_blocked_by_rule_per_campaign_per_local_day() -> None:
    evening = local(SHANGHAI, 2026, 9, 22, 18, 30)  # blocked by the window
    records = [
        ENGINE.check(request(CN_MOBILE, evening + timedelta(minutes=m), "CN")).audit_record()
        for m in (0, 30, 60, 90)
    ]
    records.append(
        ENGINE.check(request(CN_MOBILE, local(SHANGHAI, 2026, 9, 22, 10), "CN")).audit_record()
    )
    counts = blocked_by_rule(records, "Asia/Shanghai")
    assert counts == {(1, date(2026, 9, 22), "cn.window"): 4}
    # in UTC the same evening is still 2026-09-22 (10:30-12:00 UTC)
    assert blocked_by_rule(records) == {(1, date(2026, 9, 22), "cn.window"): 4}
