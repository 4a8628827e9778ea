"""The dashboard's result-webhook, caller-ID health and quality-scoring pages in a real browser
against `make demo`'s server (in-process, temp SQLite), and the agent's own scores in the agent
console. Everything the page does is checked again through the API."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import select

from dialer.db.models import CallAttempt, Campaign
from dialer.demo import DEMO_ADMIN, DemoWorld
from tests.support.http_receiver import Receiver
from tests.web.conftest import demo_server
from tests.web.test_browser_e2e import (
    TIMEOUT_MS,
    _log_in,
    _no_script_errors,
    _page,
    _token,
    eventually,
)
from tests.web.test_supervisor_tools_browser import _wav

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

SUPERVISOR = ("qa-lead", "qa-lead-password")
AGENT = ("agent-scored", "agent-scored-password")
POOL_NUMBER = "+861058001002"  # in the demo campaign's caller-ID pool


async def _supervisor(api: httpx.AsyncClient) -> tuple[dict[str, str], dict[str, str]]:
    admin = await _token(api, *DEMO_ADMIN)
    r = await api.post(
        "/v1/users",
        headers=admin,
        json={"username": SUPERVISOR[0], "password": SUPERVISOR[1], "role": "supervisor"},
    )
    assert r.status_code == 201, r.text
    return admin, await _token(api, *SUPERVISOR)


def _accept_dialogs(page: Page) -> list[str]:
    """Confirmations are accepted; their texts are kept so a test can see they were asked."""
    asked: list[str] = []

    async def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    return asked


async def _browser(pw: Any, chromium_path: str) -> Browser:
    return await pw.chromium.launch(
        executable_path=chromium_path, headless=True, args=["--no-sandbox"]
    )


# ---------------------------------------------------------------------- result webhooks


async def test_webhooks_page(chromium_path: str, tmp_path: Path) -> None:
    """Create a webhook from the page (the secret shown once), send a test event that the
    receiver refuses once and then takes, edit the webhook; a webhook whose receiver is down
    fills the dead-letter list, which the page retries (one, all) and deletes from."""
    receiver = await Receiver(
        plans={"/flaky": [500], "/down": [503, 503], "/gone": [500, 500]}
    ).start()
    try:
        async with demo_server(tmp_path, agents=1, leads=50) as world:
            hooks = world.service.webhooks  # retry within a fraction of a second, not 10 s
            hooks.base_delay_s, hooks.jitter, hooks.poll_s = 0.2, 0.0, 0.2
            await _webhooks(world, chromium_path, receiver)
    finally:
        await receiver.close()


async def _webhooks(world: DemoWorld, chromium_path: str, receiver: Receiver) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    async with httpx.AsyncClient(base_url=world.url or "", timeout=10) as api:
        _, supervisor = await _supervisor(api)
        # A campaign of its own: no call of the running demo campaign reaches these webhooks.
        r = await api.post("/v1/campaigns", json={"name": "CRM 回调"}, headers=supervisor)
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        async with async_playwright() as pw:
            browser = await _browser(pw, chromium_path)
            try:
                page = await _page(browser, world.url or "")
                asked = _accept_dialogs(page)
                await _log_in(page, *SUPERVISOR)
                await page.locator("#wh-campaign").select_option(str(cid))
                await expect(page.locator("#webhooks tbody")).to_contain_text("no webhooks")

                # -- create: the secret is shown once
                hook_id, secret = await _create_hook(page, f"{receiver.base_url}/flaky", tries=3)
                r = await api.get(f"/v1/campaigns/{cid}/webhooks/{hook_id}", headers=supervisor)
                assert r.status_code == 200 and "secret" not in r.json(), r.text
                assert r.json()["events"] == ["attempt.ended", "attempt.dispositioned"]
                assert r.json()["max_attempts"] == 3

                # -- a test event: refused once, retried, delivered (and signed)
                row = page.locator(f'#webhooks tbody tr[data-webhook="{hook_id}"]')
                await row.locator("button.wh-test").click()
                await expect(page.locator("#wh-msg")).to_contain_text("test event queued")
                delivery = page.locator("#wh-deliveries tbody tr").first
                await expect(delivery.locator(".wh-status")).to_have_text("delivered")
                await expect(delivery.locator("td").nth(3)).to_have_text("2")  # tries
                await expect(row.locator(".wh-counts")).to_contain_text("1 已送达 delivered")
                tries = receiver.to("/flaky")
                assert len(tries) == 2 and tries[0].body == tries[1].body
                signature = (
                    "sha256=" + hmac.new(secret.encode(), tries[1].body, hashlib.sha256).hexdigest()
                )
                assert tries[1].headers["x-dialer-signature"] == signature
                assert json.loads(tries[1].body)["type"] == "webhook.test"

                # -- edit: events, description, enabled
                await row.locator("button.wh-edit").click()
                form = page.locator("#wh-form")
                await expect(form.locator("input[name=url]")).to_have_value(
                    f"{receiver.base_url}/flaky"
                )
                await form.locator('input[value="attempt.ended"]').uncheck()
                await form.locator("input[name=description]").fill("CRM 成交")
                await form.locator("input[name=active]").uncheck()
                await page.locator("#wh-save").click()
                await expect(page.locator("#wh-form-msg")).to_contain_text(f"saved #{hook_id}")
                await expect(row).to_contain_text("停用 off")
                r = await api.get(f"/v1/campaigns/{cid}/webhooks/{hook_id}", headers=supervisor)
                saved = r.json()
                assert saved["events"] == ["attempt.dispositioned"], saved
                assert saved["description"] == "CRM 成交" and saved["active"] is False

                # -- a receiver that is down: a dead letter, retried from the page
                down_id, _ = await _create_hook(page, f"{receiver.base_url}/down", tries=2)
                await page.locator(
                    f'#webhooks tbody tr[data-webhook="{down_id}"] button.wh-test'
                ).click()
                dead = page.locator("#dead-letters tbody tr", has_text="HTTP 503")
                await expect(dead).to_have_count(1)
                await dead.locator("button.dl-retry").click()
                await expect(page.locator("#dl-msg")).to_contain_text("requeued")
                await expect(page.locator("#dead-letters tbody")).to_contain_text("no dead letters")
                await expect(
                    page.locator("#wh-deliveries tbody tr").first.locator(".wh-status")
                ).to_have_text("delivered")
                assert len(receiver.to("/down")) == 3

                # -- two more dead letters: delete one (confirmed), retry the rest at once
                gone_id, _ = await _create_hook(page, f"{receiver.base_url}/gone", tries=1)
                test = page.locator(f'#webhooks tbody tr[data-webhook="{gone_id}"] button.wh-test')
                await test.click()
                await expect(
                    page.locator("#dead-letters tbody tr", has_text="HTTP 500")
                ).to_have_count(1)
                await test.click()
                letters = page.locator("#dead-letters tbody tr", has_text="HTTP 500")
                await expect(letters).to_have_count(2)
                first = await letters.first.get_attribute("data-delivery")
                await letters.first.locator("button.dl-delete").click()
                await expect(letters).to_have_count(1)
                assert any("Delete dead letter" in text for text in asked), asked
                await page.locator("#dl-retry-all").click()
                await expect(page.locator("#dl-msg")).to_contain_text("requeued 1")
                await expect(page.locator("#dead-letters tbody")).to_contain_text("no dead letters")
                gone = f"/v1/campaigns/{cid}/webhooks/{gone_id}/deliveries"

                async def delivered() -> dict[int, str] | None:
                    r = await api.get(gone, headers=supervisor)
                    statuses = {d["id"]: d["status"] for d in r.json()["items"]}
                    return statuses if list(statuses.values()) == ["delivered"] else None

                statuses = await eventually(delivered, "the retried dead letter is delivered")
                assert int(first or 0) not in statuses, statuses  # the deleted one

                # -- delete a webhook (confirmed)
                await page.locator(
                    f'#webhooks tbody tr[data-webhook="{gone_id}"] button.wh-delete'
                ).click()
                await expect(
                    page.locator(f'#webhooks tbody tr[data-webhook="{gone_id}"]')
                ).to_have_count(0)
                r = await api.get(f"/v1/campaigns/{cid}/webhooks/{gone_id}", headers=supervisor)
                assert r.status_code == 404

                # -- the API's error text, shown as is
                await page.locator("#wh-form input[name=url]").fill("ftp://crm.example.com/")
                await page.locator("#wh-save").click()
                await expect(page.locator("#wh-form-msg")).to_contain_text("url:")
                _no_script_errors(page)
            finally:
                await browser.close()


async def _create_hook(page: Page, url: str, tries: int) -> tuple[int, str]:
    """Fill the new-webhook form; answer the webhook's id and the secret shown once."""
    from playwright.async_api import expect

    form = page.locator("#wh-form")
    await expect(page.locator("#wh-save")).to_have_text("创建 Create")
    await form.locator("input[name=url]").fill(url)
    await form.locator('input[value="attempt.ended"]').check()
    await form.locator("input[name=max_attempts]").fill(str(tries))
    await page.locator("#wh-save").click()
    await expect(page.locator("#wh-form-msg")).to_contain_text("created #")
    box = page.locator("#wh-secret")
    await expect(box).to_be_visible()
    secret = await page.locator("#wh-secret-value").inner_text()
    hook_id = int(await box.get_attribute("data-webhook") or "0")
    assert secret.startswith("whsec_") and hook_id > 0
    await expect(page.locator(f'#webhooks tbody tr[data-webhook="{hook_id}"]')).to_contain_text(url)
    await page.locator("#wh-secret-done").click()
    await expect(box).to_be_hidden()
    assert secret not in await page.content()  # once dismissed, it is nowhere on the page
    return hook_id, secret


