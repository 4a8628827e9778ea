"""E.164 normalisation and the suppression-list hash."""

from __future__ import annotations

import hashlib

import pytest

from compliance import InvalidNumberError, normalise_and_hash, normalise_e164, number_hash


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("138 1234 5678", "CN", "+8613812345678"),
        ("+86 138-1234-5678", "US", "+8613812345678"),
        ("(212) 555-0123", "US", "+12125550123"),
        ("020 7123 4567", "GB", "+442071234567"),
        ("06 12 34 56 78", "FR", "+33612345678"),
    ],
)
def test_normalises_to_e164(raw: str, region: str, expected: str) -> None:
    assert normalise_e164(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "hello", "+1 555", "12345", "+86 000"])
def test_rejects_invalid_numbers(raw: str) -> None:
    with pytest.raises(InvalidNumberError):
        normalise_e164(raw, "CN")


def test_hash_is_sha256_of_the_e164_string() -> None:
    expected = hashlib.sha256(b"+8613812345678").hexdigest()
    assert number_hash("+8613812345678") == expected


def test_pepper_changes_the_hash_and_is_prefixed() -> None:
    plain = number_hash("+8613812345678")
    peppered = number_hash("+8613812345678", pepper="s3cret")
    assert peppered != plain
    assert peppered == hashlib.sha256(b"s3cret+8613812345678").hexdigest()
    assert number_hash("+8613812345678", pepper=b"s3cret") == peppered


def test_hash_refuses_non_e164_text() -> None:
    with pytest.raises(InvalidNumberError):
        number_hash("13812345678")


def test_normalise_and_hash_agree() -> None:
    e164, digest = normalise_and_hash("138 1234 5678", "CN", pepper="p")
    assert e164 == "+8613812345678"
    assert digest == number_hash(e164, "p")
