"""Inbound blending on the supervisor dashboard, in a real browser against `make demo`'s
server: a caller dials the demo campaign's number on pbxsim, an agent takes the call, and
the campaign row's inbound cell follows it live (answered / offered, service level)."""

from __future__ import annotations

import re
from pathlib import Path

from dialer.db.models import Campaign
from dialer.demo import DEMO_ADMIN, DEMO_DID
from tests.web.conftest import demo_server
from tests.web.test_browser_e2e import (
    TIMEOUT_MS,
    _campaign_row,
    _log_in,
    _no_script_errors,
    _page,
    eventually,
)


async def test_the_dashboard_shows_callers_and_the_service_level(
    chromium_path: str, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    async with demo_server(tmp_path, agents=2, leads=50) as world:
        service = world.service
        async with service.sessions() as s:
            campaign = await s.get(Campaign, world.campaign_id)
            assert campaign is not None and campaign.inbound["dids"] == [DEMO_DID]
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=chromium_path, headless=True, args=["--no-sandbox"]
            )
            try:
                page = await _page(browser, world.url or "")
                await _log_in(page, *DEMO_ADMIN)
                cell = _campaign_row(page).locator("td.inbound")
                await expect(cell).to_contain_text("0/0")
                caller = world.sim.inbound_call(DEMO_DID, "13912345678", patience_s=120, talk_s=20)
                engine = service.engine

                async def taken() -> str | None:
                    call = engine.calls.get(caller)
                    return call.agent_ext if call is not None else None

                await eventually(taken, "an agent takes the caller")
                await expect(cell).to_contain_text(re.compile(r"^1/1 .*SL 100\.0% ≤15s"))
                _no_script_errors(page)
            finally:
                await browser.close()