# ---------------------------------------------------------------------- caller-ID health


async def test_caller_id_health_page(chromium_path: str, tmp_path: Path) -> None:
    """The demo campaign's pool on the page: rest a number, cap one, end the rest, evaluate
    now, change the policy; each change is read back through the API."""
    async with demo_server(tmp_path, agents=1, leads=50) as world:
        await _caller_ids(world, chromium_path)


async def _caller_ids(world: DemoWorld, chromium_path: str) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    async with httpx.AsyncClient(base_url=world.url or "", timeout=10) as api:
        _, supervisor = await _supervisor(api)
        health = f"/v1/campaigns/{world.campaign_id}/caller-ids/health"

        async def number() -> dict[str, Any]:
            r = await api.get(health, headers=supervisor)
            assert r.status_code == 200, r.text
            return next(n for n in r.json()["numbers"] if n["caller_id"] == POOL_NUMBER)

        async with async_playwright() as pw:
            browser = await _browser(pw, chromium_path)
            try:
                page = await _page(browser, world.url or "")
                await _log_in(page, *SUPERVISOR)
                await page.locator("#cid-campaign").select_option(str(world.campaign_id))
                await expect(page.locator("#cid-msg")).to_have_text("")  # loaded
                rows = page.locator("#caller-ids tbody tr[data-number]")
                await expect(rows).to_have_count(3)
                row = page.locator(f'#caller-ids tbody tr[data-number="{POOL_NUMBER}"]')
                await expect(row.locator(".cid-available")).to_have_text("✔")

                # -- rest it for 12 hours
                await row.locator(".cid-rest-hours").fill("12")
                before = datetime.now(UTC)
                await row.locator("button.cid-rest-btn").click()
                await expect(page.locator("#cid-msg")).to_contain_text(f"updated {POOL_NUMBER}")
                await expect(row.locator(".cid-available")).to_have_text("✖")
                await expect(row.locator(".cid-rest")).not_to_have_text("–")
                rested = await number()
                assert rested["resting"] is True and rested["available"] is False, rested
                until = datetime.fromisoformat(rested["rested_until"])
                assert before + timedelta(hours=11.9) < until < before + timedelta(hours=12.1)

                # -- its own daily cap; a bad one is refused with the API's words
                await row.locator(".cid-cap-value").fill("150")
                await row.locator("button.cid-cap").click()
                await expect(row.locator(".cid-today")).to_have_text("0 / 150")
                assert (await number())["daily_cap"] == 150
                await row.locator(".cid-cap-value").fill("-1")
                await row.locator("button.cid-cap").click()
                await expect(page.locator("#cid-msg")).to_contain_text("daily_cap")
                await expect(page.locator("#cid-msg")).to_have_class("error")

                # -- end the rest
                await row.locator("button.cid-unrest").click()
                await expect(row.locator(".cid-available")).to_have_text("✔")
                back = await number()
                assert back["resting"] is False and back["flagged"] is False, back

                # -- evaluate now, and the policy
                await page.locator("#cid-evaluate").click()
                await expect(page.locator("#cid-msg")).to_contain_text("evaluated")
                policy = page.locator("#cid-policy")
                await policy.locator("input[name=rest_hours]").fill("6")
                await policy.locator("input[name=daily_cap]").fill("300")
                await policy.locator("button").click()
                await expect(page.locator("#cid-policy-msg")).to_have_text("已保存 saved")
                r = await api.get(
                    f"/v1/campaigns/{world.campaign_id}/caller-ids/policy", headers=supervisor
                )
                assert r.json()["rest_hours"] == 6 and r.json()["daily_cap"] == 300, r.text
                _no_script_errors(page)
            finally:
                await browser.close()


