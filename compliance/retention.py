"""Retention of call records and recordings: kept at least the legal minimum, then purged.

Pure date arithmetic for the purge job: records older than the cutoff may be deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# The company default (CN): call records and recordings are kept at least 30 days.
MINIMUM_RETENTION_DAYS: dict[str, int] = {"CN": 30}


def minimum_retention_days(rulesets: tuple[str, ...]) -> int:
    """The longest minimum among the profile's rule sets (0 when none sets one)."""
    return max((MINIMUM_RETENTION_DAYS.get(r, 0) for r in rulesets), default=0)


def purge_cutoff(
    now: datetime, retention_days: int, rulesets: tuple[str, ...] = ("CN",)
) -> datetime:
    """Records that ended before the returned moment may be purged.

    Raises ValueError when the configured retention is shorter than a rule set's minimum,
    so a misconfigured policy fails loudly instead of deleting records early.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    minimum = minimum_retention_days(rulesets)
    if retention_days < minimum:
        raise ValueError(
            f"retention of {retention_days} days is under the {minimum}-day minimum of "
            f"{', '.join(r for r in rulesets if MINIMUM_RETENTION_DAYS.get(r) == minimum)}"
        )
    return now - timedelta(days=retention_days)
