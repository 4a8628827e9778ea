"""End to end: `make demo`'s setup (service, pbxsim, simulated agents) runs a campaign with
10 agents for a few simulated minutes over real sockets, then the books must balance."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select

from dialer.db.migrate import upgrade
from dialer.db.models import AgentDailyCounter, CallAttempt, Lead, SuppressionEntry
from dialer.demo import DemoOptions, read_books, start_demo, stop_demo
from dialer.runtime.attempt_state import TERMINAL, AttemptState
from dialer.settings import Settings

# Monday 2 March 2026, 10:00 in Shanghai: a working day inside the 09:00-18:00 window.
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
SPEED = 20.0  # the 2 s connect window is 100 ms of real time: room for a busy machine
SIM_MINUTES = 6.0


async def test_campaign_books_balance(db_url, tmp_path):
    await upgrade(db_url)
    settings = Settings(database_url=db_url, data_dir=tmp_path)
    options = DemoOptions(
        speed=SPEED, agents=10, leads=2_000, live_view=False, serve_http=False, start_wall=START
    )
    subscriptions = []
    world = await start_demo(
        settings,
        options,
        before_agents=lambda service: subscriptions.append(
            service.bus.subscribe("call/", maxsize=100_000, replay=False)
        ),
    )
    service = world.service
    terminal_events: Counter[str] = Counter()
    (call_events,) = subscriptions

    async def count_terminal_events() -> None:
        async for event in call_events:
            if AttemptState(event.payload["state"]) in TERMINAL:
                terminal_events[event.payload["attempt_id"]] += 1

    counter = asyncio.create_task(count_terminal_events())
    await asyncio.sleep(SIM_MINUTES * 60 / SPEED)
    await stop_demo(world)
    counter.cancel()
    stats = service.engine.campaign_stats(world.campaign_id)
    assert stats is not None
    books = await read_books(service.sessions, world.campaign_id)

    # It really dialled, answered and connected.
    assert books.attempts >= 50, books
    assert books.live_answers >= 20, books
    assert world.agents.errors == []

    # Every attempt ended, exactly once, in the database and on the event stream.
    assert books.open_attempts == 0, books
    assert set(terminal_events) == {a for a in await _attempt_ids(service, world.campaign_id)}
    assert max(terminal_events.values()) == 1

    # The runtime's own totals agree with the database.
    assert stats["dials"] == books.attempts
    assert stats["completed"] == books.by_state.get("completed", 0)
    assert stats["abandons"] == books.abandons
    assert stats["machines"] == books.by_state.get("machine", 0)
    assert stats["no_answer"] == books.by_state.get("no_answer", 0)
    assert stats["lost"] == books.by_state.get("lost", 0) == 0

    # Every completed call has its disposition; agents' counters add up to them.
    assert books.dispositions == books.by_state.get("completed", 0)
    assert world.agents.dispositions == books.dispositions - await _system_closed(service)
    async with service.sessions() as s:
        counters = (await s.execute(select(AgentDailyCounter))).scalars().all()
        attempts = (
            (
                await s.execute(
                    select(CallAttempt).where(CallAttempt.campaign_id == world.campaign_id)
                )
            )
            .scalars()
            .all()
        )
        suppressed = (await s.execute(select(SuppressionEntry))).scalars().all()
        leads = (
            (await s.execute(select(Lead).where(Lead.campaign_id == world.campaign_id)))
            .scalars()
            .all()
        )
    assert sum(c.connects for c in counters) == books.by_state.get("completed", 0)

    # Leads: attempt counts match, nobody dialled twice at once.
    per_lead = Counter(a.lead_id for a in attempts)
    for lead in leads:
        assert lead.attempt_count == per_lead.get(lead.id, 0), lead.id
    by_lead: dict[int, list[CallAttempt]] = {}
    for a in sorted(attempts, key=lambda a: a.originate_at):
        earlier = by_lead.setdefault(a.lead_id, [])
        assert all(e.end_at is not None and e.end_at <= a.originate_at for e in earlier)
        earlier.append(a)

    # Compliance: no dial outside 09:00-18:00 Shanghai on a working day, none to a number
    # suppressed before the dial (refusals suppress at once).
    cn = holidays.country_holidays("CN", years=2026)
    for a in attempts:
        local = _aware(a.originate_at).astimezone(SHANGHAI)
        assert 9 <= local.hour < 18 and local.weekday() < 5 and local.date() not in cn
    blocked_since = {e.phone_e164: _aware(e.created_at) for e in suppressed}
    for a in attempts:
        since = blocked_since.get(a.number_dialed)
        assert since is None or _aware(a.originate_at) < since, a.number_dialed
    refused = [a for a in attempts if a.disposition == "REFUSED"]
    assert all(a.number_dialed in blocked_since for a in refused)

    # Abandonment under the 3% target.
    assert books.abandon_rate <= 0.03, books


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


async def _attempt_ids(service, campaign_id: int) -> set[str]:
    async with service.sessions() as s:
        rows = await s.execute(select(CallAttempt.id).where(CallAttempt.campaign_id == campaign_id))
        return {r for (r,) in rows}


async def _system_closed(service) -> int:
    async with service.sessions() as s:
        rows = await s.execute(
            select(CallAttempt.id).where(
                CallAttempt.disposition.in_(("WRAPUP_TIMEOUT", "AGENT_GONE", "SYSTEM_CLOSED"))
            )
        )
        return len(rows.all())