# ---------------------------------------------------------------------- quality scoring


async def test_quality_scoring_pages(chromium_path: str, tmp_path: Path) -> None:
    """A supervisor makes a score form, scores a recorded call from the Recordings table while
    its recording is in the player, and sees the QA report; the call's agent sees the score in
    the agent console, and on the dashboard sees no supervisor section (a 403 is shown)."""
    async with demo_server(tmp_path, agents=2, leads=300) as world:
        async with world.service.sessions() as s, s.begin():
            campaign = await s.get(Campaign, world.campaign_id)
            assert campaign is not None
            campaign.recording_mode = "all"
        await world.service.control.campaign_changed(world.campaign_id)
        await _quality(world, chromium_path)


async def _recorded_call(world: DemoWorld) -> CallAttempt:
    service = world.service

    async def recorded() -> CallAttempt | None:
        await service.writer.flush(5)
        async with service.sessions() as s:
            return await s.scalar(
                select(CallAttempt)
                .where(
                    CallAttempt.recording_path.is_not(None),
                    CallAttempt.terminal_state.is_not(None),
                    CallAttempt.agent_id.is_not(None),
                )
                .limit(1)
            )

    call = await eventually(recorded, "a recorded call has ended")
    assert call.recording_path is not None
    audio = service.settings.recordings_path / call.recording_path  # as Asterisk writes it
    audio.parent.mkdir(parents=True, exist_ok=True)
    audio.write_bytes(_wav(seconds=1))
    return call


