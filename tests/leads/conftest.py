"""A migrated database per session and backend, shared by tests that each use their own campaign.

Creating and migrating a database per test costs about a second on PostgreSQL; tests that only
touch their own campaign share one instead. Tests that need an empty database (global DNC
entries, fixed ids) use the `db_url` fixture.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dialer.db.migrate import upgrade


async def _admin(server_url: str, sql: str) -> None:
    import asyncpg

    url = make_url(server_url)
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database="postgres"
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def _shared_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("shared") / "dialer.db"
    url = f"sqlite+aiosqlite:///{path.as_posix()}"
    asyncio.run(upgrade(url))
    return url


@pytest.fixture(scope="session")
def _shared_postgresql(pg_server: str) -> Iterator[str]:
    name = f"dialer_leads_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(pg_server, f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    try:
        asyncio.run(upgrade(url))
        yield url
    finally:
        asyncio.run(_admin(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database that other tests use too: create your own campaign in it."""
    if request.param == "sqlite":
        return request.getfixturevalue("_shared_sqlite")
    return request.getfixturevalue("_shared_postgresql")
