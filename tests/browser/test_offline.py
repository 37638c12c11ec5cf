"""The offline outbox in a real browser (SPEC §5, docs/offline.md): what is submitted is kept on the
phone first, stays there through no signal, a server that is down, a lost answer, a closed page, an
ended session, a rejection, a new service worker version and another user on the phone, and reaches
the server exactly once.

Every test signs in on a fresh browser context (its own service worker, caches and IndexedDB)
against the shared live server, writes records with a narrative or title of its own, and counts
only those.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.browser.conftest import LiveServer, sign_in, wait_until
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

CREW = ("crew@demo.nhs.uk", "crew-demo-pass")
STAFF = ("staff@demo.nhs.uk", "staff-demo-pass")

#: The pages that open with no network (O7), by their heading.
APP_PAGES = {
    "/": "What do you want to do?",
    "/handovers/new": "Log a handover note",
    "/ideas/new": "Submit an improvement idea",
    "/outbox": "Outbox",
    "/mine": "My submissions",
}
PAGES_CACHE = "frontline-pages-v1"
SUBMIT = "form[data-record-form] button[type=submit]"
SEND_TIMEOUT = 30.0


# Helpers ------------------------------------------------------------------------------------


def unique(label: str) -> str:
    """Text no other test (or run) writes; letters only, so the NHS number guard never sees digits."""
    return f"{label} {uuid.uuid4().hex.translate(str.maketrans('0123456789', 'ghijklmnop'))}"


def js(value: Any) -> str:
    return json.dumps(value)


def outbox_ready(page: Any) -> None:
    wait_until(page, "document.body.classList.contains('app-outbox-ready')")


def open_page(page: Any, server: LiveServer, path: str) -> Any:
    response = page.goto(f"{server.url}{path}")
    outbox_ready(page)
    return response


def count(page: Any) -> str:
    return page.text_content("[data-outbox-count]").strip()


def wait_count(page: Any, expected: int, timeout: float = 20.0) -> None:
    wait_until(
        page,
        f"document.querySelector('[data-outbox-count]').textContent.trim() === '{expected}'",
        timeout=timeout,
    )


def wait_sent(page: Any, record_id: str, timeout: float = SEND_TIMEOUT) -> dict[str, Any]:
    """Waits until the phone has an acknowledgement for the record (the item is deleted and its
    receipt written in one transaction), then until the count says so. Returns the receipt."""
    receipt = wait_until(
        page,
        f"FrontlineOutboxClient.ready.then(c => c.store.getReceipt({js(record_id)}))",
        timeout=timeout,
    )
    wait_count(page, 0)
    return receipt


def sync_status(page: Any) -> str:
    return " ".join(page.text_content("[data-sync-status]").split())


def start_signed_in(page: Any, server: LiveServer, who: tuple[str, str]) -> str:
    """Signs in and waits for the service worker to control the page (so its shell is precached).
    Returns the signed-in user's id."""
    sign_in(page, server, *who)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    wait_until(page, "caches.has(FrontlineVersion.SHELL_CACHE)")
    outbox_ready(page)
    return page.get_attribute("meta[name=frontline-user]", "content")


def keep_for_offline(page: Any, server: LiveServer, *paths: str) -> None:
    """Opens the pages with signal, then waits until the worker has stored their copies (it stores
    them after answering, so going offline straight away could race it)."""
    for path in paths:
        open_page(page, server, path)
    wait_until(
        page,
        f"""caches.open({js(PAGES_CACHE)})
            .then(cache => Promise.all({js(list(paths))}.map(p => cache.match(location.origin + p))))
            .then(hits => hits.every(Boolean))""",
    )


def phone_items(page: Any, user_id: str | None = None) -> list[dict[str, Any]]:
    """The items IndexedDB holds for a user (default: the page's user), read through the page's own
    outbox store."""
    who = "c.userId" if user_id is None else js(user_id)
    return page.evaluate(f"FrontlineOutboxClient.ready.then(c => c.store.listItems({who}))")


def fill_handover(page: Any, narrative: str) -> str:
    """Fills the handover form; returns the record id the browser gave it."""
    page.select_option("#partner_id", index=1)
    page.check("#categories")
    page.fill("#narrative", narrative)
    record_id = page.input_value("input[name=id]")
    assert uuid.UUID(record_id)
    return record_id


def submit_and_see_it_saved(page: Any, *, still_waiting: bool = True) -> None:
    """Submits the record form; the page must say at once that it is safe on the phone (O1). With
    signal the item may already have been sent when we look (`still_waiting=False`)."""
    started = time.monotonic()
    page.click(SUBMIT)
    wait_until(page, "!document.querySelector('[data-saved-panel]').hidden", timeout=5)
    assert time.monotonic() - started < 5
    panel = " ".join(page.text_content("[data-saved-panel]").split())
    assert "Saved on this phone" in panel
    if still_waiting:
        assert page.is_visible("[data-saved-panel] [data-saved-waiting]")


def outbox_cards(page: Any, expected: int) -> list[dict[str, str]]:
    """What /outbox lists, once it has drawn `expected` items (it draws from IndexedDB after the
    page loads, and again after every change)."""
    wait_until(
        page,
        "document.querySelector('[data-outbox-loading]').hidden"
        f" && document.querySelectorAll('.app-outbox-item').length === {expected}",
    )
    return page.evaluate(
        """Array.from(document.querySelectorAll('.app-outbox-item')).map(card => ({
             id: card.id.replace(/^item-/, ''),
             state: card.getAttribute('data-state'),
             tag: card.querySelector('.nhsuk-tag').textContent.trim(),
             text: card.textContent.replace(/\\s+/g, ' '),
           }))"""
    )


def wait_outbox_empty(page: Any) -> None:
    """/outbox redraws its list after the count changes: wait for it to say nothing is waiting."""
    wait_until(
        page,
        "document.querySelectorAll('.app-outbox-item').length === 0"
        " && !document.querySelector('[data-outbox-empty]').hidden",
    )