async def _quality(world: DemoWorld, chromium_path: str) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    call = await _recorded_call(world)
    async with httpx.AsyncClient(base_url=world.url or "", timeout=10) as api:
        admin, supervisor = await _supervisor(api)
        r = await api.post(
            "/v1/users",
            headers=admin,
            json={
                "username": AGENT[0],
                "password": AGENT[1],
                "role": "agent",
                "agent_id": call.agent_id,
            },
        )
        assert r.status_code == 201, r.text
        async with async_playwright() as pw:
            browser = await _browser(pw, chromium_path)
            try:
                page = await _page(browser, world.url or "")
                await _log_in(page, *SUPERVISOR)
                form_id = await _create_form(page)
                await _score_the_call(page, call, form_id)
                r = await api.get(
                    "/v1/qa/scores", params={"attempt_id": call.id}, headers=supervisor
                )
                [score] = r.json()["items"]
                assert score["form_id"] == form_id and score["scorer"] == SUPERVISOR[0]
                assert score["total"] == pytest.approx(95.0) and score["passed"] is True
                assert score["agent_id"] == call.agent_id
                assert {a["key"]: a["score"] for a in score["answers"]} == {
                    "greeting": 4,
                    "disclosure": 1,
                    "empathy": None,
                }
                report = page.locator(f'#qa-report tbody tr[data-agent="{call.agent_id}"]')
                await expect(report.locator(".qa-average")).to_have_text("95.0%")
                _no_script_errors(page)

                console = await _page(browser, f"{world.url}ui/agent.html")
                await _agent_sees_the_score(console)
                other = next(a for a in world.agent_ids if a != call.agent_id)
                await _agent_on_the_dashboard(console, world, call, other)
            finally:
                await browser.close()


async def _create_form(page: Page) -> int:
    from playwright.async_api import expect

    form = page.locator("#qa-form-new")
    await form.locator("input[name=name]").fill("Sales call 销售")
    await form.locator("input[name=pass_score]").fill("70")
    await page.locator("#qa-add-criterion").click()
    rows = page.locator("#qa-criteria tbody tr")
    await expect(rows).to_have_count(3)
    for i, (key, label, weight, top) in enumerate(
        [
            ("greeting", "开场 Greeting", "1", "5"),
            ("disclosure", "Disclosures read", "3", "1"),
            ("empathy", "Empathy", "1", "5"),
        ]
    ):
        await rows.nth(i).locator("input[name=key]").fill(key)
        await rows.nth(i).locator("input[name=label]").fill(label)
        await rows.nth(i).locator("input[name=weight]").fill(weight)
        await rows.nth(i).locator("input[name=max_score]").fill(top)
    await page.locator("#qa-form-save").click()
    await expect(page.locator("#qa-form-msg")).to_contain_text("created form #")
    row = page.locator("#qa-forms tbody tr", has_text="Sales call 销售")
    await expect(row).to_contain_text("Disclosures read ×3 /1")
    return int(await row.get_attribute("data-form") or "0")


