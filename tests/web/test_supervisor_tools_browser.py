"""Supervisor tools in a real browser against `make demo`'s server (in-process, temp SQLite):
from the dashboard a supervisor whispers into an agent's live call (pbxsim shows the spy on
the agent's leg), finds a recorded call and plays it, and opens the daily PDF report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import select

from dialer.db.migrate import upgrade
from dialer.db.models import AuditLog, CallAttempt, Campaign
from dialer.demo import DEMO_ADMIN, DEMO_CAMPAIGN, DemoOptions, free_port, start_demo, stop_demo
from dialer.settings import Settings
from tests.web.test_browser_e2e import eventually

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SPEED = 20.0
SUPERVISOR = ("coach", "coach-password")
TIMEOUT_MS = 15_000
T = TypeVar("T")


async def test_supervisor_tools_in_the_browser(chromium_path: str, tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{(tmp_path / 'dialer.db').as_posix()}"
    await upgrade(db_url)
    settings = Settings(database_url=db_url, data_dir=tmp_path)
    options = DemoOptions(
        speed=SPEED,
        agents=3,
        leads=300,
        live_view=False,
        serve_http=True,
        http_port=free_port(),
        start_wall=START,
    )
    world = await start_demo(settings, options)
    try:
        async with world.service.sessions() as s, s.begin():
            campaign = await s.get(Campaign, world.campaign_id)
            assert campaign is not None
            campaign.recording_mode = "all"
        await world.service.control.campaign_changed(world.campaign_id)
        await _run(world, settings, chromium_path)
    finally:
        await stop_demo(world, drain_s=20.0)


async def _run(world: Any, settings: Settings, chromium_path: str) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    service, sim = world.service, world.sim
    async with httpx.AsyncClient(base_url=world.url or "", timeout=10) as api:
        username, password = DEMO_ADMIN
        r = await api.post("/v1/auth/token", json={"username": username, "password": password})
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = await api.post(
            "/v1/users",
            headers=admin,
            json={"username": SUPERVISOR[0], "password": SUPERVISOR[1], "role": "supervisor"},
        )
        assert r.status_code == 201, r.text
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=["--no-sandbox"]
        )
        try:
            context = await browser.new_context()
            context.set_default_timeout(TIMEOUT_MS)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(world.url or "")
            form = page.locator("form#login")
            await form.locator("input[name=username]").fill(SUPERVISOR[0])
            await form.locator("input[name=password]").fill(SUPERVISOR[1])
            await form.locator("button").click()
            await expect(page.locator("#main")).to_be_visible()

            # -- whisper into a live call
            await page.locator("#spy-ext").fill("2001")
            whisper = page.locator("#agents tbody tr button.monitor-whisper:enabled").first
            message = page.locator("#monitor-msg")
            for _ in range(5):  # the call may end between the button showing and the click
                await whisper.click()
                await expect(message).not_to_have_text("")
                if "not on a call" not in await message.inner_text():
                    break
                await message.evaluate("node => { node.textContent = ''; }")
            await expect(message).to_contain_text("whisper")
            spy = await eventually(
                lambda: _async(next((x for x in sim.spies() if "2001" in x["spyer"]), None)),
                "pbxsim shows the supervisor's spy",
            )
            assert spy["mode"] == "whisper"
            agent = next(a for a in service.engine.board if a.leg_uniqueid == spy["spyee_uniqueid"])
            assert spy["spyee"].startswith(f"PJSIP/{agent.extension}-")

            # -- find a recorded call and play it
            async def recorded() -> CallAttempt | None:
                await service.writer.flush(5)
                async with service.sessions() as s:
                    return await s.scalar(
                        select(CallAttempt)
                        .where(
                            CallAttempt.recording_path.is_not(None),
                            CallAttempt.terminal_state.is_not(None),
                        )
                        .limit(1)
                    )

            call = await eventually(recorded, "a recorded call has ended")
            assert call.recording_path is not None
            audio = settings.recordings_path / call.recording_path  # as Asterisk writes it
            audio.parent.mkdir(parents=True, exist_ok=True)
            audio.write_bytes(_wav(seconds=1))
            search = page.locator("form#rec-search")
            await search.locator("input[name=day]").fill("2026-03-02")
            await search.locator("button").click()
            row = page.locator(f'#recordings tbody tr[data-attempt="{call.id}"]')
            await row.locator("button.play").click()
            player = page.locator("#player")
            await expect(player).to_have_attribute("data-attempt", call.id)
            src = await player.get_attribute("src")
            assert src is not None and src.startswith("blob:")

            # -- the daily PDF of the demo campaign
            campaign_row = page.locator("#campaigns tbody tr", has_text=DEMO_CAMPAIGN)
            async with context.expect_page() as popup_info:
                await campaign_row.locator("button", has_text="PDF").click()
            popup = await popup_info.value
            assert popup.url.startswith("blob:")
            assert errors == [], errors
        finally:
            await browser.close()

    async with service.sessions() as s:
        audit = list(await s.scalars(select(AuditLog).order_by(AuditLog.id)))
    actions = {(a.actor, a.action) for a in audit}
    assert {
        ("coach", "agent.monitor"),
        ("coach", "recording.search"),
        ("coach", "recording.play"),
        ("coach", "report.export"),
    } <= actions
    pdf = next(a for a in audit if a.action == "report.export")
    assert pdf.detail["format"] == "pdf"


async def _async(value: T) -> T:
    return value


def _wav(seconds: int, rate: int = 8000) -> bytes:
    """A silent 8 kHz mono 16-bit WAV the browser's player accepts."""
    import io
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * rate * seconds)
    return out.getvalue()