def server_submissions(server: LiveServer, who: tuple[str, str]) -> dict[str, Any]:
    """What the server holds for the user (GET /api/v1/me/submissions)."""
    client = server.api(*who)
    try:
        response = client.get("/api/v1/me/submissions")
        assert response.status_code == 200
        return response.json()
    finally:
        client.close()


def server_handovers(server: LiveServer, who: tuple[str, str], narrative: str) -> list[dict]:
    return [n for n in server_submissions(server, who)["handovers"] if n["narrative"] == narrative]


def assert_one_handover_on_server(
    server: LiveServer, narrative: str, record_id: str | None = None, who: tuple[str, str] = CREW
) -> dict:
    found = server_handovers(server, who, narrative)
    assert len(found) == 1, f"the server holds {len(found)} copies of {narrative!r}"
    if record_id is not None:
        assert found[0]["id"] == record_id
    return found[0]


def is_sign_in_for_outbox(url: str, server: LiveServer) -> bool:
    parts = urlsplit(url)
    return (
        f"{parts.scheme}://{parts.netloc}" == server.url
        and parts.path == "/login"
        and parse_qs(parts.query) == {"next": ["/outbox"]}
    )


def wait_for_server(
    server: LiveServer, process: subprocess.Popen[bytes] | None = None, timeout: float = 90.0
) -> None:
    """Until /healthz answers; a new Python process imports the whole app first, which takes many
    seconds on a machine running the rest of the suite. A process that has exited fails at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited ({process.returncode}): {server.log_tail()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server did not answer within {timeout} s: {server.log_tail()}")


#: The comment before each part of a bundle (service_worker/caches.js PART_MARK, PART_END).
PART_MARK = "/*frontline-part:"


def replace_part(bundle: Path, part: str, code: str) -> None:
    """Puts `code` in place of the part `part` of a built bundle (scripts/build_min_js.mjs)."""
    text = bundle.read_text()
    mark = f"{PART_MARK}{part}*/\n"
    assert text.count(mark) == 1, part
    before, rest = text.split(mark, 1)
    after = rest[rest.find("\n" + PART_MARK) + 1 :] if "\n" + PART_MARK in rest else ""
    bundle.write_text(f"{before}{mark}{code.strip()}\n{after}")


#: Runs `frontline serve` with the service worker's files taken from another directory: the same
#: code, database and port, as a new release of the worker would be deployed.
_SERVE_WITH_WORKER_FROM = """
import pathlib, sys
import api.templating
api.templating.SERVICE_WORKER_DIR = pathlib.Path(sys.argv[1])
import api.main
api.main.MINIFIED_DIR = pathlib.Path(sys.argv[3])
from api.cli import app
app(["serve", "--port", sys.argv[2]])
"""


#: The same, as the release before content-hashed static URLs (api/static_assets.py): its pages
#: and its worker (importScripts, precache list) name the plain /static/ and /sw/ URLs.
_SERVE_PLAIN_URLS_WITH_WORKER_FROM = """
import pathlib, re, sys
import api.templating
api.templating.SERVICE_WORKER_DIR = pathlib.Path(sys.argv[1])
import api.main, api.static_assets
api.main.MINIFIED_DIR = pathlib.Path(sys.argv[3])
api.static_assets.StaticAssets.url = lambda self, url: url
api.static_assets.REFERENCE = re.compile(r"(?!)")
from api.cli import app
app(["serve", "--port", sys.argv[2]])
"""


@contextlib.contextmanager
def new_worker_version_deployed(
    server: LiveServer, workdir: Path, *, label: str = "9999.", plain_urls: bool = False
) -> Iterator[str]:
    """Swaps the live server for one whose service_worker/version.js carries a new VERSION (what
    "Releasing a new version" in docs/offline.md ships): `label` before the current one;
    `plain_urls`: as the release before content-hashed URLs, with that release's worker code.
    Yields the new VERSION; the original server is back afterwards.

    Playwright's request routing cannot stand in for this: Chromium's update check for /sw.js and
    its imported scripts does not pass through page or context routes."""
    worker_dir = workdir / "service_worker"
    shutil.copytree(ROOT / "service_worker", worker_dir)
    version_file = worker_dir / "version.js"
    source = version_file.read_text()
    marker = "var VERSION = '"
    assert source.count(marker) == 1
    old_version = source.split(marker, 1)[1].split("'", 1)[0]
    new_version = f"{label}{old_version}"
    version_file.write_text(source.replace(marker + old_version, marker + new_version))
    # What is served is the minified copy (scripts/build_min_js.mjs): the new version ships there too.
    minified_dir = workdir / "min"
    shutil.copytree(ROOT / "web" / "static" / "min", minified_dir)
    # version.js alone and as the first part of the outbox core the worker and pages load
    # (service_worker/caches.js BUNDLES).
    for minified in (
        minified_dir / "sw" / "version.js",
        minified_dir / "sw" / "outbox-core.bundle.js",
    ):
        shipped = minified.read_text()
        assert shipped.count(f'"{old_version}"') == 1
        minified.write_text(shipped.replace(f'"{old_version}"', f'"{new_version}"'))
    if plain_urls:
        # The worker and registration code that release served (tests/browser/releases/).
        release = Path(__file__).parent / "releases" / "2026.12.06-21"
        shutil.copy(release / "caches.js", minified_dir / "sw" / "caches.js")
        shutil.copy(release / "worker-updates.js", minified_dir / "js" / "worker-updates.js")
        # Pages load worker-updates.js as part of page.bundle.js (caches.js BUNDLES).
        replace_part(
            minified_dir / "js" / "page.bundle.js",
            "/static/js/worker-updates.js",
            (release / "worker-updates.js").read_text(),
        )

    server.stop()
    with server.log_path.open("ab") as log:  # what it says on failing is in the failure
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SERVE_PLAIN_URLS_WITH_WORKER_FROM if plain_urls else _SERVE_WITH_WORKER_FROM,
                str(worker_dir),
                str(server.port),
                str(minified_dir),
            ],
            cwd=ROOT,
            env=server.env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        wait_for_server(server, process)
        assert new_version in httpx.get(f"{server.url}/sw/outbox-core.bundle.js", timeout=5).text
        yield new_version
    finally:
        try:
            process.terminate()
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        finally:
            server.start()


# Tests --------------------------------------------------------------------------------------


def test_submitted_offline_it_waits_on_the_phone_and_is_sent_once_back_online(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, "/outbox", "/handovers/new")
    narrative = unique("Offline handover")

    context.set_offline(True)
    record_id = fill_handover(page, narrative)
    submit_and_see_it_saved(page)
    wait_count(page, 1)
    assert page.text_content("[data-outbox-noun]").strip() == "item"
    assert page.input_value("input[name=id]") != record_id  # the form has a fresh id (O9)

    # /outbox opens from the service worker's copy, and lists the item as waiting.
    response = page.goto(f"{live_server.url}/outbox")
    assert response is not None and response.ok
    outbox_ready(page)
    assert page.get_attribute("html", "data-offline-copy") is not None
    cards = outbox_cards(page, 1)
    assert [(c["id"], c["state"], c["tag"]) for c in cards] == [(record_id, "waiting", "Waiting")]
    assert narrative in cards[0]["text"]
    assert count(page) == "1"

    context.set_offline(False)
    assert wait_sent(page, record_id)["outcome"] == "created"
    wait_outbox_empty(page)
    assert phone_items(page) == []
    assert_one_handover_on_server(live_server, narrative, record_id)


def test_a_drains_requests_go_straight_to_the_network_not_through_the_worker(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    """The worker declares at install the requests it never answers (caches.js NETWORK_ROUTES), so
    the browser sends a drain's requests without waking it; what it does answer still reaches it."""
    start_signed_in(page, live_server, CREW)
    open_page(page, live_server, "/handovers/new")
    context.set_offline(True)
    record_id = fill_handover(page, unique("Straight to the network"))
    submit_and_see_it_saved(page)
    page.evaluate(
        "performance.setResourceTimingBufferSize(1000); performance.clearResourceTimings()"
    )
    context.set_offline(False)
    assert wait_sent(page, record_id)["outcome"] == "created"
    # A request the worker answers (network first, then its copy): no route matches it.
    page.evaluate("fetch('/api/v1/reference').then(r => r.text())")
    routes = wait_until(
        page,
        """(() => {
            const seen = {};
            for (const e of performance.getEntriesByType('resource')) {
                const path = new URL(e.name).pathname;
                if (path.startsWith('/api/v1/')) seen[path] = e.workerMatchedSourceType;
            }
            return '/api/v1/reference' in seen ? seen : null;
        })()""",
    )
    assert routes["/api/v1/sync"] == "network"
    assert routes["/api/v1/me"] == "network"
    assert routes["/api/v1/reference"] == ""


