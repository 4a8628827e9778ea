"""Users, passwords and API keys. Only hashes are stored: scrypt for passwords, sha256 for keys
(keys are long random secrets, so a fast hash is enough and lookups stay O(1))."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from dialer.db.engine import SessionFactory
from dialer.db.enums import Role
from dialer.db.models import ApiKey, User
from dialer.db.types import utcnow
from dialer.services.errors import Conflict, Invalid, NotFound

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
KEY_PREFIX = "dlr_"
TOKEN_TTL = timedelta(hours=12)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(candidate.hex(), digest)


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from a bearer key on every request."""

    user_id: int | None
    username: str
    role: str
    agent_id: int | None


@dataclass(frozen=True)
class IssuedKey:
    """A new key: `secret` is shown once and never stored."""

    id: int
    secret: str
    prefix: str
    role: str
    expires_at: datetime | None


async def create_user(
    session_factory: SessionFactory,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str = "",
    agent_id: int | None = None,
) -> User:
    role = Role(role).value
    if len(password) < 8:
        raise Invalid("password must have at least 8 characters")
    if role == Role.AGENT and agent_id is None:
        raise Invalid("an agent user needs an agent_id")
    async with session_factory() as session, session.begin():
        if await session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"user {username!r} exists already")
        user = User(
            username=username,
            display_name=display_name,
            password_hash=hash_password(password),
            role=role,
            agent_id=agent_id,
        )
        session.add(user)
        await session.flush()
    return user


async def ensure_admin(session_factory: SessionFactory, username: str, password: str) -> User:
    """Bootstrap: create the admin if missing, else reset its password and role (idempotent)."""
    async with session_factory() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, display_name=username, role=Role.ADMIN)
            session.add(user)
        user.password_hash = hash_password(password)
        user.role = Role.ADMIN
        user.active = True
        await session.flush()
    return user


async def list_users(session_factory: SessionFactory) -> list[User]:
    async with session_factory() as session:
        return list(await session.scalars(select(User).order_by(User.id)))


async def authenticate(session_factory: SessionFactory, username: str, password: str) -> User:
    async with session_factory() as session:
        user = await session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        raise NotFound("unknown user or wrong password")
    return user


async def issue_key(
    session_factory: SessionFactory,
    user: User,
    *,
    name: str = "",
    ttl: timedelta | None = TOKEN_TTL,
) -> IssuedKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + ttl if ttl is not None else None
    async with session_factory() as session, session.begin():
        key = ApiKey(
            user_id=user.id,
            name=name,
            key_prefix=secret[:12],
            key_hash=key_hash(secret),
            role=user.role,
            expires_at=expires_at,
        )
        session.add(key)
        await session.flush()
    return IssuedKey(key.id, secret, key.key_prefix, key.role, expires_at)


async def revoke_key(session_factory: SessionFactory, key_id: int) -> None:
    async with session_factory() as session, session.begin():
        key = await session.get(ApiKey, key_id)
        if key is None:
            raise NotFound(f"no API key {key_id}")
        key.revoked_at = utcnow()


async def resolve_key(session_factory: SessionFactory, secret: str) -> Principal | None:
    """The principal behind a bearer secret, or None if unknown, expired, revoked or inactive."""
    now = utcnow()
    async with session_factory() as session:
        key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash(secret)))
        if key is None or key.revoked_at is not None:
            return None
        if key.expires_at is not None and key.expires_at <= now:
            return None
        user = await session.get(User, key.user_id) if key.user_id is not None else None
    if key.user_id is not None and (user is None or not user.active):
        return None
    return Principal(
        user_id=user.id if user else None,
        username=user.username if user else f"key:{key.key_prefix}",
        role=key.role,
        agent_id=user.agent_id if user else None,
    )
