"""The models on both databases: UTC timestamps, JSON columns, constraints, associations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from dialer.db.engine import open_database
from dialer.db.enums import DIALABLE_LEAD_STATUSES, LeadStatus
from dialer.db.hashing import number_hash
from dialer.db.migrate import upgrade
from dialer.db.models import (
    Agent,
    AgentDailyCounter,
    ApiKey,
    AuditLog,
    CallAttempt,
    Callback,
    Campaign,
    ComplianceDecision,
    Lead,
    User,
)


async def test_timestamps_come_back_as_utc(db_url: str) -> None:
    await upgrade(db_url)
    shanghai = timezone(timedelta(hours=8))
    local = datetime(2026, 3, 1, 9, 30, tzinfo=shanghai)
    async with open_database(db_url) as session_factory:
        async with session_factory() as session, session.begin():
            campaign = Campaign(name="c")
            session.add(campaign)
            await session.flush()
            session.add(
                Lead(campaign_id=campaign.id, phone_e164="+8613812345678", next_call_at=local)
            )
        async with session_factory() as session:
            lead = await session.scalar(select(Lead))
            assert lead is not None
            assert lead.next_call_at == local
            assert lead.next_call_at.tzinfo == UTC
            assert lead.next_call_at.hour == 1
            assert lead.created_at.tzinfo == UTC
            assert campaign.compliance_profile == ["CN"]


async def test_naive_datetimes_are_refused(sqlite_url: str) -> None:
    await upgrade(sqlite_url)
    async with open_database(sqlite_url) as session_factory, session_factory() as session:
        session.add(Campaign(name="c", created_at=datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            await session.flush()


async def test_one_number_per_campaign(db_url: str) -> None:
    await upgrade(db_url)
    async with open_database(db_url) as session_factory:
        async with session_factory() as session, session.begin():
            first, second = Campaign(name="a"), Campaign(name="b")
            session.add_all([first, second])
            await session.flush()
            session.add_all(
                [
                    Lead(campaign_id=first.id, phone_e164="+8613812345678"),
                    Lead(campaign_id=second.id, phone_e164="+8613812345678"),
                ]
            )
        with pytest.raises(IntegrityError):
            async with session_factory() as session, session.begin():
                session.add(Lead(campaign_id=first.id, phone_e164="+8613812345678"))


async def test_foreign_keys_are_enforced(db_url: str) -> None:
    await upgrade(db_url)
    async with open_database(db_url) as session_factory:
        with pytest.raises(IntegrityError):
            async with session_factory() as session, session.begin():
                session.add(Lead(campaign_id=12345, phone_e164="+8613812345678"))


async def test_agents_attempts_callbacks_and_logs(db_url: str) -> None:
    await upgrade(db_url)
    now = datetime.now(UTC)
    async with open_database(db_url) as session_factory:
        async with session_factory() as session, session.begin():
            campaign = Campaign(name="c", pacing={"target_abandon_rate": 0.02, "ratio": 2})
            agent = Agent(
                extension="1001", name="小王", asterisk_server="pbx1", campaigns=[campaign]
            )
            session.add_all([campaign, agent])
            await session.flush()
            lead = Lead(campaign_id=campaign.id, phone_e164="+8613812345678")
            session.add(lead)
            await session.flush()
            session.add_all(
                [
                    CallAttempt(
                        id="att-00000001",
                        campaign_id=campaign.id,
                        lead_id=lead.id,
                        agent_id=agent.id,
                        number_dialed=lead.phone_e164,
                        originate_at=now,
                        abandoned=True,
                    ),
                    Callback(lead_id=lead.id, campaign_id=campaign.id, due_at=now),
                    AgentDailyCounter(agent_id=agent.id, day=date(2026, 3, 1), attempts=3),
                    AuditLog(actor="admin", action="campaign.create", detail={"名称": "c"}),
                    ComplianceDecision(
                        number_hash=number_hash(lead.phone_e164),
                        campaign_id=campaign.id,
                        rule_ids=["CN.window"],
                        allowed=False,
                    ),
                ]
            )
            user = User(username="boss", role="admin")
            user.api_keys.append(ApiKey(key_prefix="dk_1", key_hash="x" * 64, role="admin"))
            session.add(user)
        async with session_factory() as session:
            loaded = await session.scalar(
                select(Agent)
                .options(selectinload(Agent.campaigns))
                .where(Agent.extension == "1001")
            )
            assert loaded is not None and [c.name for c in loaded.campaigns] == ["c"]
            attempt = await session.get(CallAttempt, "att-00000001")
            assert attempt is not None and attempt.abandoned and attempt.terminal_state is None
            callback = await session.scalar(select(Callback))
            assert (
                callback is not None and callback.agent_id is None and callback.status == "pending"
            )
            log = await session.scalar(select(AuditLog))
            assert log is not None and log.detail == {"名称": "c"}


async def test_hopper_query_uses_the_index_on_postgresql(pg_database: str) -> None:
    await upgrade(pg_database)
    statement = (
        select(Lead.id)
        .where(
            Lead.campaign_id == 1,
            Lead.status.in_([str(status) for status in DIALABLE_LEAD_STATUSES]),
            Lead.next_call_at <= datetime.now(UTC),
        )
        .order_by(Lead.priority.desc())
        .limit(100)
    )
    async with open_database(pg_database) as session_factory, session_factory() as session:
        await session.execute(text("SET enable_seqscan = off"))
        compiled = statement.compile(
            dialect=session.bind.dialect, compile_kwargs={"literal_binds": True}
        )
        plan = (await session.execute(text(f"EXPLAIN {compiled}"))).scalars().all()
    assert any("ix_leads_hopper" in line for line in plan), plan


def test_number_hash_is_sha256_of_e164() -> None:
    assert number_hash("+8613812345678") == (
        "2ebdcb1bacf1ff0801da3dac97a864a1d35d3b3b7aa75c47bd4b220f9f04c4e2"
    )
    assert LeadStatus.NEW in DIALABLE_LEAD_STATUSES and LeadStatus.DNC not in DIALABLE_LEAD_STATUSES


async def test_number_and_claim_lookups_use_indexes_on_postgresql(pg_database: str) -> None:
    """A refusal suppresses a number in every campaign; stale hopper claims are released."""
    await upgrade(pg_database)
    queries = {
        "uq_leads_phone_campaign": "UPDATE leads SET status = 'dnc' "
        "WHERE phone_e164 = '+8613812345678' AND status IN ('new', 'retry')",
        "ix_leads_claimed_by": "UPDATE leads SET claimed_by = NULL "
        "WHERE claimed_by = 'runtime-1' AND status = 'in_hopper'",
    }
    async with open_database(pg_database) as session_factory, session_factory() as session:
        await session.execute(text("SET enable_seqscan = off"))
        for index, query in queries.items():
            plan = (await session.execute(text(f"EXPLAIN {query}"))).scalars().all()
            assert any(index in line for line in plan), plan
