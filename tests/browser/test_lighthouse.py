"""Lighthouse (pinned npm devDependency, mobile, Debian Chromium) over the pages, signed in as the
role that opens each (issue 16, item 2): the performance audit runs on every one and none shifts
its layout by 0.1 or more. Timings (LCP) are not asserted here: they go into `python -m bench`
(bench/first_visit.py), measured against their goals on a quiet machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.first_visit import lighthouse, session_cookie
from tests.support.live_server import LiveServer

ROOT = Path(__file__).resolve().parent.parent.parent

USERS = {
    "crew": ("crew@demo.nhs.uk", "crew-demo-pass"),
    "manager": ("manager@demo.nhs.uk", "manager-demo-pass"),
    "admin": ("admin@demo.nhs.uk", "admin-demo-pass"),
    "partner": ("partner@demo.nhs.uk", "partner-demo-pass"),
}

#: Every page a person opens from the navigation, by the role that opens it.
PAGES = [
    ("anonymous", "/login"),
    ("anonymous", "/signup"),
    ("anonymous", "/offline"),
    ("crew", "/"),
    ("crew", "/handovers/new"),
    ("crew", "/ideas/new"),
    ("crew", "/mine"),
    ("crew", "/outbox"),
    ("crew", "/logout"),
    ("crew", "/account"),
    ("manager", "/triage"),
    ("manager", "/handovers"),
    ("manager", "/measures"),
    ("manager", "/huddle"),
    ("manager", "/learning"),
    ("manager", "/readiness"),
    ("admin", "/admin/users"),
    ("partner", "/partner"),
    ("partner", "/partner/pack"),
]


@pytest.mark.parametrize(("role", "path"), PAGES, ids=[f"{r}:{p}" for r, p in PAGES])
def test_the_page_has_a_performance_audit_and_no_layout_shift(
    live_server: LiveServer, playwright_driver: object, role: str, path: str
) -> None:
    """One page per test, so test workers share them out."""
    # playwright_driver: skips with the other browser tests where there is no Chromium.
    assert shutil.which("node"), "node is needed for Lighthouse"
    assert (ROOT / "node_modules" / "lighthouse").is_dir(), "run npm ci (lighthouse is a dev dep)"
    # A session of its own: each audit starts as a new phone.
    cookie = None if role == "anonymous" else session_cookie(live_server.url, *USERS[role])
    [result] = lighthouse([(f"{live_server.url}{path}", cookie)], quick=True)
    assert result["error"] is None, result["error"]
    assert result["ran"], f"the performance audit did not run: {result}"
    # Audited as that role, not bounced to the sign-in page.
    assert (result["final_url"] or "").split("?")[0].endswith(path), result
    assert result["lcp_ms"] > 0
    assert result["cls"] < 0.1, f"cumulative layout shift {result['cls']}"
