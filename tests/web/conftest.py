"""The browser for the web tests: Debian's Chromium, driven by playwright.

Playwright's own browser downloads are never used: the tests launch the system Chromium
(`DIALER_CHROMIUM`, else `chromium` or `chromium-browser` on the PATH). Without one the
tests skip, except under `DIALER_REQUIRE_BROWSER=1` (set by CI), where they fail.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

REQUIRE_BROWSER = os.environ.get("DIALER_REQUIRE_BROWSER") == "1"
CANDIDATES = ("chromium", "chromium-browser")
DEMO_START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def find_chromium() -> str | None:
    explicit = os.environ.get("DIALER_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _missing(what: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{what} (DIALER_REQUIRE_BROWSER=1)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if importlib.util.find_spec("playwright") is None:
        _missing("the playwright package is not installed (pip install -e '.[dev]')")
    path = find_chromium()
    if path is None:
        _missing("no Chromium found (apt-get install chromium, or set DIALER_CHROMIUM)")
    assert path is not None
    return path


@contextlib.asynccontextmanager
async def demo_server(tmp_path: Path, **options: Any) -> AsyncIterator[Any]:
    """`make demo`'s world with its HTTP server on a free port, on a temp SQLite file, started
    at a Monday 10:00 in Shanghai (inside the calling window); `options` override DemoOptions."""
    from dialer.db.migrate import upgrade
    from dialer.demo import DemoOptions, free_port, start_demo, stop_demo
    from dialer.settings import Settings

    db_url = f"sqlite+aiosqlite:///{(tmp_path / 'dialer.db').as_posix()}"
    await upgrade(db_url)
    settings = Settings(database_url=db_url, data_dir=tmp_path)
    fields: dict[str, Any] = {
        "speed": 20.0,
        "agents": 2,
        "leads": 200,
        "live_view": False,
        "serve_http": True,
        "http_port": free_port(),
        "start_wall": DEMO_START,
    }
    world = await start_demo(settings, DemoOptions(**{**fields, **options}))
    try:
        yield world
    finally:
        await stop_demo(world, drain_s=20.0)
