"""Lighthouse in the suite (issue 16, item 2).

Lighthouse (pinned npm devDependency, mobile, performance category only) runs on the two capture
forms, the pages a crew member opens on one bar: the audit must run and its CLS be below 0.1.
Layout shift on every other page, in every state, by the role that opens it, at 390x844 and
1366x900, is checked where tests/browser/test_accessibility.py opens each page for axe (one visit
for both checks). Timings (LCP) are not asserted here: they go into `python -m bench`
(bench/first_visit.py), measured against their goals on a quiet machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.first_visit import lighthouse, session_cookie
from tests.support.live_server import LiveServer

ROOT = Path(__file__).resolve().parent.parent.parent

CREW = ("crew@demo.nhs.uk", "crew-demo-pass")

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
    cookie = session_cookie(live_server.url, *CREW)
    [result] = lighthouse([(f"{live_server.url}{path}", cookie)], quick=True)
    assert result["error"] is None, result["error"]
    assert result["ran"], f"the performance audit did not run: {result}"
    # Audited signed in, not bounced to the sign-in page.
    assert (result["final_url"] or "").split("?")[0].endswith(path), result
    assert result["lcp_ms"] > 0
    assert result["cls"] < 0.1, f"cumulative layout shift {result['cls']}"
