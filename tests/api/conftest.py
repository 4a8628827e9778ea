"""An app on a migrated database, with users of each role and their tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from dialer.db.engine import SessionFactory, create_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.db.models import User
from dialer.services import agents, users
from dialer.settings import HttpSettings, Settings
from tests.api.fakes import FakeRuntime

PASSWORD = "correct horse battery"


@dataclass
class Harness:
    app: FastAPI
    client: httpx.AsyncClient
    session_factory: SessionFactory
    runtime: FakeRuntime
    admin: dict[str, str]
    supervisor: dict[str, str]
    agent: dict[str, str]
    agent_id: int
    other_agent_id: int


async def _token(factory: SessionFactory, user: User) -> dict[str, str]:
    """A bearer header (login over HTTP is tested on its own)."""
    return {"Authorization": f"Bearer {(await users.issue_key(factory, user)).secret}"}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scrypt at a low cost: the parameters travel in each hash, so verification still works."""
    monkeypatch.setattr(users, "SCRYPT_N", 2**8)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, http=HttpSettings(max_upload_mb=1))


async def make_harness(url: str, settings: Settings) -> AsyncIterator[Harness]:
    await upgrade(url)
    engine = create_engine(url)
    factory = make_session_factory(engine)
    runtime = FakeRuntime()
    app = create_app(settings, session_factory=factory, runtime=runtime)
    mine = await agents.create_agent(factory, {"extension": "1001", "name": "A"})
    other = await agents.create_agent(factory, {"extension": "1002", "name": "B"})
    admin = await users.ensure_admin(factory, "root", PASSWORD)
    supervisor = await users.create_user(factory, "sup", PASSWORD, "supervisor")
    agent_user = await users.create_user(factory, "ag", PASSWORD, "agent", agent_id=mine.id)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Harness(
            app=app,
            client=client,
            session_factory=factory,
            runtime=runtime,
            admin=await _token(factory, admin),
            supervisor=await _token(factory, supervisor),
            agent=await _token(factory, agent_user),
            agent_id=mine.id,
            other_agent_id=other.id,
        )
    await engine.dispose()


@pytest.fixture
async def harness(db_url: str, settings: Settings) -> AsyncIterator[Harness]:
    """On SQLite and PostgreSQL."""
    async for h in make_harness(db_url, settings):
        yield h


@pytest.fixture
async def sqlite_harness(sqlite_url: str, settings: Settings) -> AsyncIterator[Harness]:
    """SQLite only: for HTTP behaviour that does not depend on the database."""
    async for h in make_harness(sqlite_url, settings):
        yield h
