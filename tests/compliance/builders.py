"""Request builders shared by the compliance tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from compliance import CheckRequest, ComplianceProfile

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
PARIS = ZoneInfo("Europe/Paris")
KOLKATA = ZoneInfo("Asia/Kolkata")

CN_MOBILE = "+8613812345678"
NY_NUMBER = "+12125550123"  # New York: federal rules only
FL_NUMBER = "+13055550123"  # Miami: Florida rules
MD_NUMBER = "+14105550123"  # Baltimore: Maryland rules
UK_NUMBER = "+442071234567"  # London landline
FR_NUMBER = "+33612345678"
IN_NUMBER = "+919812345678"
US_TOLL_FREE = "+18005550123"

PROFILES = {
    "CN": ComplianceProfile(rulesets=("CN",)),
    "US": ComplianceProfile(rulesets=("US",), subject="solar"),
    "UK": ComplianceProfile(rulesets=("UK",)),
    "FR": ComplianceProfile(rulesets=("FR",)),
    "IN": ComplianceProfile(rulesets=("IN",)),
}


def local(tz: ZoneInfo, *parts: int) -> datetime:
    """A local wall time in `tz`, as an aware UTC datetime."""
    return datetime(*parts, tzinfo=tz).astimezone(UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def request(number: str, at: datetime, market: str, **fields: Any) -> CheckRequest:
    """A request that passes every paperwork rule of `market` unless a field says otherwise."""
    defaults: dict[str, Any] = {
        "profile": PROFILES[market],
        "caller_id": "+12125550100" if market == "US" else "+442079460000",
        "registry_scrubs": {"us.dnc": at - timedelta(days=2), "uk.tps": at - timedelta(days=2)},
    }
    defaults.update(fields)
    return CheckRequest(number=number, campaign_id=1, at=at, **defaults)
