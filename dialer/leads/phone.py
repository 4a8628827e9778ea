"""Phone number normalisation: any written form to E.164, with region and time zones.

`phonenumbers` does the parsing and validation; this module adds the clean-ups lead files need
(spreadsheet artefacts such as `13812345678.0` or `1.38123E+10`) and two shortcuts that matter
when importing millions of rows:
- Chinese mobile numbers written plainly (`13812345678`, `+86 138 1234 5678`, `0086...`) skip
  the general parser: the national number is taken as written and matched against the
  library's own metadata patterns, which is what `is_valid_number` does type by type. Carrier
  selection prefixes (11xx, 12xx, 179xx), which the general parser may strip, never take the
  shortcut. Tests check the shortcut against the general parser for every 4-digit prefix.
- The time zone lookup is done once per country when a country has a single set of zones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from phonenumbers import timezone as phone_timezone

UNKNOWN_TIMEZONE = "Etc/Unknown"
MAX_RAW_LENGTH = 64

_SPREADSHEET_FLOAT = re.compile(r"^\+?\d+\.0+$")
_CN_MOBILE = re.compile(r"(?:\+86|0086|86)?(1(?:[3-68]\d|7[0-8]|9\d)\d{8})")
_CN_SEPARATORS = str.maketrans("", "", " -")
CN_COUNTRY_CODE = 86
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")

_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


class InvalidNumber(ValueError):
    """A value that is not a dialable phone number; `reason` is short and groupable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class NormalisedNumber:
    e164: str  # "+8613812345678"
    region: str  # ISO 3166 alpha-2, "" when the number is not tied to one region
    timezones: tuple[str, ...]  # IANA zones; empty when unknown


@lru_cache(maxsize=512)
def _country_wide_timezones(country_code: int) -> tuple[str, ...] | None:
    """The zones of every number of a country code, when they do not depend on the prefix."""
    prefix = str(country_code)
    data = phone_timezone.TIMEZONE_DATA
    if prefix not in data:
        return None
    values = {zones for key, zones in data.items() if key.startswith(prefix)}
    return values.pop() if len(values) == 1 else None


@lru_cache(maxsize=1024)
def _known(zones: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(zone for zone in zones if zone != UNKNOWN_TIMEZONE)


def _timezones(number: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    zones = _country_wide_timezones(number.country_code)
    if zones is None:
        zones = tuple(phone_timezone.time_zones_for_number(number))
    return _known(zones)


def clean_raw_number(raw: str) -> str:
    """Undo what spreadsheets do to numbers; refuse values whose digits are already lost."""
    text = raw.strip()
    if _SPREADSHEET_FLOAT.match(text):
        return text.split(".", 1)[0]
    if _SCIENTIFIC.match(text):
        raise InvalidNumber("scientific notation (digits lost)")
    return text


# The number types `phonenumbers.is_valid_number` accepts (any type but UNKNOWN).
_TYPE_DESCS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def _fits(desc: phonenumbers.PhoneNumberDesc | None, length: int) -> bool:
    if desc is None or not desc.national_number_pattern:
        return False
    return not desc.possible_length or length in desc.possible_length


@lru_cache(maxsize=64)
def _validity_patterns(region: str, length: int) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """The library's own metadata for national numbers of one length, as two compiled patterns:
    the general description, and any number type. A number is valid when it matches both (this
    is what `is_valid_number` checks, type by type)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or not _fits(metadata.general_desc, length):
        return None
    general = re.compile(metadata.general_desc.national_number_pattern)
    types = [getattr(metadata, name) for name in _TYPE_DESCS]
    patterns = [desc.national_number_pattern for desc in types if _fits(desc, length)]
    if not patterns:
        return None
    return general, re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def _cn_mobile_shortcut(text: str) -> NormalisedNumber | None:
    """A plainly written Chinese mobile number, checked against the metadata directly."""
    match = _CN_MOBILE.fullmatch(text.translate(_CN_SEPARATORS))
    if match is None:
        return None
    national = match.group(1)
    patterns = _validity_patterns("CN", len(national))
    if patterns is None or _country_wide_timezones(CN_COUNTRY_CODE) is None:
        return None  # metadata changed shape: use the general path
    general, any_type = patterns
    if general.fullmatch(national) is None or any_type.fullmatch(national) is None:
        raise InvalidNumber("invalid number")
    return NormalisedNumber(
        e164=f"+86{national}",
        region="CN",
        timezones=_known(_country_wide_timezones(CN_COUNTRY_CODE) or ()),
    )


def normalise_number(raw: str, default_region: str) -> NormalisedNumber:
    """Parse and validate one number; raise `InvalidNumber` with a short reason if it is not."""
    text = clean_raw_number(raw)
    if not text:
        raise InvalidNumber("empty")
    if len(text) > MAX_RAW_LENGTH:
        raise InvalidNumber("too long")
    if default_region == "CN":
        shortcut = _cn_mobile_shortcut(text)
        if shortcut is not None:
            return shortcut
    return parse_number(text, default_region)


def parse_number(text: str, default_region: str) -> NormalisedNumber:
    """The general path: `phonenumbers.parse` and `is_valid_number`."""
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        raise InvalidNumber(_PARSE_ERRORS.get(exc.error_type, "not a phone number")) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber("invalid number")
    return NormalisedNumber(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(number) or "",
        timezones=_timezones(number),
    )
