"""Agents as stored: extension, server, campaign assignment. Live state is the runtime's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dialer.db.engine import SessionFactory
from dialer.db.models import Agent, Campaign
from dialer.runtime.agi_router import hash_pin
from dialer.services.errors import Conflict, Invalid, NotFound

EDITABLE = {"extension", "name", "asterisk_server", "active"}


async def _assign(session: Any, agent: Agent, campaign_ids: list[int]) -> None:
    campaigns = list(await session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids))))
    missing = set(campaign_ids) - {c.id for c in campaigns}
    if missing:
        raise Invalid(f"no campaigns {sorted(missing)}")
    agent.campaigns = campaigns


async def _extension_taken(session: Any, extension: str, other_than: int | None = None) -> bool:
    query = select(Agent.id).where(Agent.extension == extension)
    if other_than is not None:
        query = query.where(Agent.id != other_than)
    return await session.scalar(query) is not None


async def create_agent(
    session_factory: SessionFactory,
    fields: dict[str, Any],
    *,
    campaign_ids: list[int] | None = None,
    pin: str | None = None,
) -> Agent:
    unknown = set(fields) - EDITABLE
    if unknown:
        raise Invalid(f"unknown agent fields: {sorted(unknown)}")
    async with session_factory() as session, session.begin():
        if await _extension_taken(session, fields.get("extension", "")):
            raise Conflict(f"extension {fields.get('extension')!r} is taken")
        agent = Agent(**fields, pin_hash=hash_pin(pin) if pin else "")  # as *55 checks it
        agent.campaigns = []
        if campaign_ids:
            await _assign(session, agent, campaign_ids)
        session.add(agent)
        await session.flush()
    return agent


async def get_agent(session_factory: SessionFactory, agent_id: int) -> Agent:
    async with session_factory() as session:
        agent = await session.get(Agent, agent_id, options=[selectinload(Agent.campaigns)])
    if agent is None:
        raise NotFound(f"no agent {agent_id}")
    return agent


async def list_agents(session_factory: SessionFactory) -> list[Agent]:
    async with session_factory() as session:
        rows = await session.scalars(
            select(Agent).options(selectinload(Agent.campaigns)).order_by(Agent.id)
        )
        return list(rows)


async def update_agent(
    session_factory: SessionFactory,
    agent_id: int,
    fields: dict[str, Any],
    *,
    campaign_ids: list[int] | None = None,
) -> Agent:
    unknown = set(fields) - EDITABLE
    if unknown:
        raise Invalid(f"unknown agent fields: {sorted(unknown)}")
    async with session_factory() as session, session.begin():
        agent = await session.get(Agent, agent_id, options=[selectinload(Agent.campaigns)])
        if agent is None:
            raise NotFound(f"no agent {agent_id}")
        if "extension" in fields and await _extension_taken(session, fields["extension"], agent_id):
            raise Conflict(f"extension {fields['extension']!r} is taken")
        for key, value in fields.items():
            setattr(agent, key, value)
        if campaign_ids is not None:
            await _assign(session, agent, campaign_ids)
    return agent


async def delete_agent(session_factory: SessionFactory, agent_id: int) -> None:
    async with session_factory() as session, session.begin():
        agent = await session.get(Agent, agent_id)
        if agent is None:
            raise NotFound(f"no agent {agent_id}")
        await session.delete(agent)
