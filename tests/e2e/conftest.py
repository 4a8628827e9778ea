"""End-to-end tests create users over and over: a cheap password hash keeps them fast."""

import pytest

from dialer.services import users


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "SCRYPT_N", 2**8)
