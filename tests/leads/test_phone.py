"""Number normalisation, including the Chinese-mobile shortcut checked against phonenumbers."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.leads.phone import InvalidNumber, clean_raw_number, normalise_number, parse_number


def _reference(raw: str, region: str) -> str:
    """The general parser only: E.164 or the reason."""
    try:
        text = clean_raw_number(raw)
        if not text:
            return "empty"
        return parse_number(text, region).e164
    except InvalidNumber as exc:
        return exc.reason


def _fast(raw: str, region: str) -> str:
    try:
        return normalise_number(raw, region).e164
    except InvalidNumber as exc:
        return exc.reason


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("0086-138-1234-5678", "+8613812345678"),
        ("8613812345678", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),  # full-width digits
        ("13812345678.0", "+8613812345678"),  # a spreadsheet float
        ("(010) 6552 9988", "+861065529988"),  # a Beijing landline
        ("+1 305-555-0123", "+13055550123"),
    ],
)
def test_written_forms(raw: str, e164: str) -> None:
    number = normalise_number(raw, "CN")
    assert number.e164 == e164


def test_region_and_timezones() -> None:
    mobile = normalise_number("13812345678", "CN")
    assert (mobile.region, mobile.timezones) == ("CN", ("Asia/Shanghai",))
    miami = normalise_number("+13055550123", "CN")
    assert (miami.region, miami.timezones) == ("US", ("America/New_York",))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not a phone number"),
        ("1.38123E+10", "scientific notation (digits lost)"),
        ("12345", "invalid number"),
        ("+999 123456", "unknown country code"),
        ("1" * 70, "too long"),
    ],
)
def test_invalid_numbers(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        normalise_number(raw, "CN")
    assert caught.value.reason == reason


def test_shortcut_agrees_with_phonenumbers_on_every_prefix() -> None:
    rng = random.Random(11)
    for prefix in range(1000, 2000):  # every 4-digit start of an 11-digit number beginning 1
        for _ in range(3):
            digits = f"{prefix}{rng.randrange(10**7):07d}"
            for written in (digits, f"+86{digits}", f"0086{digits}", f"86{digits}",
                            f"{digits[:3]} {digits[3:7]} {digits[7:]}"):  # fmt: skip
                assert _fast(written, "CN") == _reference(written, "CN"), written


_digits = st.text(alphabet="0123456789", min_size=1, max_size=16)
_separator = st.sampled_from(["", " ", "-"])
_prefix = st.sampled_from(["", "+86", "0086", "86", "+", "0", "+1", "17951", "12593"])


def test_shortcut_validity_agrees_with_phonenumbers_on_every_5_digit_prefix() -> None:
    rng = random.Random(12)
    for prefix in range(10000, 20000):
        for _ in range(2):
            digits = f"{prefix}{rng.randrange(10**6):06d}"
            assert _fast(digits, "CN") == _reference(digits, "CN"), digits


@settings(max_examples=400, deadline=None)
@given(prefix=_prefix, body=_digits, separator=_separator, region=st.sampled_from(["CN", "US"]))
def test_normaliser_equals_the_general_parser(
    prefix: str, body: str, separator: str, region: str
) -> None:
    raw = prefix + separator + separator.join([body[:3], body[3:]])
    assert _fast(raw, region) == _reference(raw, region)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_never_raises_anything_but_invalid_number(raw: str) -> None:
    try:
        number = normalise_number(raw, "CN")
    except InvalidNumber:
        return
    parsed = phonenumbers.parse(number.e164)
    assert phonenumbers.is_valid_number(parsed)
    assert number.e164 == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
