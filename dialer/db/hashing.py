"""The one way a phone number is hashed, so DNC entries, consents and decision logs match.

It is the compliance engine's hash (unpeppered), so a list hashed here matches what the
engine and shared registries compute.
"""

from __future__ import annotations

from compliance.numbers import number_hash as _compliance_hash


def number_hash(phone_e164: str) -> str:
    """SHA-256 hex digest of the E.164 text (with the leading '+').

    Raises `compliance.InvalidNumberError` (a ValueError) for text not in E.164 form, since
    a hash of any other spelling would never match a stored entry.
    """
    return _compliance_hash(phone_e164)
