"""A new phone's first visit to the capture forms (issue 16, item 2), on one fresh server:

1. bytes over the wire, counted by bench.offline_drain's CountingRelay (every byte the phone
   downloads, the service worker's own fetches included; the sign-in not counted): the page and
   its subresources with the worker blocked, then the same visit with the worker's install;
2. Lighthouse (the pinned npm devDependency, mobile, simulated slow 4G) on each form, signed in:
   LCP, CLS and the performance score. The server has served each page once before, as a running
   server has (the first render of a template compiles it).

    python -m bench.first_visit
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.offline_drain import FirstLoad, demo_server_and_chromium, first_load
from bench.server import ROOT, BenchServer

FORMS = ("/handovers/new", "/ideas/new")
CREW = ("crew@demo.nhs.uk", "crew-demo-pass")
LIGHTHOUSE = ROOT / "tests" / "support" / "lighthouse.mjs"


@dataclass(frozen=True)
class Audit:
    path: str
    ran: bool
    score: int | None
    lcp_ms: float | None
    cls: float | None
    error: str | None


def session_cookie(url: str, email: str, password: str) -> str:
    """Signs in over HTTP; the Cookie header a signed-in browser sends."""
    with httpx.Client(base_url=url, follow_redirects=False) as client:
        page = client.get("/login").text
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        if not match:
            raise RuntimeError("no CSRF token on /login")
        answer = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": match[1]}
        )
        if answer.status_code != 303:
            raise RuntimeError(f"sign-in failed: {answer.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def install_node_modules(node: str) -> None:
    """`npm ci` when node_modules is missing or older than package-lock.json, as scripts/test does:
    `make setup` installs only the Python side, and Lighthouse is an npm dev dependency."""
    installed = ROOT / "node_modules" / ".package-lock.json"
    lock = ROOT / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm") or str(Path(node).with_name("npm"))
    subprocess.run([npm, "ci", "--silent", "--no-audit", "--no-fund"], cwd=ROOT, check=True)


def lighthouse(pages: list[tuple[str, str | None]], *, quick: bool = False) -> list[dict]:
    """tests/support/lighthouse.mjs over (url, cookie) pairs; its JSON answer, one per page."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH")
    install_node_modules(node)
    answer = subprocess.run(
        [node, str(LIGHTHOUSE)],
        input=json.dumps({"pages": [{"url": u, "cookie": c} for u, c in pages], "quick": quick}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120 + 60 * len(pages),
        check=False,
    )
    if answer.returncode != 0:
        raise RuntimeError(f"lighthouse failed: {answer.stderr[-2000:]}")
    return list(json.loads(answer.stdout))


def audit_forms(server: BenchServer) -> list[Audit]:
    pages: list[tuple[str, str | None]] = []
    for path in FORMS:
        # A session per page: Lighthouse starts each page as a new phone.
        cookie = session_cookie(server.url, *CREW)
        httpx.get(f"{server.url}{path}", headers={"Cookie": cookie}).raise_for_status()
        pages.append((f"{server.url}{path}", cookie))
    audits = []
    for path, result in zip(FORMS, lighthouse(pages), strict=True):
        landed = (result.get("final_url") or "").endswith(path)
        audits.append(
            Audit(
                path=path,
                ran=bool(result.get("ran")) and landed,
                score=result.get("score"),
                lcp_ms=result.get("lcp_ms"),
                cls=result.get("cls"),
                error=result.get("error") or (None if landed else "redirected to sign in"),
            )
        )
    return audits


@dataclass(frozen=True)
class FirstVisits:
    loads: dict[str, FirstLoad]
    audits: list[Audit]


def measure_first_visits() -> FirstVisits:
    with demo_server_and_chromium() as (server, browser):
        loads = {path: first_load(browser, server, path) for path in FORMS}
        audits = audit_forms(server)
    return FirstVisits(loads=loads, audits=audits)


def main() -> None:
    visits = measure_first_visits()
    for path, load in visits.loads.items():
        print(
            f"{path} first visit: {load.page:,} bytes for the page and what it loads; "
            f"{load.total:,} with the service worker's install "
            f"(+{load.total - load.page:,}; {load.requests} requests)"
        )
    for audit in visits.audits:
        print(
            f"{audit.path} Lighthouse mobile: score {audit.score}, LCP {audit.lcp_ms or 0:,.0f} ms, "
            f"CLS {audit.cls}" + (f" ({audit.error})" if audit.error else "")
        )


if __name__ == "__main__":
    main()
