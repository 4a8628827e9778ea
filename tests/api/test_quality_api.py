"""Quality scoring: forms with weighted criteria, a supervisor scoring a call with notes,
agents seeing only their own scores, and the QA report per agent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialer.db.models import CallAttempt
from dialer.db.types import utcnow
from dialer.services.errors import Invalid
from dialer.services.quality import answer_sheet, check_criteria, weighted_total
from tests.api.conftest import Harness

CRITERIA = [
    {"key": "greeting", "label": "Greeting and identification", "weight": 1, "max_score": 5},
    {"key": "compliance", "label": "Disclosures read", "weight": 3, "max_score": 1},
    {"key": "close", "label": "Asked for the sale", "weight": 2, "max_score": 10},
]

# ---------------------------------------------------------------------- pure


def test_weighted_total_skips_criteria_that_do_not_apply() -> None:
    criteria = check_criteria(CRITERIA)
    full = answer_sheet(criteria, {"greeting": 5, "compliance": 1, "close": 10})
    assert weighted_total(full) == 100.0
    mixed = answer_sheet(criteria, {"greeting": 4, "compliance": 0, "close": 5})
    # (1·4/5 + 3·0 + 2·5/10) / 6 = 1.8 / 6
    assert weighted_total(mixed) == 30.0
    na = answer_sheet(criteria, {"greeting": 4, "compliance": None, "close": 5})
    assert weighted_total(na) == pytest.approx(100 * 1.8 / 3, abs=0.01)
    with pytest.raises(Invalid, match="at least one"):
        weighted_total(answer_sheet(criteria, dict.fromkeys(("greeting", "compliance", "close"))))


def test_score_sheets_must_match_the_form() -> None:
    criteria = check_criteria(CRITERIA)
    with pytest.raises(Invalid, match="missing"):
        answer_sheet(criteria, {"greeting": 1})
    with pytest.raises(Invalid, match="not on this form"):
        answer_sheet(criteria, {"greeting": 1, "compliance": 1, "close": 1, "extra": 1})
    with pytest.raises(Invalid, match=r"outside 0\.\.1"):
        answer_sheet(criteria, {"greeting": 1, "compliance": 2, "close": 1})
    with pytest.raises(Invalid, match="twice"):
        check_criteria([CRITERIA[0], CRITERIA[0]])
    with pytest.raises(Invalid, match="weight"):
        check_criteria([{**CRITERIA[0], "weight": 0}])


# ---------------------------------------------------------------------- over HTTP


async def _calls(h: Harness) -> int:
    created = await h.client.post("/v1/campaigns", json={"name": "qa"}, headers=h.supervisor)
    cid = int(created.json()["id"])
    now = utcnow()
    async with h.session_factory() as session, session.begin():
        for name, agent in (
            ("c1", h.agent_id),
            ("c2", h.agent_id),
            ("c3", h.other_agent_id),
            ("c4", None),
        ):
            session.add(
                CallAttempt(
                    id=name,
                    campaign_id=cid,
                    number_dialed="+8613800000000",
                    agent_id=agent,
                    originate_at=now - timedelta(minutes=10),
                    connect_at=now - timedelta(minutes=9),
                    hangup_at=now - timedelta(minutes=5),
                    outcome="human",
                    terminal_state="completed",
                    disposition="SALE",
                    recording_path="2026/03/02/c1.wav" if name == "c1" else None,
                )
            )
    return cid


async def test_scoring_calls_and_who_sees_what(harness: Harness) -> None:
    h = harness
    cid = await _calls(h)
    form_body = {"name": "Sales call", "criteria": CRITERIA, "pass_score": 70}
    assert (await h.client.post("/v1/qa/forms", json=form_body, headers=h.agent)).status_code == 403
    form = await h.client.post("/v1/qa/forms", json=form_body, headers=h.supervisor)
    assert form.status_code == 201, form.text
    form_id = form.json()["id"]
    other_campaign = await h.client.post(
        "/v1/campaigns", json={"name": "elsewhere"}, headers=h.supervisor
    )
    foreign = await h.client.post(
        "/v1/qa/forms",
        json={
            "name": "Other campaign",
            "campaign_id": other_campaign.json()["id"],
            "criteria": CRITERIA[:1],
        },
        headers=h.supervisor,
    )
    assert foreign.status_code == 201
    duplicate = await h.client.post("/v1/qa/forms", json=form_body, headers=h.supervisor)
    assert duplicate.status_code == 409
    # the sheet a supervisor scores from: the call, the forms that apply, the recording
    sheet = (await h.client.get("/v1/qa/calls/c1", headers=h.supervisor)).json()
    assert sheet["recording_url"] == "/v1/recordings/c1/audio"
    assert sheet["agent_extension"] == "1001" and sheet["scores"] == []
    assert [f["id"] for f in sheet["forms"]] == [form_id]  # not the other campaign's
    assert (await h.client.get("/v1/qa/calls/c1", headers=h.agent)).status_code == 403

    async def score(attempt: str, scores: dict, notes: str = "", who: dict | None = None):
        return await h.client.post(
            "/v1/qa/scores",
            json={"attempt_id": attempt, "form_id": form_id, "scores": scores, "notes": notes},
            headers=who or h.supervisor,
        )

    good = await score("c1", {"greeting": 5, "compliance": 1, "close": 8}, "clear and polite")
    assert good.status_code == 201, good.text
    assert good.json()["total"] == pytest.approx(100 * (1 + 3 + 1.6) / 6, abs=0.01)
    assert good.json()["passed"] is True and good.json()["scorer"] == "sup"
    assert good.json()["notes"] == "clear and polite"
    weak = await score("c2", {"greeting": 3, "compliance": 0, "close": None}, "missed disclosure")
    assert weak.json()["total"] == 15.0 and weak.json()["passed"] is False
    other = await score("c3", {"greeting": 4, "compliance": 1, "close": 10}, who=h.admin)
    assert other.status_code == 201
    # refusals: an agent scoring, no agent on the call, a bad sheet, a foreign form
    assert (await score("c3", {"greeting": 1}, who=h.agent)).status_code == 403
    assert (await score("c4", {"greeting": 1, "compliance": 1, "close": 1})).status_code == 409
    assert (await score("c1", {"greeting": 9, "compliance": 1, "close": 1})).status_code == 422
    assert (await score("nope", {"greeting": 1, "compliance": 1, "close": 1})).status_code == 404
    wrong_form = await h.client.post(
        "/v1/qa/scores",
        json={"attempt_id": "c1", "form_id": foreign.json()["id"], "scores": {"greeting": 1}},
        headers=h.supervisor,
    )
    assert wrong_form.status_code == 409
    # agents see their own scores, with the notes, and nobody else's
    mine = (await h.client.get("/v1/qa/scores", headers=h.agent)).json()
    assert mine["total"] == 2 and {s["attempt_id"] for s in mine["items"]} == {"c1", "c2"}
    assert {s["notes"] for s in mine["items"]} == {"clear and polite", "missed disclosure"}
    forbidden = await h.client.get(f"/v1/qa/scores?agent_id={h.other_agent_id}", headers=h.agent)
    assert forbidden.status_code == 403
    hidden = await h.client.get(f"/v1/qa/scores/{other.json()['id']}", headers=h.agent)
    assert hidden.status_code == 404
    own = await h.client.get(f"/v1/qa/scores/{good.json()['id']}", headers=h.agent)
    assert own.status_code == 200
    everyone = (await h.client.get("/v1/qa/scores", headers=h.supervisor)).json()
    assert everyone["total"] == 3
    # the form's criteria are frozen once used; deleting it is refused, deactivating is not
    frozen = await h.client.patch(
        f"/v1/qa/forms/{form_id}", json={"criteria": CRITERIA[:2]}, headers=h.supervisor
    )
    assert frozen.status_code == 409
    assert (await h.client.delete(f"/v1/qa/forms/{form_id}", headers=h.admin)).status_code == 409
    renamed = await h.client.patch(
        f"/v1/qa/forms/{form_id}", json={"name": "Sales call v1"}, headers=h.supervisor
    )
    assert renamed.status_code == 200
    # a correction recomputes the total against the criteria it was scored with
    fixed = await h.client.patch(
        f"/v1/qa/scores/{weak.json()['id']}",
        json={"scores": {"greeting": 3, "compliance": 1, "close": None}},
        headers=h.supervisor,
    )
    assert fixed.json()["total"] == 90.0 and fixed.json()["passed"] is True
    assert fixed.json()["notes"] == "missed disclosure"
    # the QA report per agent
    report = (await h.client.get(f"/v1/qa/report?campaign_id={cid}", headers=h.supervisor)).json()
    by_agent = {r["agent_id"]: r for r in report}
    mine_row = by_agent[h.agent_id]
    assert mine_row["extension"] == "1001" and mine_row["scored_calls"] == 2
    assert mine_row["average"] == pytest.approx((good.json()["total"] + 90.0) / 2, abs=0.01)
    assert mine_row["lowest"] == 90.0 and mine_row["highest"] == good.json()["total"]
    assert (mine_row["passed"], mine_row["failed"]) == (2, 0)
    assert mine_row["criteria"] == {"close": 80.0, "compliance": 100.0, "greeting": 80.0}
    assert by_agent[h.other_agent_id]["scored_calls"] == 1
    agent_view = (await h.client.get("/v1/qa/report", headers=h.agent)).json()
    assert [r["agent_id"] for r in agent_view] == [h.agent_id]
    # removing a score
    assert (
        await h.client.delete(f"/v1/qa/scores/{other.json()['id']}", headers=h.supervisor)
    ).status_code == 204
    assert (await h.client.get("/v1/qa/scores", headers=h.admin)).json()["total"] == 2
