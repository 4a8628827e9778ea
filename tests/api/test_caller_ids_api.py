"""Caller-ID health over HTTP: the report, the policy, evaluating now, and a supervisor's
manual rest and cap; supervisors only."""

from __future__ import annotations

from datetime import datetime, timedelta

from dialer.db.models import CallAttempt
from dialer.db.types import utcnow
from tests.api.conftest import Harness

POOL = ["+862150000001", "+862150000002", "+862150000003"]


async def _seed(h: Harness) -> int:
    created = await h.client.post(
        "/v1/campaigns", json={"name": "cid", "caller_id_pool": POOL}, headers=h.supervisor
    )
    cid = int(created.json()["id"])
    now = utcnow()
    async with h.session_factory() as session, session.begin():
        for number, live in ((POOL[0], 18), (POOL[1], 15), (POOL[2], 2)):
            for i in range(60):
                session.add(
                    CallAttempt(
                        id=f"{number[-1]}-{i}",
                        campaign_id=cid,
                        number_dialed="+8613800000000",
                        caller_id=number,
                        originate_at=now - timedelta(minutes=90 - i),
                        outcome="human" if i < live else "busy",
                    )
                )
    return cid


async def test_report_policy_evaluation_and_manual_changes(harness: Harness) -> None:
    h = harness
    cid = await _seed(h)
    base = f"/v1/campaigns/{cid}/caller-ids"
    for path in ("/health", "/policy"):
        assert (await h.client.get(base + path, headers=h.agent)).status_code == 403
    policy = (await h.client.get(f"{base}/policy", headers=h.supervisor)).json()
    assert policy == {
        "auto_rest": True,
        "window_hours": 24,
        "min_attempts": 50,
        "max_ratio": 0.5,
        "min_z": 2.5,
        "rest_hours": 24,
        "daily_cap": 0,
        "hard_caps": True,
    }
    report = (await h.client.get(f"{base}/health", headers=h.supervisor)).json()
    assert report["campaign"] == {"attempts": 180, "live": 35, "rate": 35 / 180}
    numbers = {n["caller_id"]: n for n in report["numbers"]}
    assert list(numbers) == POOL
    bad = numbers[POOL[2]]
    assert bad["suspect"] and not bad["flagged"] and bad["rate"] == 2 / 60
    assert bad["baseline"] == 33 / 120 and bad["dials_today"] == 60
    assert not numbers[POOL[0]]["suspect"] and report["available"] == 3
    # evaluating rests it
    evaluated = (await h.client.post(f"{base}/evaluate", headers=h.supervisor)).json()
    numbers = {n["caller_id"]: n for n in evaluated["numbers"]}
    assert numbers[POOL[2]]["flagged"] and numbers[POOL[2]]["resting"]
    assert not numbers[POOL[2]]["available"] and evaluated["available"] == 2
    until = datetime.fromisoformat(numbers[POOL[2]]["rested_until"])
    assert timedelta(hours=23) < until - utcnow() <= timedelta(hours=24)
    # policy change, manual cap and rest
    changed = await h.client.patch(
        f"{base}/policy", json={"daily_cap": 50, "rest_hours": 6}, headers=h.supervisor
    )
    assert changed.status_code == 200 and changed.json()["daily_cap"] == 50
    for bad_body in ({"max_ratio": 1.5}, {"min_attempts": 0}, {"oops": 1}):
        response = await h.client.patch(f"{base}/policy", json=bad_body, headers=h.supervisor)
        assert response.status_code == 422, bad_body
    rested = await h.client.patch(f"{base}/{POOL[0]}", json={"rest_hours": 2}, headers=h.supervisor)
    assert rested.status_code == 200, rested.text
    capped = await h.client.patch(
        f"{base}/{POOL[1]}", json={"daily_cap": 200}, headers=h.supervisor
    )
    assert capped.json()["daily_cap"] == 200
    report = (await h.client.get(f"{base}/health", headers=h.admin)).json()
    numbers = {n["caller_id"]: n for n in report["numbers"]}
    assert numbers[POOL[0]]["resting"] and numbers[POOL[0]]["daily_cap"] == 50
    assert numbers[POOL[0]]["dials_today"] == 60 and not numbers[POOL[0]]["available"]
    assert numbers[POOL[1]]["daily_cap"] == 200 and numbers[POOL[1]]["available"]
    assert report["available"] == 1
    # back in rotation with its flag cleared; its old calls are no longer judged
    back = await h.client.patch(
        f"{base}/{POOL[2]}", json={"end_rest": True, "clear_flag": True}, headers=h.supervisor
    )
    assert back.status_code == 200 and not back.json()["flagged"]
    report = (await h.client.get(f"{base}/health", headers=h.supervisor)).json()
    again = {n["caller_id"]: n for n in report["numbers"]}[POOL[2]]
    assert again["attempts"] == 0 and not again["suspect"] and not again["resting"]
    assert not again["available"]  # 60 dials today: at the policy's cap of 50
    # numbers outside the pool, contradictions and campaigns that do not exist
    assert (
        await h.client.patch(f"{base}/+19990000000", json={"rest_hours": 1}, headers=h.admin)
    ).status_code == 404
    assert (
        await h.client.patch(
            f"{base}/{POOL[0]}", json={"rest_hours": 1, "end_rest": True}, headers=h.admin
        )
    ).status_code == 422
    assert (
        await h.client.get("/v1/campaigns/9999/caller-ids/health", headers=h.admin)
    ).status_code == 404
    assert (
        await h.client.patch(f"{base}/{POOL[0]}", json={"rest_hours": 1}, headers=h.agent)
    ).status_code == 403
