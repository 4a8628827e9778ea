"""What an agent may see of a phone number: the last digits only."""

from __future__ import annotations

from dialer.db.models import Campaign

DEFAULT_VISIBLE_DIGITS = 4


def visible_digits(campaign: Campaign | None) -> int:
    """Per campaign, `pacing["agent_visible_digits"]` may show more (up to the whole number)."""
    if campaign is None:
        return DEFAULT_VISIBLE_DIGITS
    value = (campaign.pacing or {}).get("agent_visible_digits", DEFAULT_VISIBLE_DIGITS)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return DEFAULT_VISIBLE_DIGITS


def mask_number(number: str, visible: int = DEFAULT_VISIBLE_DIGITS) -> str:
    """'+8613812345678' -> '*********5678' (digits masked, the leading '+' dropped)."""
    digits = number.lstrip("+")
    if visible >= len(digits):
        return number
    shown = digits[len(digits) - visible :] if visible > 0 else ""
    return "*" * (len(digits) - len(shown)) + shown
