"""A migrated database with a campaign of the test's own, for the lead tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import select

from dialer.db.engine import SessionFactory, open_database
from dialer.db.migrate import upgrade
from dialer.db.models import Lead
from dialer.leads.campaigns import create_campaign


@dataclass
class Db:
    session_factory: SessionFactory
    campaign_id: int

    async def leads(self, campaign_id: int | None = None) -> list[Lead]:
        async with self.session_factory() as session:
            rows = await session.scalars(
                select(Lead)
                .where(Lead.campaign_id == (campaign_id or self.campaign_id))
                .order_by(Lead.id)
            )
            return list(rows)


@asynccontextmanager
async def campaign_db(url: str) -> AsyncIterator[Db]:
    """The database (migrated if needed) with a new campaign of the test's own."""
    await upgrade(url)
    async with open_database(url) as session_factory:
        campaign = await create_campaign(session_factory, f"测试活动-{uuid.uuid4().hex[:8]}")
        yield Db(session_factory, campaign.id)
