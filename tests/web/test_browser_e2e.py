"""End to end in a real browser against `make demo`'s server (in-process, on a temp SQLite file).

A supervisor logs in to the dashboard, watches the numbers move, changes the pacing target
(saved, audited and applied by the runtime), pauses the campaign; an agent logs in to the
console, signs in, pauses and goes ready; the supervisor starts the campaign again; the
agent gets a simulated call with the lead and the script, and dispositions it with notes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest
from sqlalchemy import select

from dialer.db.migrate import upgrade
from dialer.db.models import CallAttempt, Campaign, Lead
from dialer.demo import (
    DEMO_ADMIN,
    DEMO_AGENT_PASSWORD,
    DEMO_CAMPAIGN,
    DEMO_SERVER,
    DemoOptions,
    DemoWorld,
    console_login,
    free_port,
    start_demo,
    stop_demo,
)
from dialer.runtime.attempt_state import AttemptState
from dialer.settings import Settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page

# Monday 2 March 2026, 10:00 in Shanghai: a working day inside the calling window.
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SPEED = 20.0  # simulated seconds per real second
SUPERVISOR = ("supervisor1", "demo-supervisor")
NOTES = "e2e: 客户同意办理, send the contract"
TIMEOUT_MS = 15_000

T = TypeVar("T")
PAGE_ERRORS: dict[int, list[str]] = {}  # uncaught script errors, by page


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll `probe` until it returns something other than None or False."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT_MS / 1000
    while True:
        value = await probe()
        if value is not None and value is not False:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.1)


async def test_supervisor_and_agent_in_the_browser(chromium_path: str, tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{(tmp_path / 'dialer.db').as_posix()}"
    await upgrade(db_url)
    settings = Settings(database_url=db_url, data_dir=tmp_path)
    options = DemoOptions(
        speed=SPEED,
        agents=2,
        console_agents=1,
        leads=400,
        live_view=False,
        serve_http=True,
        http_port=free_port(),
        start_wall=START,
    )
    world = await start_demo(settings, options)
    assert world.url is not None
    try:
        await _run(world, chromium_path)
    finally:
        await stop_demo(world, drain_s=20.0)


async def _run(world: DemoWorld, chromium_path: str) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)

    async with httpx.AsyncClient(base_url=world.url or "", timeout=10) as api:
        admin = await _token(api, *DEMO_ADMIN)
        r = await api.post(
            "/v1/users",
            headers=admin,
            json={"username": SUPERVISOR[0], "password": SUPERVISOR[1], "role": "supervisor"},
        )
        assert r.status_code == 201, r.text
        supervisor = await _token(api, *SUPERVISOR)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=chromium_path, headless=True, args=["--no-sandbox"]
            )
            try:
                dashboard = await _page(browser, world.url or "")
                await _supervisor_watches_and_tunes(world, dashboard, api, supervisor, admin)
                await _supervisor_pauses(world, dashboard, api, supervisor)
                console = await _page(browser, f"{world.url}ui/agent.html")
                await _agent_signs_in(console)
                await _campaign_action(dashboard, "Start", "active")
                await _agent_takes_a_call(world, console)
                await _agent_dials_by_hand(world, console)
            finally:
                await browser.close()


async def _token(api: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    r = await api.post("/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _page(browser: Browser, url: str) -> Page:
    """A page in a context of its own (each user has their own sessionStorage); uncaught
    script errors fail the test."""
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    PAGE_ERRORS[id(page)] = errors
    await page.goto(url)
    return page


def _no_script_errors(page: Page) -> None:
    assert PAGE_ERRORS[id(page)] == [], PAGE_ERRORS[id(page)]


async def _log_in(page: Page, username: str, password: str) -> None:
    from playwright.async_api import expect

    form = page.locator("form#login")
    await expect(form).to_be_visible()
    await form.locator("input[name=username]").fill(username)
    await form.locator("input[name=password]").fill(password)
    await form.locator("button").click()
    await expect(page.locator("#main")).to_be_visible()
    await expect(page.locator("#live-dot")).to_have_class(re.compile(r"\bon\b"))


def _campaign_row(page: Page) -> Locator:
    return page.locator("#campaigns tbody tr", has_text=DEMO_CAMPAIGN)


async def _number(cell: Locator) -> int | None:
    text = (await cell.inner_text()).strip()
    return int(text) if text.isdigit() else None


async def _supervisor_watches_and_tunes(
    world: DemoWorld,
    page: Page,
    api: httpx.AsyncClient,
    supervisor: dict[str, str],
    admin: dict[str, str],
) -> None:
    from playwright.async_api import expect

    assert page.url.endswith("/ui/dashboard.html")
    await _log_in(page, *SUPERVISOR)
    row = _campaign_row(page)
    await expect(row).to_be_visible()
    await expect(row.locator("td").nth(2)).to_have_text("active")
    dials = row.locator("td").nth(3)
    first = await eventually(lambda: _number(dials), "the dials column shows a number")

    async def moved() -> int | None:
        now = await _number(dials)
        return now if now is not None and now > first else None

    await eventually(moved, f"the dial count moves on from {first}")
    # The agent board shows the simulated agent (1002) at work.
    await expect(page.locator("#agents tbody tr", has_text="1002")).to_be_visible()
    # Pick the campaign and lower the abandonment target from 3.0 % to 2.5 %.
    await row.locator("td").nth(1).click()
    await expect(page.locator("#pacing-campaign")).to_have_text(DEMO_CAMPAIGN)
    form = page.locator("form#pacing")
    await expect(form.locator("select[name=mode]")).to_have_value("predictive")
    await expect(form.locator("input[name=target]")).to_have_value("3.0")
    await form.locator("input[name=target]").fill("2.5")
    await form.locator("button").click()
    await expect(page.locator("#pacing-msg")).to_contain_text("saved")

    # Saved: read back over the API, and audited with who changed it.
    r = await api.get(f"/v1/campaigns/{world.campaign_id}/pacing", headers=supervisor)
    assert r.status_code == 200, r.text
    saved = r.json()["settings"]
    assert saved["mode"] == "predictive"
    assert saved["target_abandon_rate"] == pytest.approx(0.025)
    r = await api.get("/v1/audit", params={"action": "campaign.pacing"}, headers=admin)
    assert r.status_code == 200, r.text
    entry = r.json()[0]
    assert entry["actor"] == SUPERVISOR[0]
    assert entry["detail"]["after"]["target_abandon_rate"] == pytest.approx(0.025)
    # Applied: the runtime reloaded the campaign and paces it with the new target.
    run = world.service.engine.campaigns[world.campaign_id]
    assert run.config.pacing["target_abandon_rate"] == pytest.approx(0.025)
    assert run.pacer(DEMO_SERVER).config.target_abandon_rate == pytest.approx(0.025)
    _no_script_errors(page)


async def _campaign_action(page: Page, label: str, status: str) -> None:
    from playwright.async_api import expect

    row = _campaign_row(page)
    await row.locator("button", has_text=label).click()
    await expect(row.locator("td").nth(2)).to_have_text(status)


async def _supervisor_pauses(
    world: DemoWorld, page: Page, api: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    """Pause dialing and let every unanswered call end, so that the agent's pause and ready
    below cannot race a call. Give wrap-up an hour: at this speed the demo's minute of
    wrap-up is 3 real seconds, too short to be sure of a browser's clicks."""
    await _campaign_action(page, "Pause", "paused")
    r = await api.patch(
        f"/v1/campaigns/{world.campaign_id}", json={"wrapup_timeout_s": 3600}, headers=supervisor
    )
    assert r.status_code == 200, r.text
    settled = {AttemptState.CONNECTED, AttemptState.WRAPUP}

    async def quiet() -> bool:
        return all(
            a.state in settled
            for a in world.service.engine.calls
            if a.campaign_id == world.campaign_id
        )

    await eventually(quiet, "no call left ringing or waiting for an agent")