def test_notes_logged_with_no_signal_are_listed_as_sent_latest_first(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    """Sent in one answer, at one time: "Sent from this phone" lists them as the crew logged them,
    the latest first (not in the order of their ids)."""
    start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, "/outbox", "/handovers/new")
    context.set_offline(True)
    logged = []
    for n in range(4):
        # The form opened afresh for each (the NHS.UK button ignores a second press within 1 s).
        open_page(page, live_server, "/handovers/new")
        logged.append(fill_handover(page, unique(f"Logged in the basement {n}")))
        submit_and_see_it_saved(page)
    wait_count(page, 4)
    page.goto(f"{live_server.url}/outbox")
    outbox_ready(page)
    context.set_offline(False)
    wait_until(page, "document.querySelectorAll('[data-receipt]').length === 4")
    listed = page.eval_on_selector_all("[data-receipt]", "rows => rows.map(r => r.dataset.receipt)")
    assert listed == logged[::-1]
    assert logged[-1][:8].upper() in page.text_content("[data-receipt] >> nth=0")


def test_signal_back_while_a_try_fails_for_want_of_it_is_sent_at_once_not_on_the_next_timer(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    """The `online` event can come while a try that started without signal is still failing (in
    this page, another tab or the worker). That try ends with no answer, and the page's timer
    would try again only after its 30 s period: signal that came back must start a try of its own
    after it. (CI caught the race: a phone back in signal left its item for the timer.)"""
    start_signed_in(page, live_server, CREW)
    open_page(page, live_server, "/handovers/new")
    narrative = unique("Signal back mid-try handover")

    # Every sender asks GET /api/v1/me who is signed in first: hold those questions unanswered,
    # so the tries started by the submission are under way, then fail them as no signal would.
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    context.route("**/api/v1/me", hold)
    try:
        record_id = fill_handover(page, narrative)
        submit_and_see_it_saved(page)
        deadline = time.monotonic() + 20
        while not held:  # each evaluate lets Playwright deliver the routed request
            assert time.monotonic() < deadline, "no sender asked who is signed in"
            page.evaluate("0")
        page.evaluate("window.dispatchEvent(new Event('online'))")
        for route in list(held):
            route.abort("internetdisconnected")
    finally:
        # Questions asked after these (the try the signal asked for) go through to the server.
        context.unroute("**/api/v1/me", hold)

    # Sent by the try the signal asked for: well before the timer's next one, 30 s away.
    assert wait_sent(page, record_id, timeout=10.0)["outcome"] == "created"
    assert_one_handover_on_server(live_server, narrative, record_id)


def test_server_down_the_item_stays_queued_and_is_sent_once_after_send_now(
    page: Any, live_server: LiveServer
) -> None:
    start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, "/outbox", "/handovers/new")
    narrative = unique("Server down handover")

    live_server.stop()
    try:
        record_id = fill_handover(page, narrative)
        submit_and_see_it_saved(page)
        wait_count(page, 1)

        # /outbox: the server is unreachable, so this is the worker's copy; the item waits, and
        # "Send now" says there is no signal and it will be sent when there is (O7).
        page.goto(f"{live_server.url}/outbox")
        outbox_ready(page)
        assert page.get_attribute("html", "data-offline-copy") is not None
        cards = outbox_cards(page, 1)
        assert [(c["id"], c["state"], c["tag"]) for c in cards] == [
            (record_id, "waiting", "Waiting")
        ]
        assert count(page) == "1"
        page.click("main [data-send-now]")
        wait_until(
            page,
            "document.querySelector('[data-sync-status]').textContent"
            ".includes('No signal — 1 item safe on this phone.')",
        )
        assert page.evaluate("FrontlineOutboxClient.lastResult.status") == "retry"
        assert [i["id"] for i in phone_items(page)] == [record_id]
    finally:
        if live_server.process is None:
            live_server.start()

    page.click("main [data-send-now]")
    assert wait_sent(page, record_id)["outcome"] == "created"
    wait_outbox_empty(page)
    assert_one_handover_on_server(live_server, narrative, record_id)


