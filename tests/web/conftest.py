"""The browser for the web tests: Debian's Chromium, driven by playwright.

Playwright's own browser downloads are never used: the tests launch the system Chromium
(`DIALER_CHROMIUM`, else `chromium` or `chromium-browser` on the PATH). Without one the
tests skip, except under `DIALER_REQUIRE_BROWSER=1` (set by CI), where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

REQUIRE_BROWSER = os.environ.get("DIALER_REQUIRE_BROWSER") == "1"
CANDIDATES = ("chromium", "chromium-browser")


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
