"""Summaries of logged decisions: blocked dials by rule, per campaign, per day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from compliance.jurisdiction import zone


def blocked_by_rule(
    records: Iterable[Mapping[str, Any]], zone_name: str = "UTC"
) -> Counter[tuple[int, date, str]]:
    """Count blocked decisions by (campaign id, local day in `zone_name`, rule id).

    Takes `Decision.audit_record()` dicts; a dial blocked by several rules counts under each.
    """
    tz = zone(zone_name)
    counts: Counter[tuple[int, date, str]] = Counter()
    for record in records:
        if record["allowed"]:
            continue
        day = datetime.fromisoformat(record["at"]).astimezone(tz).date()
        for rule in record["blocked_by"]:
            counts[(record["campaign_id"], day, rule)] += 1
    return counts
