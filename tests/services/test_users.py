"""Users and keys: bootstrap admin, expiry, revocation, deactivation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialer.db.engine import SessionFactory
from dialer.db.models import User
from dialer.services import users
from dialer.services.errors import Conflict, Invalid, NotFound


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "SCRYPT_N", 2**8)


async def test_ensure_admin_is_idempotent(session_factory: SessionFactory) -> None:
    first = await users.ensure_admin(session_factory, "root", "first password")
    second = await users.ensure_admin(session_factory, "root", "second password")
    assert first.id == second.id and second.role == "admin"
    with pytest.raises(NotFound):
        await users.authenticate(session_factory, "root", "first password")
    assert (await users.authenticate(session_factory, "root", "second password")).id == first.id


async def test_user_rules(session_factory: SessionFactory) -> None:
    await users.create_user(session_factory, "sup", "long enough", "supervisor")
    with pytest.raises(Conflict):
        await users.create_user(session_factory, "sup", "long enough", "supervisor")
    with pytest.raises(Invalid):
        await users.create_user(session_factory, "short", "short", "supervisor")
    with pytest.raises(Invalid):
        await users.create_user(session_factory, "ag", "long enough", "agent")  # no agent_id


async def test_keys_expire_revoke_and_follow_the_user(session_factory: SessionFactory) -> None:
    user = await users.create_user(session_factory, "sup", "long enough", "supervisor")
    live = await users.issue_key(session_factory, user)
    principal = await users.resolve_key(session_factory, live.secret)
    assert principal is not None and principal.role == "supervisor"
    expired = await users.issue_key(session_factory, user, ttl=timedelta(seconds=-1))
    assert await users.resolve_key(session_factory, expired.secret) is None
    await users.revoke_key(session_factory, live.id)
    assert await users.resolve_key(session_factory, live.secret) is None
    other = await users.issue_key(session_factory, user, ttl=None)
    async with session_factory() as session, session.begin():
        (await session.get(User, user.id)).active = False  # type: ignore[union-attr]
    assert await users.resolve_key(session_factory, other.secret) is None
    assert await users.resolve_key(session_factory, "dlr_unknown") is None


def test_users_create_command(tmp_path: object, sqlite_url: str) -> None:
    import asyncio

    from dialer.db.engine import open_database
    from dialer.db.migrate import upgrade
    from dialer.services.user_commands import create_main

    asyncio.run(upgrade(sqlite_url))
    assert create_main(["boss", "--password", "very secret", "--url", sqlite_url]) == 0
    assert (
        create_main(["x", "--role", "agent", "--password", "very secret", "--url", sqlite_url]) == 1
    )  # an agent user needs --agent-id

    async def check() -> str:
        async with open_database(sqlite_url) as factory:
            return (await users.authenticate(factory, "boss", "very secret")).role

    assert asyncio.run(check()) == "admin"
