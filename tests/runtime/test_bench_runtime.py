"""The runtime benchmark's own arithmetic: its presets, percentiles and the books it keeps
(a duplicate is two attempts of one lead overlapping in time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialer.bench.runtime import parse_args, quantiles, read_books
from dialer.db.engine import open_database
from dialer.db.migrate import upgrade
from dialer.db.models import CallAttempt, Campaign, Lead

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_presets():
    full = parse_args([])
    assert (full.minutes, full.agents, full.calls, full.database) == (10, 500, 2000, "postgresql")
    quick = parse_args(["--quick", "--database", "sqlite"])
    assert (quick.minutes, quick.agents, quick.calls, quick.database) == (1, 100, 400, "sqlite")
    assert parse_args(["--quick", "--agents", "50"]).agents == 50
    assert full.lead_count() > full.calls / 18 * 600  # enough leads for the whole run
    assert 4 < full.dial_ratio() < 5


def test_quantiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert quantiles(values, 0.5, 0.99, 1.0) == [50.0, 99.0, 100.0]
    assert quantiles([], 0.5)[0] != quantiles([], 0.5)[0]  # NaN when there is nothing


async def test_books_count_open_lost_and_overlapping_attempts(db_url):
    await upgrade(db_url)
    async with open_database(db_url) as sessions:
        async with sessions() as s, s.begin():
            campaign = Campaign(name="books")
            s.add(campaign)
            await s.flush()
            leads = [
                Lead(campaign_id=campaign.id, phone_e164=f"+8613800000{i:03d}", attempt_count=1)
                for i in range(4)
            ]
            s.add_all(leads)
            await s.flush()

            def attempt(n: int, lead: Lead, start: int, end: int | None, state: str | None):
                return CallAttempt(
                    id=f"att-{n}",
                    campaign_id=campaign.id,
                    lead_id=lead.id,
                    number_dialed=lead.phone_e164,
                    originate_at=T0 + timedelta(seconds=start),
                    end_at=None if end is None else T0 + timedelta(seconds=end),
                    terminal_state=state,
                )

            s.add_all(
                [
                    attempt(1, leads[0], 0, 30, "no_answer"),
                    attempt(2, leads[0], 30, 40, "busy"),  # starts as the first ends: fine
                    attempt(3, leads[1], 0, 50, "completed"),
                    attempt(4, leads[1], 20, 25, "machine"),  # inside the first: duplicate
                    attempt(5, leads[2], 0, None, None),  # still open
                    attempt(6, leads[2], 10, 20, "lost"),  # after an open one: duplicate
                    attempt(7, leads[3], 5, 9, "lost"),
                ]
            )
            campaign_id = campaign.id
        books = await read_books(sessions, campaign_id)
    assert books.attempts == 7
    assert books.open_attempts == 1
    assert books.lost == 2
    assert books.duplicates == 2
    assert books.leads_dialed == 4
    assert books.by_state["no_answer"] == 1 and books.by_state["open"] == 1
