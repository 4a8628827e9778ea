"""An app for synchronous clients (Starlette's TestClient, schemathesis): those run the app on
their own event loop, so the engine must not pool connections across loops."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.pool import NullPool

from api.app import create_app
from dialer.db.engine import create_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.db.models import Campaign
from dialer.leads.phone import parse_number
from dialer.services import agents, users
from dialer.settings import Settings
from tests.api.fakes import FakeRuntime


@dataclass
class SyncApp:
    app: FastAPI
    runtime: FakeRuntime
    tokens: dict[str, str]  # role -> bearer secret
    agent_extension: str


def build_sync_app(tmp_path: Path) -> SyncApp:
    url = f"sqlite+aiosqlite:///{(tmp_path / 'sync.db').as_posix()}"
    factory = make_session_factory(create_engine(url, poolclass=NullPool))

    async def prepare() -> tuple[dict[str, str], str]:
        await upgrade(url)
        agent = await agents.create_agent(factory, {"extension": "3001", "name": "ws"})
        admin = await users.ensure_admin(factory, "root", "long password")
        supervisor = await users.create_user(factory, "sup", "long password", "supervisor")
        agent_user = await users.create_user(
            factory, "ag", "long password", "agent", agent_id=agent.id
        )
        tokens = {
            "admin": (await users.issue_key(factory, admin)).secret,
            "supervisor": (await users.issue_key(factory, supervisor)).secret,
            "agent": (await users.issue_key(factory, agent_user)).secret,
        }
        return tokens, agent.extension

    tokens, extension = asyncio.run(prepare())
    runtime = FakeRuntime()

    async def compliance_check(number: str, campaign_id: int, at: datetime | None) -> dict:
        """A stand-in engine: refuses numbers it cannot parse and unknown campaigns."""
        async with factory() as session:
            if await session.get(Campaign, campaign_id) is None:
                raise LookupError(f"no campaign {campaign_id}")
        parse_number(number, "CN")  # raises InvalidNumber (a ValueError)
        return {"allowed": True, "reasons": [], "next_allowed_at": None}

    app = create_app(
        Settings(data_dir=tmp_path),
        session_factory=factory,
        runtime=runtime,
        compliance_check=compliance_check,
    )
    return SyncApp(app, runtime, tokens, extension)
