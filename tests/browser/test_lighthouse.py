"""Layout shift and Lighthouse, cheaply (issue 16, item 2).

Every page a person opens from the navigation, by the role that opens it, is opened in the suite's
Chromium (Playwright) at phone 390x844 and laptop 1366x900, and the layout shifts a
`PerformanceObserver({type: 'layout-shift', buffered: true})` has seen since the page began
(those without recent input, as bench/mine_layout_shift.py counts them) must add up to less than
0.1. Lighthouse itself (pinned npm devDependency, mobile, performance category only) runs on the
two capture forms, the pages a crew member opens on one bar: the audit must run and its CLS be
below 0.1. Timings (LCP) are not asserted here: they go into `python -m bench`
(bench/first_visit.py), measured against their goals on a quiet machine."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bench.first_visit import lighthouse, session_cookie
from tests.browser.conftest import sign_in
from tests.support.live_server import LiveServer

ROOT = Path(__file__).resolve().parent.parent.parent

USERS = {
    "crew": ("crew@demo.nhs.uk", "crew-demo-pass"),
    "manager": ("manager@demo.nhs.uk", "manager-demo-pass"),
    "admin": ("admin@demo.nhs.uk", "admin-demo-pass"),
    "partner": ("partner@demo.nhs.uk", "partner-demo-pass"),
}

#: Every page a person opens from the navigation, by the role that opens it.
PAGES = {
    "anonymous": ["/login", "/signup", "/offline"],
    "crew": ["/", "/handovers/new", "/ideas/new", "/mine", "/outbox", "/logout", "/account"],
    "manager": ["/triage", "/handovers", "/measures", "/huddle", "/learning", "/readiness"],
    "admin": ["/admin/users"],
    "partner": ["/partner", "/partner/pack"],
}

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 900}}

#: The shifts seen since the page began (buffered), after a moment for late scripts and images.
#: Passed to page.evaluate: the CSP forbids injected script elements.
LAYOUT_SHIFT = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: 'layout-shift', buffered: true});
  setTimeout(() => resolve(total), 750);
})"""


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("role", PAGES)
def test_no_page_shifts_its_layout(
    live_server: LiveServer, browser: Any, role: str, viewport: str
) -> None:
    size = VIEWPORTS[viewport]
    context = browser.new_context(
        viewport=size,
        device_scale_factor=2,
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        if role != "anonymous":
            sign_in(page, live_server, *USERS[role])
        shifts: dict[str, float] = {}
        for path in PAGES[role]:
            response = page.goto(f"{live_server.url}{path}", wait_until="load")
            assert response is not None and response.status == 200, (path, response)
            # Opened as that role, not bounced to the sign-in page.
            assert page.url.split("?")[0] == f"{live_server.url}{path}", (path, page.url)
            shifts[path] = page.evaluate(LAYOUT_SHIFT)
        assert len(shifts) == len(PAGES[role])
        assert all(value < 0.1 for value in shifts.values()), shifts
    finally:
        context.close()


FORMS = ["/handovers/new", "/ideas/new"]


@pytest.mark.parametrize("path", FORMS)
def test_lighthouse_audits_the_capture_forms_and_sees_no_layout_shift(
    live_server: LiveServer, playwright_driver: object, path: str
) -> None:
    """One form per test, so test workers share them out."""
    # playwright_driver: skips with the other browser tests where there is no Chromium.
    assert shutil.which("node"), "node is needed for Lighthouse"
    assert (ROOT / "node_modules" / "lighthouse").is_dir(), "run npm ci (lighthouse is a dev dep)"
    # A session of its own: each audit starts as a new phone.
    cookie = session_cookie(live_server.url, *USERS["crew"])
    [result] = lighthouse([(f"{live_server.url}{path}", cookie)], quick=True)
    assert result["error"] is None, result["error"]
    assert result["ran"], f"the performance audit did not run: {result}"
    # Audited signed in, not bounced to the sign-in page.
    assert (result["final_url"] or "").split("?")[0].endswith(path), result
    assert result["lcp_ms"] > 0
    assert result["cls"] < 0.1, f"cumulative layout shift {result['cls']}"
