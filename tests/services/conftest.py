"""A migrated database (SQLite and PostgreSQL) and its session factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dialer.db.engine import SessionFactory, open_database
from dialer.db.migrate import upgrade


@pytest.fixture
async def session_factory(db_url: str) -> AsyncIterator[SessionFactory]:
    await upgrade(db_url)
    async with open_database(db_url) as factory:
        yield factory
