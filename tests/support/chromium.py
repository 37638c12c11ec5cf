"""One Playwright driver per test process, shared by every test that drives Chromium.

Playwright's sync API runs its event loop on the calling thread: a second `sync_playwright()`
while the first is alive fails ("Sync API inside the asyncio loop"). So the real-browser tests
(tests/browser) and the HTTPS deployment test (tests/deploy) take their browsers from this one
driver. Registered for the whole suite by tests/conftest.py (`pytest_plugins`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("FRONTLINE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; CI installs it)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright
