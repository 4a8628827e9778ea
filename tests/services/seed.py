"""A small campaign whose report numbers are worked out by hand in the tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dialer.db.engine import SessionFactory
from dialer.db.models import Agent, AgentDailyCounter, CallAttempt, Campaign, ComplianceDecision

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return DAY + timedelta(hours=hh, minutes=mm, seconds=ss)


async def seed_campaign(session_factory: SessionFactory) -> tuple[int, int]:
    """5 counted dials (one more cancelled): 4 answered, 3 live, 1 abandoned, 1 sale,
    180 s of talk by one agent; 2 compliance refusals."""
    async with session_factory() as session, session.begin():
        campaign = Campaign(name="report")
        agent = Agent(extension="2001", name="王五")
        session.add_all([campaign, agent])
        await session.flush()
        cid, aid = campaign.id, agent.id

        def attempt(name: str, start: datetime, **kw: object) -> CallAttempt:
            return CallAttempt(
                id=name, campaign_id=cid, number_dialed="+8613800000000", originate_at=start, **kw
            )

        session.add_all(
            [
                attempt(
                    "a1",
                    at(9, 10),
                    answer_at=at(9, 10, 5),
                    outcome="human",
                    agent_id=aid,
                    connect_at=at(9, 10, 6),
                    hangup_at=at(9, 11, 6),
                    disposition="SALE",
                    terminal_state="connected",
                ),
                attempt(
                    "a2",
                    at(9, 20),
                    answer_at=at(9, 20, 5),
                    outcome="human",
                    agent_id=aid,
                    connect_at=at(9, 20, 10),
                    hangup_at=at(9, 22, 10),
                    disposition="NOT_NOW",
                    terminal_state="connected",
                ),
                attempt(
                    "a3",
                    at(9, 30),
                    answer_at=at(9, 30, 4),
                    outcome="human",
                    abandoned=True,
                    disposition="ABANDONED",
                    terminal_state="abandoned",
                ),
                attempt(
                    "a4",
                    at(10, 5),
                    outcome="no_answer",
                    disposition="NA",
                    terminal_state="not_answered",
                ),
                attempt(
                    "a5",
                    at(10, 15),
                    answer_at=at(10, 15, 9),
                    outcome="machine",
                    disposition="MACHINE",
                    terminal_state="machine",
                ),
                attempt("a6", at(10, 20), terminal_state="cancelled"),
                AgentDailyCounter(
                    agent_id=aid,
                    day=date(2026, 3, 2),
                    attempts=2,
                    connects=2,
                    talk_seconds=180,
                    wrap_seconds=45,
                ),
                ComplianceDecision(
                    number_hash="h1",
                    campaign_id=cid,
                    rule_ids=["CN.hours"],
                    allowed=False,
                    at=at(8, 0),
                ),
                ComplianceDecision(
                    number_hash="h2",
                    campaign_id=cid,
                    rule_ids=["CN.hours", "DNC.company"],
                    allowed=False,
                    at=at(8, 1),
                ),
                ComplianceDecision(
                    number_hash="h3", campaign_id=cid, rule_ids=[], allowed=True, at=at(9, 0)
                ),
            ]
        )
    return cid, aid