def test_a_lost_acknowledgement_is_retried_as_a_duplicate_not_stored_twice(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    start_signed_in(page, live_server, CREW)
    open_page(page, live_server, "/handovers/new")
    narrative = unique("Lost acknowledgement handover")

    # Every sync request reaches the server, but its answer never reaches the phone.
    delivered: list[list[str]] = []

    def lose_the_answer(route: Any) -> None:
        answer = route.fetch()
        delivered.append([r["outcome"] for r in answer.json()["results"]])
        route.abort()

    context.route("**/api/v1/sync", lose_the_answer)
    try:
        record_id = fill_handover(page, narrative)
        submit_and_see_it_saved(page)
        wait_until(
            page,
            f"""FrontlineOutboxClient.ready
                .then(c => c.store.getItem({js(record_id)}))
                .then(item => item && item.state === 'waiting' && item.attempts >= 1)""",
            timeout=SEND_TIMEOUT,
        )
        assert delivered and delivered[0] == ["created"]
        # Stored on the server, yet the phone keeps it: it has no answer (O2).
        assert_one_handover_on_server(live_server, narrative, record_id)
        items = phone_items(page)
        assert [i["id"] for i in items] == [record_id]
        assert "no connection to Frontline" in items[0]["lastError"]
        assert count(page) == "1"

        open_page(page, live_server, "/outbox")
        cards = outbox_cards(page, 1)
        # (The timer keeps trying while the answers are lost, so it may be on its way again.)
        assert [(c["id"], c["state"] in ("waiting", "sending")) for c in cards] == [
            (record_id, True)
        ]
        assert "no connection to Frontline" in cards[0]["text"]
        assert "Tries" in cards[0]["text"]
    finally:
        context.unroute_all(behavior="wait")

    # The next try (when its backoff ends) reaches the server, which answers "duplicate".
    assert wait_sent(page, record_id)["outcome"] == "duplicate"
    wait_outbox_empty(page)
    assert_one_handover_on_server(live_server, narrative, record_id)


def test_an_item_queued_offline_is_still_listed_when_the_page_is_reopened_offline(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, "/outbox", "/handovers/new")
    narrative = unique("Reopened offline handover")

    context.set_offline(True)
    record_id = fill_handover(page, narrative)
    submit_and_see_it_saved(page)
    wait_count(page, 1)
    page.close()

    reopened = context.new_page()
    reopened.set_default_timeout(15_000)
    response = reopened.goto(f"{live_server.url}/outbox")
    assert response is not None and response.ok
    outbox_ready(reopened)
    assert reopened.get_attribute("html", "data-offline-copy") is not None
    cards = outbox_cards(reopened, 1)
    assert [(c["id"], c["state"]) for c in cards] == [(record_id, "waiting")]
    assert narrative in cards[0]["text"]
    assert count(reopened) == "1"

    context.set_offline(False)
    assert wait_sent(reopened, record_id)["outcome"] == "created"
    assert_one_handover_on_server(live_server, narrative, record_id)


def test_a_session_that_ended_offline_asks_to_sign_in_then_sends_once(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    crew_id = start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, "/handovers/new")
    narrative = unique("Session expired handover")

    context.set_offline(True)
    record_id = fill_handover(page, narrative)
    submit_and_see_it_saved(page)
    wait_count(page, 1)
    context.clear_cookies()  # the session is gone; IndexedDB is not

    # Back online, the crew member opens the outbox: Frontline wants a sign-in, and the sign-in
    # page says what waits on the phone.
    context.set_offline(False)
    page.goto(f"{live_server.url}/outbox")
    assert is_sign_in_for_outbox(page.url, live_server)
    outbox_ready(page)
    wait_count(page, 1)
    wait_until(
        page,
        "document.querySelector('[data-sync-status]').textContent.includes('Sign in to send 1 item')",
    )
    assert page.get_attribute("[data-sync-status] a", "href") == "/login?next=/outbox"
    items = phone_items(page, crew_id)
    assert [i["id"] for i in items] == [record_id]  # nothing dropped (O2)
    assert items[0]["attempts"] == 0  # and a 401 counts no try against it
    assert server_handovers(live_server, CREW, narrative) == []

    page.fill("#email", CREW[0])
    page.fill("#password", CREW[1])
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/outbox")
    outbox_ready(page)
    assert wait_sent(page, record_id)["outcome"] == "created"
    wait_outbox_empty(page)
    assert_one_handover_on_server(live_server, narrative, record_id)


def test_the_page_asks_to_sign_in_when_the_worker_finds_the_session_ended(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    """Whichever sender meets the ended session (here the worker, as on a Background Sync event
    when signal returns, while the page's own timed try found the outbox busy), every open page
    must ask to sign in: tabs and the worker keep each other current (docs/offline.md, O5)."""
    crew_id = start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, "/handovers/new")
    narrative = unique("Worker meets ended session handover")

    # Frontline cannot be reached (the phone has a network, so no `online` event comes when it
    # can be again: a page's `online` try would wait for the outbox and meet the ended session
    # itself). The item waits.
    context.route("**/api/v1/**", lambda route: route.abort("internetdisconnected"))
    try:
        record_id = fill_handover(page, narrative)
        submit_and_see_it_saved(page)
        wait_count(page, 1)
        context.clear_cookies()

        # Another sender holds the outbox when Frontline can be reached again, so the page's own
        # timed try is "busy".
        page.evaluate(
            """() => {
                 window.__drained = [];
                 new BroadcastChannel('frontline-outbox').onmessage = e => window.__drained.push(e.data);
                 navigator.locks.request('frontline-outbox', () => new Promise(release => {
                   window.__releaseOutbox = release;
                 }));
               }"""
        )
        wait_until(page, "typeof window.__releaseOutbox === 'function'")
    finally:
        context.unroute_all(behavior="wait")
    page.evaluate("() => { FrontlineOutboxClient.drainNow(false); }")  # as the page's timer does
    # (The page's answer has no "stillWaiting"; the worker's has.)
    wait_until(
        page,
        "window.__drained.some(d => d.type === 'drained' && d.result"
        " && d.result.status === 'busy' && !('stillWaiting' in d.result))",
    )
    # The worker sends next, and finds the session ended.
    page.evaluate("navigator.serviceWorker.controller.postMessage({type: 'DRAIN', force: true})")
    page.evaluate("window.__releaseOutbox()")
    wait_until(
        page,
        "window.__drained.some(d => d.type === 'drained' && d.result"
        " && d.result.status === 'signed-out' && 'stillWaiting' in d.result)",
    )
    wait_until(
        page,
        "document.querySelector('[data-sync-status]').textContent.includes('Sign in to send 1 item')",
        timeout=5,
    )
    assert [i["id"] for i in phone_items(page, crew_id)] == [record_id]

    page.click("[data-sync-status] a")
    page.wait_for_url(lambda url: is_sign_in_for_outbox(url, live_server))
    page.fill("#email", CREW[0])
    page.fill("#password", CREW[1])
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/outbox")
    outbox_ready(page)
    assert wait_sent(page, record_id)["outcome"] == "created"
    assert_one_handover_on_server(live_server, narrative, record_id)


def test_a_rejected_item_needs_attention_and_once_fixed_is_sent_once(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, "/outbox")
    narrative = unique("Rejected then fixed handover")

    # Queued offline with a partner the server does not know. The form cannot produce this (its
    # list only has known partners), so it goes in through the page's own outbox store, as a
    # form opened from an old copy would after the partner list changed.
    context.set_offline(True)
    page.goto(f"{live_server.url}/outbox")
    outbox_ready(page)
    bad_id = page.evaluate(
        """(narrative) => FrontlineOutboxClient.ready
            .then(c => c.store.enqueue({
              id: FrontlineOutbox.newRecordId(), kind: 'handover', userId: c.userId,
              data: {occurred_at: new Date(Date.now() - 2 * 3600e3).toISOString(), partner_id: '999999',
                     categories: ['handover_delay'], narrative: narrative,
                     created_at: new Date().toISOString()}}))
            .then(r => FrontlineOutboxClient.changed().then(() => r.item.id))""",
        narrative,
    )
    cards = outbox_cards(page, 1)
    assert [(c["id"], c["state"]) for c in cards] == [(bad_id, "waiting")]

    context.set_offline(False)
    wait_until(
        page,
        "document.querySelector('.app-outbox-item[data-state=attention]') !== null",
        timeout=SEND_TIMEOUT,
    )
    cards = outbox_cards(page, 1)
    assert [(c["id"], c["state"], c["tag"]) for c in cards] == [
        (bad_id, "attention", "Needs your attention")
    ]
    errors = page.text_content(".app-outbox-item__errors")
    assert "partner organisation" in errors.lower()
    assert "1 needs your attention" in sync_status(page)
    assert count(page) == "1"
    assert server_handovers(live_server, CREW, narrative) == []

    page.click(".app-outbox-item [data-action=fix]")
    page.wait_for_url(lambda url: url == f"{live_server.url}/handovers/new?fix={bad_id}")
    outbox_ready(page)
    wait_until(page, "document.querySelector('.nhsuk-error-summary') !== null")
    assert "partner organisation" in page.text_content(".nhsuk-error-summary").lower()
    assert page.input_value("#narrative") == narrative
    page.select_option("#partner_id", index=1)
    fixed_id = page.input_value("input[name=id]")
    assert fixed_id != bad_id
    submit_and_see_it_saved(page, still_waiting=False)
    assert wait_sent(page, fixed_id)["outcome"] == "created"
    wait_until(page, "!document.querySelector('[data-saved-sent]').hidden")
    assert phone_items(page) == []
    # The fix is sent as a new record; the refused one is stored nowhere.
    assert_one_handover_on_server(live_server, narrative, fixed_id)


def test_a_new_worker_version_waits_and_keeps_the_queued_item(
    context: Any, page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, "/handovers/new")
    old_version = page.evaluate("FrontlineVersion.VERSION")
    old_shell = page.evaluate("FrontlineVersion.SHELL_CACHE")
    narrative = unique("Queued across an update handover")

    context.set_offline(True)
    record_id = fill_handover(page, narrative)
    submit_and_see_it_saved(page)
    wait_count(page, 1)

    # Signal comes back, but the app's API cannot be reached (only the pages and the worker's
    # files can): the item keeps waiting while the page looks for the new version.
    context.route("**/api/v1/me", lambda route: route.abort())
    try:
        with new_worker_version_deployed(live_server, tmp_path) as new_version:
            context.set_offline(False)
            page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
            wait_until(
                page,
                "!document.querySelector('[data-update-banner]').hidden",
                timeout=SEND_TIMEOUT,
            )
            assert page.is_visible("[data-update-reload]")
            # The new worker waits for the user (no automatic skipWaiting while items are queued).
            assert page.evaluate("navigator.serviceWorker.getRegistration().then(r => !!r.waiting)")
            assert [i["id"] for i in phone_items(page)] == [record_id]
            assert count(page) == "1"

            # Reload into the new version, with no signal again. (Where the reload is answered
            # from is not checked: Playwright's offline emulation may not yet cover a worker that
            # has only just started.)
            context.set_offline(True)
            with page.expect_navigation():
                page.click("[data-update-reload]")
            outbox_ready(page)
            assert page.evaluate("FrontlineVersion.VERSION") == new_version != old_version
            assert page.is_hidden("[data-update-banner]")
            assert [i["id"] for i in phone_items(page)] == [record_id]
            wait_count(page, 1)
            # The update replaced the old shell but kept the page copies (O6, O7).
            caches = page.evaluate("caches.keys()")
            assert page.evaluate("FrontlineVersion.SHELL_CACHE") in caches
            assert old_shell not in caches
            assert page.evaluate(
                f"""caches.open({js(PAGES_CACHE)})
                    .then(cache => cache.match(location.origin + '/handovers/new'))
                    .then(Boolean)"""
            )
            assert server_handovers(live_server, CREW, narrative) == []

            context.unroute_all(behavior="wait")
            context.set_offline(False)  # back online: sent at once
            assert wait_sent(page, record_id)["outcome"] == "created"
            assert_one_handover_on_server(live_server, narrative, record_id)
    finally:
        context.unroute_all(behavior="wait")


def test_a_phone_with_the_plain_url_shell_updates_to_hashed_urls_and_works_offline_throughout(
    context: Any, page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    """The first release with content-hashed static URLs reaches a phone whose worker (that
    release's own code) and page copies name the plain URLs. Before the user takes the update, the
    old worker shows the new pages offline (it ignores their hashed files, which the browser takes
    from its HTTP cache, where the page and the new worker's precache put them); after it, the new
    worker also answers an old copy's plain URLs."""
    with new_worker_version_deployed(
        live_server, tmp_path / "old", label="0001.", plain_urls=True
    ) as old_version:
        start_signed_in(page, live_server, CREW)
        keep_for_offline(page, live_server, "/handovers/new")
        assert page.evaluate("FrontlineVersion.VERSION") == old_version
        assert page.locator("script[src='/static/js/form.bundle.js']").count() == 1
        registration = "navigator.serviceWorker.getRegistration().then(r => r.updateViaCache)"
        assert page.evaluate(registration) == "none"  # that release's worker-updates.js
    # The live server is this release again: the page and its worker find it, with signal.
    open_page(page, live_server, "/handovers/new")
    assert page.locator("script[src^='/static/js/form.bundle.'][src$='.js']").count() == 1
    wait_until(page, "!document.querySelector('[data-update-banner]').hidden", timeout=SEND_TIMEOUT)
    assert page.evaluate("FrontlineVersion.VERSION") != old_version

    # No signal, the update not taken yet: the old worker shows the stored copy of the new page,
    # and the form still keeps what is submitted on the phone.
    context.set_offline(True)
    page.reload()
    outbox_ready(page)
    assert page.evaluate("document.documentElement.hasAttribute('data-offline-copy')")
    narrative = unique("Queued across the hashed URLs update handover")
    record_id = fill_handover(page, narrative)
    submit_and_see_it_saved(page)
    wait_count(page, 1)

    # The update, with no signal: the new worker answers the hashed URLs from its shell, and a
    # plain URL (what an old page copy names) with the same file.
    with page.expect_navigation():
        page.click("[data-update-reload]")
    outbox_ready(page)
    assert page.evaluate("FrontlineVersion.VERSION") != old_version
    assert page.evaluate(registration) == "imports"
    assert [i["id"] for i in phone_items(page)] == [record_id]
    assert page.evaluate(
        "fetch('/static/js/record-forms.js').then(r => r.ok && r.text()).then(t => t.length > 100)"
    )
    context.set_offline(False)
    assert wait_sent(page, record_id)["outcome"] == "created"
    assert_one_handover_on_server(live_server, narrative, record_id)


def test_a_page_copy_from_a_release_before_bundles_still_works_offline_after_the_update(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    """Pages load their scripts as bundles (service_worker/caches.js BUNDLES). A page copy that an
    older release stored names each script on its own, at that release's hashes (which this
    server no longer knows: a 404) or at the plain URL; a phone that took the update with no
    signal still shows that copy. The worker answers each such script with its part of this
    version's bundle, so the copy still keeps a submission on the phone, and it is sent once."""
    start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, "/handovers/new")
    parts = json.loads(
        subprocess.run(
            ["node", "-p", "JSON.stringify(require('./service_worker/caches.js').BUNDLES)"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    # The copy as that release stored it: each bundle's script tag becomes one tag per part.
    page.evaluate(
        f"""(async () => {{
          const bundles = {js(parts)};
          const plain = (u) => u.replace(/\\.[0-9a-f]{{10}}(\\.[A-Za-z0-9]+)$/, '$1');
          const cache = await caches.open({js(PAGES_CACHE)});
          const key = location.origin + '/handovers/new';
          const stored = await cache.match(key);
          let html = await stored.text();
          let n = 0;
          html = html.replace(/<script src="([^"]+)" defer><\\/script>/g, (tag, src) => {{
            const named = bundles[plain(src)];
            if (!named) return tag;
            return named.map((part) => {{
              n += 1;  // every other one at an older hash, the rest at the plain URL
              const url = n % 2 ? part.replace(/(\\.js)$/, '.fedcba9876$1') : part;
              return `<script src="${{url}}" defer></script>`;
            }}).join('');
          }});
          if (n < 12) throw new Error('bundles not found in the copy: ' + n);
          await cache.put(key, new Response(html, {{ headers: stored.headers }}));
        }})()"""
    )

    context.set_offline(True)
    page.reload()
    outbox_ready(page)
    assert page.evaluate("document.documentElement.hasAttribute('data-offline-copy')")
    assert page.locator("script[src*='.bundle.']").count() == 0
    assert (
        page.locator(
            "script[src$='/static/js/record-forms.fedcba9876.js'], script[src='/static/js/record-forms.js']"
        ).count()
        == 1
    )
    narrative = unique("Queued from an older copy handover")
    record_id = fill_handover(page, narrative)
    submit_and_see_it_saved(page)
    wait_count(page, 1)
    assert [i["id"] for i in phone_items(page)] == [record_id]

    context.set_offline(False)
    assert wait_sent(page, record_id)["outcome"] == "created"
    assert_one_handover_on_server(live_server, narrative, record_id)


def test_the_app_shell_opens_with_no_network(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, *APP_PAGES)

    context.set_offline(True)
    for path, heading in APP_PAGES.items():
        response = page.goto(f"{live_server.url}{path}")  # raises on the browser's error page
        assert response is not None and response.ok, path
        assert page.url == f"{live_server.url}{path}"
        assert page.text_content("h1").strip() == heading, path
        assert page.get_attribute("html", "data-offline-copy") is not None, path
        outbox_ready(page)
    wait_until(
        page,
        "document.querySelector('[data-mine-updated]').textContent.includes('You are offline')",
    )

    for path in ("/triage", "/handovers"):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.ok, path
        assert page.text_content("h1").strip() == "You are offline", path

    # A form opened with no network still takes a submission.
    title = unique("Offline idea")
    open_page(page, live_server, "/ideas/new")
    page.fill("#title", title)
    page.fill("#problem", "The stretcher straps are hard to find in the dark.")
    page.fill("#proposal", "Put reflective tags on the straps.")
    page.check("#aims")
    if not page.input_value("#team_id"):
        page.select_option("#team_id", index=1)
    record_id = page.input_value("input[name=id]")
    submit_and_see_it_saved(page)
    wait_count(page, 1)

    context.set_offline(False)
    assert wait_sent(page, record_id)["outcome"] == "created"
    found = [i for i in server_submissions(live_server, CREW)["ideas"] if i["title"] == title]
    assert [i["id"] for i in found] == [record_id]


def test_another_user_on_the_same_phone_neither_sees_nor_sends_the_kept_item(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    crew_id = start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, "/handovers/new")
    narrative = unique("Kept across sign-out handover")

    context.set_offline(True)
    record_id = fill_handover(page, narrative)
    submit_and_see_it_saved(page)
    wait_count(page, 1)

    # Crew signs out (which needs signal) before the item could be sent, keeping it.
    context.route("**/api/v1/me", lambda route: route.abort())
    try:
        context.set_offline(False)
        open_page(page, live_server, "/")
        wait_count(page, 1)
        page.click(".nhsuk-header__account button")
        page.wait_for_url(f"{live_server.url}/logout")
        outbox_ready(page)
        wait_until(page, "!document.querySelector('[data-keep-items]').hidden")
        assert page.is_checked("#keep_items")
        page.click("[data-sign-out-form] button[type=submit]")
        page.wait_for_url("**/login*")
        outbox_ready(page)
        left = phone_items(page, crew_id)
        assert [i["id"] for i in left] == [record_id]
    finally:
        context.unroute_all(behavior="wait")
    # From here on nothing is blocked: had the app sent the item as someone else, it would land.

    staff_id = start_signed_in(page, live_server, STAFF)
    assert staff_id != crew_id
    open_page(page, live_server, "/outbox")
    wait_outbox_empty(page)
    assert page.is_visible("[data-outbox-empty]")
    assert page.is_hidden("main [data-send-now]")
    assert count(page) == "0"

    # Ask both the page and the worker to send everything they can, and wait for the worker.
    page.evaluate(
        """() => {
             window.__drained = [];
             new BroadcastChannel('frontline-outbox').onmessage = e => window.__drained.push(e.data);
           }"""
    )
    page.evaluate("FrontlineOutboxClient.drainNow(true)")
    page.evaluate("navigator.serviceWorker.controller.postMessage({type: 'DRAIN', force: true})")
    wait_until(
        page,
        "window.__drained.some(d => d.type === 'drained' && d.result && 'stillWaiting' in d.result)",
    )
    assert phone_items(page, crew_id) == left  # untouched: not sent, not even tried
    assert count(page) == "0"
    assert server_handovers(live_server, STAFF, narrative) == []
    assert server_handovers(live_server, CREW, narrative) == []

    page.click(".nhsuk-header__account button")
    page.wait_for_url("**/login*")
    start_signed_in(page, live_server, CREW)
    assert wait_sent(page, record_id)["outcome"] == "created"
    assert phone_items(page, crew_id) == []
    assert_one_handover_on_server(live_server, narrative, record_id)
    assert server_handovers(live_server, STAFF, narrative) == []


def test_a_long_outbox_is_sent_in_batches_each_item_once_and_the_list_keeps_unchanged_cards(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    """Issue 16: 250 items queued with no signal go in batches of 100 once signal returns, the
    status line follows each batch, every item is stored once, /outbox redraws by keeping
    the cards of items that did not change, and a card far down the list takes focus.

    Sixth pass: /outbox draws the oldest 50 cards and every item that needs attention, counts
    the rest under the list, and draws them all when asked."""
    start_signed_in(page, live_server, CREW)
    keep_for_offline(page, live_server, "/outbox")
    open_page(page, live_server, "/outbox")
    partner = page.evaluate(
        "fetch('/api/v1/reference').then(r => r.json()).then(r => r.partners[0].id)"
    )
    narrative = unique("Long outbox handover")
    data = {
        "occurred_at": "2026-11-24T09:00:00+00:00",
        "partner_id": partner,
        "categories": ["handover_delay"],
        "narrative": narrative,
    }
    ids = [str(uuid.uuid4()) for _ in range(250)]
    far = ids[200]  # far down the queue, and needs attention

    context.set_offline(True)
    page.evaluate(
        f"""FrontlineOutboxClient.ready.then(async (c) => {{
              for (const id of {js(ids)}) {{
                await c.store.enqueue({{id, kind: 'handover', userId: c.userId, data: {js(data)}}});
              }}
              await c.store.markAttention({js(far)}, 'rejected',
                [{{field: 'narrative', message: 'Describe what happened'}}],
                'Frontline could not accept this.');
              await FrontlineOutboxClient.changed();
            }})"""
    )
    # Queue order (items queued in the same millisecond go by id), without the one far down.
    queue = [
        i
        for i in page.evaluate(
            "FrontlineOutboxClient.ready.then(c => c.store.listItems(c.userId))"
            ".then(items => items.map(i => i.id))"
        )
        if i != far
    ]
    assert sorted(queue) == sorted(set(ids) - {far})
    # The oldest 50 (sent first) and the one that needs attention; the other 199 counted.
    cards = outbox_cards(page, 51)
    assert [c["id"] for c in cards] == [*queue[:50], far]
    assert cards[-1]["state"] == "attention"
    more = " ".join(page.text_content("[data-outbox-more]").split())
    assert more.startswith("199 more items waiting to be sent are not shown."), more
    assert page.is_visible("[data-outbox-more] [data-action=show-all]")
    wait_count(page, 250)

    # Discarding one item redraws the list: the other cards are the very same elements, and the
    # next item in the queue gets a card.
    page.evaluate(
        "document.querySelectorAll('.app-outbox-item').forEach(c => c.dataset.seen = 'y')"
    )
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"#item-{queue[0]} [data-action=discard]")
    wait_until(page, f"document.getElementById('item-{queue[0]}') === null")
    cards = outbox_cards(page, 51)
    assert [c["id"] for c in cards] == [*queue[1:51], far]
    assert page.evaluate(
        f"""Array.from(document.querySelectorAll('.app-outbox-item'))
              .filter(c => c.id !== 'item-{queue[50]}').every(c => c.dataset.seen === 'y')"""
    ), "a card was rebuilt though its item did not change"
    assert "198 more items" in page.text_content("[data-outbox-more]")

    # The item that needs attention, far down the queue, is discarded from its own card.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"#item-{far} [data-action=discard]")
    cards = outbox_cards(page, 50)
    assert [c["id"] for c in cards] == queue[1:51]
    assert "198 more items" in page.text_content("[data-outbox-more]")
    wait_count(page, 248)

    # "Show all 248 items" draws every card and moves focus to the first one it drew.
    page.click("[data-outbox-more] [data-action=show-all]")
    cards = outbox_cards(page, 248)
    assert [c["id"] for c in cards] == queue[1:]
    assert page.query_selector("[data-outbox-more]") is None
    assert page.evaluate("document.activeElement.id") == f"item-{queue[51]}"

    # Cards far from the screen are not rendered until they come near it (content-visibility):
    # a button in the last card still takes focus, and is then on screen to be pressed.
    last = page.locator(f"#item-{queue[-1]} [data-action=resend]")
    last.focus()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Resend now"
    box = last.bounding_box()
    viewport = page.viewport_size
    assert viewport is not None
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
    assert last.is_visible()

    page.evaluate(
        """window.statuses = [];
           window.counts = [];
           const node = document.querySelector('[data-sync-status]');
           new MutationObserver(() => window.statuses.push(node.textContent.trim()))
             .observe(node, {childList: true, characterData: true, subtree: true});
           const count = document.querySelector('[data-outbox-count]');
           new MutationObserver(() => window.counts.push(Number(count.textContent)))
             .observe(count, {childList: true, characterData: true, subtree: true});"""
    )
    context.set_offline(False)
    wait_outbox_empty(page)
    wait_count(page, 0)
    statuses = page.evaluate("window.statuses")
    for expected in ("Sending 100 of 248", "Sending 200 of 248", "Sending 248 of 248"):
        assert expected in statuses, statuses
    # The count goes down as batches are acknowledged, not only at the end.
    counts = page.evaluate("window.counts")
    assert counts == sorted(counts, reverse=True) and counts[-1] == 0, counts
    assert any(0 < n < 248 for n in counts), counts
    wait_until(
        page, "document.querySelector('[data-sync-status]').textContent.includes('All sent')"
    )
    assert phone_items(page) == []
    stored = server_handovers(live_server, CREW, narrative)
    assert sorted(n["id"] for n in stored) == sorted(queue[1:]), "each stored once"

    # A receipt for every item sent, though the phone keeps one record per answer (issue 16,
    # fifth pass): the list shows the latest ten and counts the rest; any item's is found.
    wait_until(page, "document.querySelectorAll('[data-receipt]').length === 10")
    assert "And 238 more" in page.text_content("[data-outbox-receipts]")
    for record_id in (queue[1], queue[125], queue[-1]):
        receipt = page.evaluate(
            f"FrontlineOutboxClient.ready.then(c => c.store.getReceipt({js(record_id)}))"
        )
        assert receipt["id"] == record_id and receipt["outcome"] == "created", receipt
