"""Shared fixtures: the real PostgreSQL and Mosquitto servers, and SQLite files.

Tests that need a server skip when it is unreachable, except under
`DIALER_REQUIRE_SERVICES=1` (set by CI), where a missing server fails the test.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_HOST = os.environ.get("DIALER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("DIALER_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("DIALER_TEST_PG_USER", "postgres")
MQTT_HOST = os.environ.get("DIALER_TEST_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("DIALER_TEST_MQTT_PORT", "1883"))
REQUIRE_SERVICES = os.environ.get("DIALER_REQUIRE_SERVICES") == "1"

# Asterisk transcripts recorded from a real server, kept with the tests (the copy is checked
# against the shared originals when those are beside the repository).
TRANSCRIPTS_DIR = Path(
    os.environ.get("DIALER_TRANSCRIPTS_DIR", Path(__file__).parent / "asterisk-transcripts")
)
SHARED_TRANSCRIPTS_DIR = Path(__file__).resolve().parents[2] / "shared" / "asterisk-transcripts"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _need(host: str, port: int, what: str) -> None:
    if _reachable(host, port):
        return
    msg = f"{what} is not reachable on {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(msg + " (DIALER_REQUIRE_SERVICES=1)")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def transcripts_dir() -> Path:
    if not TRANSCRIPTS_DIR.is_dir():
        pytest.fail(f"recorded Asterisk transcripts not found at {TRANSCRIPTS_DIR}")
    return TRANSCRIPTS_DIR


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the session; dropped at the end.

    Yields an asyncpg SQLAlchemy URL.
    """
    _need(PG_HOST, PG_PORT, "PostgreSQL")
    import asyncio

    import asyncpg

    name = f"dialer_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url(pg_server: str) -> str:
    return pg_server


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of the test's own (for tests that need an empty schema)."""
    _need(PG_HOST, PG_PORT, "PostgreSQL")
    import asyncio

    import asyncpg

    name = f"dialer_t_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{(tmp_path / 'dialer.db').as_posix()}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs on both databases, each with an empty schema."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{(tmp_path / 'dialer.db').as_posix()}"
    return request.getfixturevalue("pg_database")


@pytest.fixture
def mqtt_server() -> tuple[str, int]:
    _need(MQTT_HOST, MQTT_PORT, "MQTT broker")
    return MQTT_HOST, MQTT_PORT
