"""The one way a phone number is hashed, so DNC entries, consents and decision logs match."""

from __future__ import annotations

import hashlib


def number_hash(phone_e164: str) -> str:
    """SHA-256 hex digest of the E.164 text (with the leading '+')."""
    return hashlib.sha256(phone_e164.encode("ascii")).hexdigest()
