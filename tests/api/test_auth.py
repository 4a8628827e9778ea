"""Tokens, roles, agent isolation and number masking."""

from __future__ import annotations

from datetime import UTC, datetime

from dialer.db.models import ApiKey, Campaign, Lead
from dialer.runtime.control import CurrentCall
from dialer.services.users import key_hash, verify_password
from tests.api.conftest import Harness


async def test_login_gives_a_token_stored_only_as_a_hash(harness: Harness) -> None:
    response = await harness.client.post(
        "/v1/auth/token", json={"username": "sup", "password": "correct horse battery"}
    )
    assert response.status_code == 200
    secret = response.json()["access_token"]
    assert response.json()["role"] == "supervisor"
    async with harness.session_factory() as session:
        from sqlalchemy import select

        hashes = list(await session.scalars(select(ApiKey.key_hash)))
    assert key_hash(secret) in hashes
    assert secret not in hashes


async def test_wrong_password_and_missing_token_are_401(harness: Harness) -> None:
    bad = await harness.client.post(
        "/v1/auth/token", json={"username": "sup", "password": "nope nope"}
    )
    assert bad.status_code == 401
    assert (await harness.client.get("/v1/campaigns")).status_code == 401
    garbage = {"Authorization": "Bearer dlr_not-a-key"}
    assert (await harness.client.get("/v1/campaigns", headers=garbage)).status_code == 401


async def test_roles_are_enforced(harness: Harness) -> None:
    c = harness.client
    assert (await c.get("/v1/campaigns", headers=harness.agent)).status_code == 403
    assert (await c.get("/v1/campaigns", headers=harness.supervisor)).status_code == 200
    user = {"username": "x1", "password": "longenough", "role": "supervisor"}
    assert (await c.post("/v1/users", json=user, headers=harness.supervisor)).status_code == 403
    created = await c.post("/v1/users", json=user, headers=harness.admin)
    assert created.status_code == 201
    assert "password" not in created.text


async def test_agent_cannot_read_another_agents_session(harness: Harness) -> None:
    c = harness.client
    own = await c.post(f"/v1/agents/{harness.agent_id}/session/login", headers=harness.agent)
    assert own.status_code == 200
    other = f"/v1/agents/{harness.other_agent_id}"
    assert (await c.get(f"{other}/session", headers=harness.agent)).status_code == 403
    assert (await c.get(f"{other}/session/call", headers=harness.agent)).status_code == 403
    assert (await c.post(f"{other}/session/ready", headers=harness.agent)).status_code == 403
    assert (await c.get("/v1/agents/board", headers=harness.agent)).status_code == 403


async def _call_for_agent(harness: Harness, agent_visible_digits: int | None = None) -> None:
    pacing = {} if agent_visible_digits is None else {"agent_visible_digits": agent_visible_digits}
    async with harness.session_factory() as session, session.begin():
        campaign = Campaign(name="mask", pacing=pacing, script_text="您好，我是…")
        session.add(campaign)
        await session.flush()
        lead = Lead(campaign_id=campaign.id, phone_e164="+8613812345678", name="张三")
        session.add(lead)
        await session.flush()
    harness.runtime.calls[harness.agent_id] = CurrentCall(
        "att-1", campaign.id, lead.id, "talking", datetime.now(UTC)
    )


async def test_agent_sees_only_last_four_digits(harness: Harness) -> None:
    await _call_for_agent(harness)
    url = f"/v1/agents/{harness.agent_id}/session/call"
    as_agent = (await harness.client.get(url, headers=harness.agent)).json()
    assert as_agent["lead"]["phone"] == "*********5678"
    assert as_agent["script"] == "您好，我是…"
    assert "SALE" in {d["code"] for d in as_agent["dispositions"]}
    assert "NA" not in {d["code"] for d in as_agent["dispositions"]}  # system codes hidden
    as_supervisor = (await harness.client.get(url, headers=harness.supervisor)).json()
    assert as_supervisor["lead"]["phone"] == "+8613812345678"


async def test_campaign_may_show_more_digits(harness: Harness) -> None:
    await _call_for_agent(harness, agent_visible_digits=7)
    url = f"/v1/agents/{harness.agent_id}/session/call"
    as_agent = (await harness.client.get(url, headers=harness.agent)).json()
    assert as_agent["lead"]["phone"] == "******2345678"


async def test_agent_dispositions_its_call(harness: Harness) -> None:
    await _call_for_agent(harness)
    url = f"/v1/agents/{harness.agent_id}/session/disposition"
    body = {"code": "CALLBACK", "notes": "晚上再打", "callback_at": "2030-01-01T12:00:00+08:00"}
    assert (await harness.client.post(url, json=body, headers=harness.agent)).status_code == 204
    agent_id, code, extra = harness.runtime.dispositions[-1]
    assert (agent_id, code, extra["notes"]) == (harness.agent_id, "CALLBACK", "晚上再打")
    again = await harness.client.post(url, json=body, headers=harness.agent)
    assert again.status_code == 409  # no call any more


def test_password_hash_round_trip() -> None:
    from dialer.services.users import hash_password

    stored = hash_password("s3cret-pass")
    assert verify_password("s3cret-pass", stored)
    assert not verify_password("s3cret-pasS", stored)
    assert not verify_password("x", "garbage")
