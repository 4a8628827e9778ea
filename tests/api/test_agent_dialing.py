"""Preview, manual dialing and on-demand recording through the API (runtime faked)."""

from __future__ import annotations

from dialer.db.models import Campaign, Lead
from dialer.runtime.control import PreviewLead
from tests.api.conftest import Harness


async def _campaign_with_lead(h: Harness) -> tuple[int, int]:
    async with h.session_factory() as s, s.begin():
        camp = Campaign(name="preview c", dial_mode="preview", script_text="hello")
        s.add(camp)
        await s.flush()
        lead = Lead(campaign_id=camp.id, phone_e164="+8613800138000", name="Wang")
        s.add(lead)
        await s.flush()
        return camp.id, lead.id


async def test_preview_shows_the_lead_masked_then_dials(harness: Harness) -> None:
    c, me = harness.client, harness.agent_id
    cid, lead_id = await _campaign_with_lead(harness)
    await c.post(f"/v1/agents/{me}/session/login", headers=harness.agent)
    r = await c.post(f"/v1/agents/{me}/session/preview", headers=harness.agent)
    assert r.status_code == 200 and r.json() == {"lead": None}
    harness.runtime.previews[me] = PreviewLead(lead_id, cid)
    r = await c.post(f"/v1/agents/{me}/session/preview", headers=harness.agent)
    body = r.json()
    assert body["lead"]["name"] == "Wang" and body["script"] == "hello"
    assert body["lead"]["phone"].endswith("8000") and "138001" not in body["lead"]["phone"]
    r = await c.post(f"/v1/agents/{me}/session/preview/dial", headers=harness.agent)
    assert r.status_code == 200 and r.json()["call"]["lead_id"] == lead_id
    r = await c.post(f"/v1/agents/{me}/session/preview/skip", headers=harness.agent)
    assert r.status_code == 409  # nothing held any more


async def test_manual_dial_validates_and_is_only_for_the_agent_itself(harness: Harness) -> None:
    c, me = harness.client, harness.agent_id
    await c.post(f"/v1/agents/{me}/session/login", headers=harness.agent)
    r = await c.post(f"/v1/agents/{me}/session/dial", json={"number": "1"}, headers=harness.agent)
    assert r.status_code == 422
    other = harness.other_agent_id
    r = await c.post(
        f"/v1/agents/{other}/session/dial", json={"number": "13800138000"}, headers=harness.agent
    )
    assert r.status_code == 403
    r = await c.post(
        f"/v1/agents/{me}/session/dial", json={"number": "13800138000"}, headers=harness.agent
    )
    assert r.status_code == 200 and harness.runtime.dialled == [(me, "13800138000", None)]
    r = await c.post(f"/v1/agents/{me}/session/record", headers=harness.agent)
    assert r.status_code == 200 and r.json()["recording_path"].endswith(".wav")
