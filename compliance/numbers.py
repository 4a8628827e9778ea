"""E.164 normalisation and hashing for suppression lists.

Every list (company DNC, national registries, campaign lists, complaints) is compared in
E.164, and stores a SHA-256 hash beside the number so a list can be shared or audited
without exposing plain numbers.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import phonenumbers


class InvalidNumberError(ValueError):
    """The text is not a valid, dialable telephone number."""


@lru_cache(maxsize=65536)
def parse_number(raw: str, default_region: str = "CN") -> phonenumbers.PhoneNumber:
    """Parse and validate; `default_region` applies only to numbers without a country code."""
    try:
        parsed = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumberError(f"cannot parse {raw!r}: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumberError(f"{raw!r} is not a valid number")
    return parsed


def normalise_e164(raw: str, default_region: str = "CN") -> str:
    """The E.164 form (`+8613812345678`) of a number as typed, or InvalidNumberError."""
    return phonenumbers.format_number(
        parse_number(raw, default_region), phonenumbers.PhoneNumberFormat.E164
    )


def number_hash(e164: str, pepper: str | bytes | None = None) -> str:
    """Hex SHA-256 of the E.164 string, optionally peppered (pepper first, then the number).

    A pepper shared only between the parties of a list stops dictionary reversal of the
    small E.164 space by anyone else.
    """
    if not e164.startswith("+") or not e164[1:].isdigit():
        raise InvalidNumberError(f"{e164!r} is not in E.164 form")
    digest = hashlib.sha256()
    if pepper:
        digest.update(pepper.encode() if isinstance(pepper, str) else pepper)
    digest.update(e164.encode("ascii"))
    return digest.hexdigest()


def normalise_and_hash(
    raw: str, default_region: str = "CN", pepper: str | bytes | None = None
) -> tuple[str, str]:
    """(E.164, hash) for one imported row."""
    e164 = normalise_e164(raw, default_region)
    return e164, number_hash(e164, pepper)