async def _agent_signs_in(page: Page) -> None:
    from playwright.async_api import expect

    username = console_login(0)
    await _log_in(page, username, DEMO_AGENT_PASSWORD)
    await expect(page.locator("#who")).to_have_text(username)
    state = page.locator("#state")
    await expect(state).to_have_text("offline")
    await page.locator("#session-login").click()
    await expect(state).to_have_text("ready")  # the (simulated) phone answered
    await page.locator("#pause-reason").select_option("break")
    await page.locator("#pause").click()
    await expect(state).to_have_text("paused (break)")
    await page.locator("#ready").click()
    await expect(state).to_have_text("ready")
    await expect(page.locator("#session-msg")).to_have_text("")


async def _agent_takes_a_call(world: DemoWorld, page: Page) -> None:
    from playwright.async_api import expect

    agent_id = world.console_agent_ids[0]
    await expect(page.locator("#call")).to_be_visible(timeout=20_000)
    current = world.service.control.current_call(agent_id)
    assert current is not None and current.lead_id is not None
    attempt_id = current.attempt_id
    async with world.service.sessions() as session:
        lead = await session.get(Lead, current.lead_id)
        campaign = await session.get(Campaign, world.campaign_id)
    assert lead is not None and campaign is not None
    # The lead (number masked but for the last 4 digits) and the campaign's script.
    await expect(page.locator("#lead-name")).to_have_text(lead.name or "—")
    phone = (await page.locator("#lead-phone").inner_text()).strip()
    assert phone.endswith(lead.phone_e164[-4:]) and phone.startswith("*"), phone
    await expect(page.locator("#script")).to_have_text(campaign.script_text)
    # Disposition it with notes.
    await page.locator("#notes").fill(NOTES)
    await page.locator("#dispositions button", has_text="SALE").click()
    await expect(page.locator("#call-msg")).to_contain_text("SALE")

    async def closed() -> Any:
        async with world.service.sessions() as session:
            row = await session.scalar(select(CallAttempt).where(CallAttempt.id == attempt_id))
        return row if row is not None and row.terminal_state is not None else None

    attempt = await eventually(closed, f"attempt {attempt_id} is closed in the database")
    assert attempt.terminal_state == "completed"
    assert attempt.disposition == "SALE"
    assert attempt.notes == NOTES
    assert attempt.agent_id == agent_id
    assert attempt.lead_id == lead.id
    _no_script_errors(page)


async def _agent_dials_by_hand(world: DemoWorld, page: Page) -> None:
    """Paused (so no predictive call lands), the agent types a number: compliance passes,
    the call rings for this agent alone, and it is on the books like any other dial."""
    from playwright.async_api import expect

    agent_id = world.console_agent_ids[0]
    state = page.locator("#state")
    await page.locator("#pause-reason").select_option("training")
    await page.locator("#pause").click()
    await expect(state).to_have_text("paused (training)")
    await page.locator("#manual-number").fill("139 0000 1234")
    await page.locator("#manual-dial").click()
    await expect(state).to_have_text("talking")
    await expect(page.locator("#dial-msg")).to_have_text("")
    current = world.service.control.current_call(agent_id)
    assert current is not None
    async with world.service.sessions() as session:
        lead = await session.get(Lead, current.lead_id)
    assert lead is not None and lead.phone_e164 == "+8613900001234"
    assert lead.custom_fields == {"source": "manual dial"}
    _no_script_errors(page)