async def _score_the_call(page: Page, call: CallAttempt, form_id: int) -> None:
    from playwright.async_api import expect

    search = page.locator("form#rec-search")
    await search.locator("input[name=day]").fill("2026-03-02")
    await search.locator("button").click()
    await page.locator(f'#recordings tbody tr[data-attempt="{call.id}"] button.score').click()
    panel = page.locator("#scoring")
    await expect(panel).to_be_visible()
    await expect(panel).to_have_attribute("data-attempt", call.id)
    # The recording is in the player beside the panel.
    player = page.locator("#player")
    await expect(player).to_have_attribute("data-attempt", call.id)
    await expect(player).to_have_attribute("data-url", f"/v1/recordings/{call.id}/audio")
    assert (await player.get_attribute("src") or "").startswith("blob:")
    await eventually(
        lambda: page.evaluate("document.getElementById('player').duration > 0"),
        "the player has loaded the recording",
    )
    await expect(page.locator("#scoring-existing tbody")).to_contain_text("not scored yet")
    await page.locator("#scoring-form").select_option(str(form_id))
    sheet = page.locator("#scoring-sheet")
    # Every criterion needs a score or N/A.
    await sheet.locator('input[name="score-greeting"]').fill("4")
    await page.locator("#scoring-save").click()
    await expect(page.locator("#scoring-msg")).to_contain_text("Disclosures read")
    await sheet.locator('input[name="score-disclosure"]').fill("1")
    await sheet.locator('input[name="na-empathy"]').check()
    await sheet.locator("textarea[name=notes]").fill("开场很好 good opening; every disclosure read")
    await page.locator("#scoring-save").click()
    await expect(page.locator("#scoring-msg")).to_contain_text("saved: 95.0% 合格 pass")
    await expect(page.locator("#scoring-existing tbody tr")).to_contain_text("95.0%")


async def _agent_sees_the_score(page: Page) -> None:
    from playwright.async_api import expect

    await _log_in(page, *AGENT)
    row = page.locator("#qa-scores tbody tr").first
    await expect(row.locator(".qa-total")).to_have_text("95.0%")
    await expect(row.locator(".qa-notes")).to_have_text(
        "开场很好 good opening; every disclosure read"
    )
    await expect(row).to_contain_text("Empathy: N/A")
    await expect(page.locator("#qa-summary")).to_contain_text("average 95.0%")
    await expect(page.locator("#qa-msg")).to_have_text("")
    _no_script_errors(page)


async def _agent_on_the_dashboard(
    page: Page, world: DemoWorld, call: CallAttempt, other_agent: int
) -> None:
    from playwright.async_api import expect

    refused: list[str] = []
    page.on("response", lambda r: refused.append(r.url) if r.status == 403 else None)
    await page.goto(f"{world.url}ui/dashboard.html")  # same tab: still logged in
    await expect(page.locator("#role-msg")).to_contain_text("supervisor sections are hidden")
    for section in (
        "#nav",
        "#campaigns-section",
        "#agents-section",
        "#webhooks-section",
        "#callerids-section",
        "#qa-section",
        "#pacing",
        "#scoring",
    ):
        await expect(page.locator(section)).to_be_hidden()
    # Its own recordings, without the scoring button.
    search = page.locator("form#rec-search")
    await expect(search).to_be_visible()
    await search.locator("input[name=day]").fill("2026-03-02")
    await search.locator("button").click()
    own = page.locator(f'#recordings tbody tr[data-attempt="{call.id}"]')
    await expect(own).to_be_visible()
    await expect(own.locator("button.score")).to_have_count(0)
    assert refused == [], refused  # the page asked for nothing an agent may not have
    # Another agent's calls: the API's refusal, shown.
    await search.locator("input[name=agent_id]").fill(str(other_agent))
    await search.locator("button").click()
    await expect(page.locator("#rec-msg")).to_contain_text(
        "Forbidden (403): an agent may only see its own recordings"
    )
    assert len(refused) == 1 and "/v1/recordings" in refused[0], refused
    _no_script_errors(page)
