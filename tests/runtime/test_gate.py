"""The compliance gate against a real database: what it reads must reach the engine, so a
refusal of any age, a stale scrub, a registry hit or a complaint really blocks a dial."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from compliance import AbandonmentStatus, AgentCounters, Decision
from compliance import number_hash as compliance_hash
from dialer.db.engine import create_engine, make_session_factory
from dialer.db.enums import SuppressionListKind, SuppressionScope
from dialer.db.hashing import number_hash
from dialer.db.migrate import upgrade
from dialer.db.models import (
    CallAttempt,
    Campaign,
    Complaint,
    ComplianceDecision,
    Disposition,
    SuppressionEntry,
    SuppressionList,
)
from dialer.runtime.campaigns import CampaignConfig
from dialer.runtime.gate import ComplianceGate, registry_id
from dialer.runtime.store import ClaimedLead
from dialer.runtime.store_writer import StoreWriter

# Tuesday 22 September 2026, 10:00 in Shanghai: a working day, inside 09:00-18:00.
CN_AT = datetime(2026, 9, 22, 2, 0, tzinfo=UTC)
# Wednesday 15 July 2026: 12:00 in New York, 12:00 in London (BST).
US_AT = datetime(2026, 7, 15, 16, 0, tzinfo=UTC)
UK_AT = datetime(2026, 7, 15, 11, 0, tzinfo=UTC)

CN_NUMBER = "+8613812345678"
US_NUMBER = "+12125550123"  # New York: federal rules only
UK_NUMBER = "+442071234567"
FR_NUMBER = "+33612345678"
US_CALLER_ID = "+12125550100"
UK_CALLER_ID = "+442079460000"
UK_PREMIUM_CALLER_ID = "+449098790000"


@dataclass
class World:
    sessions: Any
    cn: int
    other: int
    us: int
    uk: int
    fr: int

    async def add(self, *rows: Any) -> None:
        async with self.sessions() as s, s.begin():
            s.add_all(rows)

    async def config(self, campaign_id: int) -> CampaignConfig:
        async with self.sessions() as s:
            row = await s.get(Campaign, campaign_id)
            assert row is not None
            return CampaignConfig.from_row(row)


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    await upgrade(db_url)
    engine = create_engine(db_url)
    sessions = make_session_factory(engine)
    async with sessions() as s, s.begin():
        camps = {
            key: Campaign(
                name=key,
                compliance_profile=profile,
                caller_id_pool=pool,
                safe_harbor_message="safe-harbor",
                max_attempts=0,
            )
            for key, profile, pool in (
                ("cn", ["CN"], []),
                ("other", ["CN"], []),
                ("us", ["US"], [US_CALLER_ID]),
                ("uk", ["UK"], [UK_CALLER_ID]),
                ("fr", ["FR"], []),
            )
        }
        s.add_all(camps.values())
        s.add_all(
            [
                Disposition(code="SALE", label="sale", human_answered=True, success=True),
                Disposition(code="REFUSED", label="明确拒绝", human_answered=True, refusal=True),
                Disposition(code="COMPLAINT", label="complaint", complaint=True),
            ]
        )
        await s.flush()
        ids = {key: c.id for key, c in camps.items()}
    yield World(sessions, **ids)
    await engine.dispose()


def attempt(campaign_id: int, number: str, at: datetime, **fields: Any) -> CallAttempt:
    values: dict[str, Any] = {"outcome": "human", "terminal_state": "connected", **fields}
    return CallAttempt(
        id=f"att-{campaign_id}-{at.timestamp():.0f}",
        campaign_id=campaign_id,
        number_dialed=number,
        originate_at=at,
        **values,
    )


def registry_list(name: str, scrubbed_at: datetime) -> SuppressionList:
    return SuppressionList(
        name=name, kind=SuppressionListKind.NATIONAL_REGISTRY, scrubbed_at=scrubbed_at
    )


def rules(decision: Decision) -> set[str]:
    return {r.rule for r in decision.reasons}


def lead_of(config: CampaignConfig, number: str) -> ClaimedLead:
    return ClaimedLead(
        id=1,
        campaign_id=config.id,
        phone_e164=number,
        timezones=[],
        region="",
        attempt_count=0,
        status="new",
        priority=0,
    )


# -- allowed, and what makes a block permanent ------------------------------------------------


async def test_clean_number_in_hours_is_allowed(world: World) -> None:
    gate = ComplianceGate(world.sessions)
    config = await world.config(world.cn)
    decision = await gate.check_lead(config, lead_of(config, CN_NUMBER), CN_AT)
    assert decision.allowed and decision.reasons == [] and not gate.is_permanent(decision)


async def test_decision_final_drives_permanence(world: World) -> None:
    gate = ComplianceGate(world.sessions)
    evening = CN_AT + timedelta(hours=9)  # 19:00 in Shanghai: the window is closed
    closed = await gate.check(CN_NUMBER, world.cn, evening)
    assert rules(closed) == {"cn.window"} and closed.next_allowed_at is not None
    assert not closed.final and not gate.is_permanent(closed)
    await world.add(
        SuppressionEntry(
            scope=SuppressionScope.COMPANY,
            phone_e164=CN_NUMBER,
            number_hash=number_hash(CN_NUMBER),
            reason="by ops",
        )
    )
    suppressed = await gate.check(CN_NUMBER, world.cn, CN_AT)
    assert rules(suppressed) == {"dnc.company"}
    assert suppressed.final and gate.is_permanent(suppressed)


# -- refusals and complaints, at any age and in any campaign ----------------------------------


async def test_refusal_100_days_ago_in_another_campaign_blocks_a_cn_campaign(
    world: World,
) -> None:
    await world.add(
        attempt(world.other, CN_NUMBER, CN_AT - timedelta(days=100), disposition="REFUSED"),
        attempt(world.cn, CN_NUMBER, CN_AT - timedelta(days=2), disposition="SALE"),
    )
    gate = ComplianceGate(world.sessions)
    config = await world.config(world.cn)
    decision = await gate.check_lead(config, lead_of(config, CN_NUMBER), CN_AT)
    assert rules(decision) == {"cn.refusal"}
    assert decision.next_allowed_at is None and gate.is_permanent(decision)
    assert "2026-06-14" in decision.reasons[0].detail  # the refusal's own date


async def test_france_refusal_50_days_ago_blocks_until_60_days(world: World) -> None:
    at = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)  # Tuesday 11:00 in Paris
    refused = at - timedelta(days=50)
    await world.add(attempt(world.other, FR_NUMBER, refused, disposition="REFUSED"))
    decision = await ComplianceGate(world.sessions).check(FR_NUMBER, world.fr, at)
    assert rules(decision) == {"fr.refusal"}
    assert decision.next_allowed_at is not None
    assert decision.next_allowed_at >= refused + timedelta(days=60)
    assert not decision.final  # it lifts with time: the lead is not closed


async def test_campaign_code_overrides_a_global_code_of_the_same_name(world: World) -> None:
    await world.add(
        Disposition(campaign_id=world.other, code="REFUSED", label="not a refusal here"),
        attempt(world.other, CN_NUMBER, CN_AT - timedelta(days=100), disposition="REFUSED"),
    )
    assert (await ComplianceGate(world.sessions).check(CN_NUMBER, world.cn, CN_AT)).allowed


async def test_complaint_row_blocks(world: World) -> None:
    await world.add(Complaint(phone_e164=CN_NUMBER, received_at=CN_AT - timedelta(days=1)))
    decision = await ComplianceGate(world.sessions).check(CN_NUMBER, world.cn, CN_AT)
    assert rules(decision) == {"dnc.complaint"} and decision.final


async def test_complaint_disposition_of_any_age_blocks(world: World) -> None:
    await world.add(
        attempt(world.other, CN_NUMBER, CN_AT - timedelta(days=400), disposition="COMPLAINT")
    )
    decision = await ComplianceGate(world.sessions).check(CN_NUMBER, world.cn, CN_AT)
    assert rules(decision) == {"dnc.complaint"} and decision.final


# -- registries: names mapped to the engine's ids, scrub dates seen -------------------------


async def test_stale_us_dnc_scrub_blocks_and_a_fresh_one_passes(world: World) -> None:
    gate = ComplianceGate(world.sessions)
    await world.add(registry_list("US DNC", US_AT - timedelta(days=40)))
    stale = await gate.check(US_NUMBER, world.us, US_AT)
    assert rules(stale) == {"us.dnc.scrub"}
    assert stale.next_allowed_at is None and not gate.is_permanent(stale)  # retried later
    await world.add(registry_list("National DNC Registry 2026-07", US_AT - timedelta(days=3)))
    assert (await gate.check(US_NUMBER, world.us, US_AT)).allowed  # the latest scrub counts


async def test_us_dnc_entry_blocks(world: World) -> None:
    await world.add(
        registry_list("us_dnc", US_AT - timedelta(days=3)),
        SuppressionEntry(
            scope=SuppressionScope.REGISTRY,
            registry_name="US DNC",
            number_hash=number_hash(US_NUMBER),
        ),
    )
    decision = await ComplianceGate(world.sessions).check(US_NUMBER, world.us, US_AT)
    assert rules(decision) == {"us.dnc.registry"} and decision.final


async def test_uk_tps_entry_blocks(world: World) -> None:
    await world.add(
        registry_list("TPS", UK_AT - timedelta(days=5)),
        SuppressionEntry(
            scope=SuppressionScope.REGISTRY, registry_name="TPS", number_hash=number_hash(UK_NUMBER)
        ),
    )
    gate = ComplianceGate(world.sessions)
    config = await world.config(world.uk)
    decision = await gate.check_lead(config, lead_of(config, UK_NUMBER), UK_AT)
    assert rules(decision) == {"uk.tps.registry"} and gate.is_permanent(decision)


async def test_uk_ctps_entry_named_by_its_list_blocks(world: World) -> None:
    ctps = SuppressionList(name="Corporate TPS", kind=SuppressionListKind.NATIONAL_REGISTRY)
    await world.add(ctps, registry_list("uk.tps", UK_AT - timedelta(days=5)))
    await world.add(
        SuppressionEntry(
            list_id=ctps.id, scope=SuppressionScope.REGISTRY, number_hash=number_hash(UK_NUMBER)
        )
    )
    decision = await ComplianceGate(world.sessions).check(UK_NUMBER, world.uk, UK_AT)
    assert rules(decision) == {"uk.ctps.registry"}


async def test_a_registry_without_rules_of_its_own_still_blocks(world: World) -> None:
    await world.add(
        SuppressionEntry(
            scope=SuppressionScope.REGISTRY,
            registry_name="工信部",
            number_hash=number_hash(CN_NUMBER),
        )
    )
    decision = await ComplianceGate(world.sessions).check(CN_NUMBER, world.cn, CN_AT)
    assert rules(decision) == {"dnc.registry"} and decision.final


async def test_expired_and_other_campaign_entries_do_not_apply(world: World) -> None:
    await world.add(
        SuppressionEntry(
            scope=SuppressionScope.COMPANY,
            phone_e164=CN_NUMBER,
            number_hash=number_hash(CN_NUMBER),
            expires_at=CN_AT - timedelta(days=1),
        ),
        SuppressionEntry(
            scope=SuppressionScope.CAMPAIGN,
            campaign_id=world.other,
            number_hash=number_hash(CN_NUMBER),
        ),
    )
    gate = ComplianceGate(world.sessions)
    assert (await gate.check(CN_NUMBER, world.cn, CN_AT)).allowed
    assert rules(await gate.check(CN_NUMBER, world.other, CN_AT)) == {"dnc.campaign"}


# -- caller ID, agent counters, abandonment --------------------------------------------------


async def test_caller_id_comes_from_the_campaign(world: World) -> None:
    await world.add(registry_list("US DNC", US_AT - timedelta(days=3)))
    gate = ComplianceGate(world.sessions)
    config = await world.config(world.us)
    lead = lead_of(config, US_NUMBER)
    assert (await gate.check_lead(config, lead, US_AT)).allowed
    config.caller_id_pool = []
    assert rules(await gate.check_lead(config, lead, US_AT)) == {"us.caller_id"}
    assert (await gate.check_lead(config, lead, US_AT, caller_id=US_CALLER_ID)).allowed


async def test_every_caller_id_of_the_pool_must_be_callable_in_the_uk(world: World) -> None:
    await world.add(registry_list("TPS", UK_AT - timedelta(days=5)))
    gate = ComplianceGate(world.sessions)
    config = await world.config(world.uk)
    config.caller_id_pool = [UK_CALLER_ID, UK_PREMIUM_CALLER_ID]
    lead = lead_of(config, UK_NUMBER)
    assert rules(await gate.check_lead(config, lead, UK_AT)) == {"uk.caller_id"}
    assert (await gate.check_lead(config, lead, UK_AT, caller_id=UK_CALLER_ID)).allowed


async def test_agent_counters_abandonment_and_guarantee_reach_the_engine(world: World) -> None:
    await world.add(registry_list("TPS", UK_AT - timedelta(days=5)))
    gate = ComplianceGate(world.sessions)
    cn = await world.config(world.cn)
    capped = await gate.check_lead(
        cn, lead_of(cn, CN_NUMBER), CN_AT, agent=AgentCounters("a1", 200)
    )
    assert rules(capped) == {"cn.agent_daily_cap"} and not capped.final
    uk = await world.config(world.uk)
    over = AbandonmentStatus(
        live_answers=100,
        abandons=5,
        limit=0.03,
        window_start=UK_AT - timedelta(hours=11),
        recovers_at=None,
    )
    lead = lead_of(uk, UK_NUMBER)
    assert rules(await gate.check_lead(uk, lead, UK_AT, abandonment=over)) == {"uk.abandon_rate"}
    assert (await gate.check_lead(uk, lead, UK_AT, abandonment=over, agent_guaranteed=True)).allowed


async def test_uk_abandon_72h_from_the_history(world: World) -> None:
    await world.add(
        registry_list("TPS", UK_AT - timedelta(days=5)),
        attempt(
            world.uk,
            UK_NUMBER,
            UK_AT - timedelta(hours=10),
            abandoned=True,
            terminal_state="abandoned",
        ),
    )
    gate = ComplianceGate(world.sessions)
    decision = await gate.check(UK_NUMBER, world.uk, UK_AT)
    assert rules(decision) == {"uk.abandon_72h"}
    assert decision.next_allowed_at == UK_AT + timedelta(hours=62)
    config = await world.config(world.uk)
    guaranteed = await gate.check_lead(
        config, lead_of(config, UK_NUMBER), UK_AT, agent_guaranteed=True
    )
    assert guaranteed.allowed


# -- numbers, hashes and the decision log ----------------------------------------------------


async def test_raw_and_invalid_numbers(world: World) -> None:
    gate = ComplianceGate(world.sessions)
    await world.add(
        SuppressionEntry(scope=SuppressionScope.COMPANY, number_hash=number_hash(CN_NUMBER))
    )
    national = await gate.check("138 1234 5678", world.cn, CN_AT)  # found by its E.164 hash
    assert rules(national) == {"dnc.company"}
    invalid = await gate.check("12345", world.cn, CN_AT)
    assert rules(invalid) == {"number.invalid"} and gate.is_permanent(invalid)
    with pytest.raises(LookupError):
        await gate.check(CN_NUMBER, 9999, CN_AT)


async def test_decision_log_keeps_the_hash_only(world: World) -> None:
    writer = StoreWriter(world.sessions)
    task = asyncio.create_task(writer.run())
    try:
        gate = ComplianceGate(world.sessions, writer=writer)
        await gate.check(CN_NUMBER, world.cn, CN_AT, lead_id=None)
        assert await writer.flush(5)
    finally:
        task.cancel()
    async with world.sessions() as s:
        row = (await s.execute(select(ComplianceDecision))).scalar_one()
    assert row.number_hash == number_hash(CN_NUMBER) and row.allowed
    assert CN_NUMBER not in str(row.detail)


def test_the_two_number_hashes_are_one() -> None:
    """Lists, leads and decision logs hashed by either side must keep matching."""
    assert (
        number_hash(CN_NUMBER)
        == compliance_hash(CN_NUMBER)
        == ("2ebdcb1bacf1ff0801da3dac97a864a1d35d3b3b7aa75c47bd4b220f9f04c4e2")
    )
    with pytest.raises(ValueError):
        number_hash("13812345678")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("us.dnc", "us.dnc"),
        ("US DNC", "us.dnc"),
        ("US_DNC 2026-03", "us.dnc"),
        ("National Do Not Call Registry", "us.dnc"),
        ("TPS", "uk.tps"),
        ("UK Telephone Preference Service", "uk.tps"),
        ("CTPS", "uk.ctps"),
        ("Corporate TPS", "uk.ctps"),
        ("India NCPR/DND", "in.ncpr"),
        ("ncpr", "in.ncpr"),
        ("工信部", "工信部"),
        ("CN DNC", "cn dnc"),
        ("  ", None),
        (None, None),
    ],
)
def test_registry_names_map_to_the_engine_ids(name: str | None, expected: str | None) -> None:
    assert registry_id(name) == expected
