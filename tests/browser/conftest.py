"""Real-browser fixtures: a real Frontline server (uvicorn, its own SQLite database) on 127.0.0.1,
and Debian's Chromium driven by Playwright at a phone-sized viewport."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.chromium import CHROMIUM
from tests.support.live_server import LiveServer

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}

#: The layout shifts of the page's document so far, added up after `settle` more milliseconds:
#: those without recent input, as Lighthouse's CLS counts them, or (`all`) every one. Buffered
#: entries are queued when observing starts: takeRecords() collects what the callback has not yet
#: been handed. Passed to page.evaluate: the CSP forbids injected script elements.
LAYOUT_SHIFT = """([settle, all]) => new Promise(resolve => {
  let total = 0;
  const add = entries => {
    for (const entry of entries) if (all || !entry.hadRecentInput) total += entry.value;
  };
  const observer = new PerformanceObserver(list => add(list.getEntries()));
  observer.observe({type: 'layout-shift', buffered: true});
  setTimeout(() => {
    add(observer.takeRecords());
    observer.disconnect();
    resolve(total);
  }, settle);
})"""
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, mailbox: Any) -> Iterator[LiveServer]:
    # Self sign-up on (domains and a mail server), so /signup is a page the browser tests can open.
    server = LiveServer(
        tmp_path_factory.mktemp("live"),
        env={
            "FRONTLINE_ALLOWED_SIGNUP_DOMAINS": "demo.nhs.uk",
            "FRONTLINE_SMTP_HOST": "127.0.0.1",
            "FRONTLINE_SMTP_PORT": str(mailbox.port),
            "FRONTLINE_SMTP_STARTTLS": "false",
        },
    )
    server.cli("migrate")
    server.cli("demo")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver: Any) -> Iterator[Any]:
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    yield context
    context.close()


@pytest.fixture
def page(context: Any) -> Any:
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def sign_in(page: Any, server: LiveServer, email: str, password: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    # Staff land on the home page; a partner organisation's user on the notes about them.
    page.wait_for_url(lambda url: url in (f"{server.url}/", f"{server.url}/partner"))


def layout_shift(page: Any, settle_ms: int = 0, *, with_input: bool = False) -> float:
    """The page's cumulative layout shift so far (plus `settle_ms` more): under 0.1 is good.

    Playwright runs `page.evaluate` as a user gesture, so Chromium marks shifts within 500 ms of
    any evaluate (a `wait_until` poll) as following input, and CLS leaves them out. Where nobody
    has touched the page, `with_input=True` counts every shift, those included."""
    return float(page.evaluate(LAYOUT_SHIFT, [settle_ms, with_input]))


def wait_until(page: Any, script: str, timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll a page expression (the CSP forbids the eval behind Playwright's wait_for_function).
    Every 50 ms: a check is a millisecond's work, and each wait costs half an interval on average
    (a wait for a fifth of a second was most of some accessibility checks)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {script!r} (last value {value!r})")
