"""The crew's phone end to end (issue #11, SPEC §5 O7, O12): every journey starts on a FRESH phone
(a new browser context) that has opened only the home page after signing in. No signal is tried
two ways: the browser offline (context.set_offline) and the server unreachable (the live server
stopped)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, layout_shift, sign_in, wait_until
from tests.browser.test_offline import (
    CREW,
    SUBMIT,
    assert_one_handover_on_server,
    count,
    js,
    outbox_cards,
    outbox_ready,
    phone_items,
    sync_status,
    unique,
    wait_count,
    wait_sent,
)

pytestmark = pytest.mark.browser

PAGES_CACHE = "frontline-pages-v1"
DATA_CACHE = "frontline-data-v1"
#: What the worker stores right after sign-in (O7), and the heading each page shows.
APP_PAGES = {
    "/": "What do you want to do?",
    "/handovers/new": "Log a handover note",
    "/ideas/new": "Submit an improvement idea",
    "/outbox": "Outbox",
    "/mine": "My submissions",
}
USER_DATA = ["/api/v1/reference", "/api/v1/me/submissions"]
NO_SIGNAL = ["browser offline", "server unreachable"]


@contextlib.contextmanager
def no_signal(how: str, context: Any, server: LiveServer) -> Iterator[None]:
    if how == "browser offline":
        context.set_offline(True)
    else:
        server.stop()
    try:
        yield
    finally:
        if how == "browser offline":
            context.set_offline(False)
        elif server.process is None:
            server.start()


def fresh_phone_on_home_page(page: Any, server: LiveServer) -> str:
    """Signs in on a new phone and stays on the home page; waits until the worker has stored the
    user's copies of every app page and their data. Returns the user id."""
    sign_in(page, server, *CREW)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    outbox_ready(page)
    pages = [*APP_PAGES, "/logout"]
    wait_until(
        page,
        f"""Promise.all([
              caches.open({js(PAGES_CACHE)}).then(c => Promise.all({js(pages)}.map(p => c.match(location.origin + p)))),
              caches.open({js(DATA_CACHE)}).then(c => Promise.all({js(USER_DATA)}.map(p => c.match(location.origin + p)))),
            ]).then(([a, b]) => a.concat(b).every(Boolean))""",
    )
    assert page.url == f"{server.url}/"
    return page.get_attribute("meta[name=frontline-user]", "content")


def fill_concern(page: Any, narrative: str) -> str:
    if not page.input_value("#partner_id"):
        page.select_option("#partner_id", index=1)
    page.check("#categories")
    page.fill("#narrative", narrative)
    return page.input_value("input[name=id]")


def status_text(page: Any) -> str:
    return sync_status(page)


@pytest.mark.parametrize("how", NO_SIGNAL)
def test_a_fresh_phone_opens_every_page_with_no_signal_and_is_never_asked_to_sign_in(
    context: Any, page: Any, live_server: LiveServer, how: str
) -> None:
    fresh_phone_on_home_page(page, live_server)
    narrative = unique("Basement handover")

    with no_signal(how, context, live_server):
        for path, heading in APP_PAGES.items():
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.ok, path
            assert page.text_content("main h1").strip() == heading, path
            outbox_ready(page)
            wait_until(
                page,
                "document.querySelector('[data-sync-status]').textContent.includes('No signal')",
            )
            assert "Sign in" not in status_text(page), path

        # A note saved in the basement, then "See what is waiting on this phone".
        page.goto(f"{live_server.url}/handovers/new")
        outbox_ready(page)
        record_id = fill_concern(page, narrative)
        assert uuid.UUID(record_id)
        page.click(SUBMIT)
        wait_until(page, "!document.querySelector('[data-saved-panel]').hidden")
        assert page.is_visible("text=Saved on this phone")
        assert not page.is_visible("form[data-record-form]"), "one state at a time"
        wait_count(page, 1)
        page.click("text=See what is waiting on this phone")
        page.wait_for_url(f"{live_server.url}/outbox")
        outbox_ready(page)
        assert [c["id"] for c in outbox_cards(page, 1)] == [record_id]
        wait_until(
            page,
            "document.querySelector('[data-sync-status]').textContent"
            ".includes('No signal — 1 item safe on this phone.')",
        )
        assert "Sign in" not in status_text(page)

        # "Send now" with no signal says so.
        page.click("main [data-send-now]")
        wait_until(
            page,
            "document.querySelector('[data-sync-status]').textContent"
            ".includes('Not sent: it will be sent when there is signal.')",
        )
        assert [i["id"] for i in phone_items(page)] == [record_id]

        # A page the phone keeps no copy of (a manager page): the offline page, still no sign-in.
        page.goto(f"{live_server.url}/triage")
        outbox_ready(page)
        assert page.text_content("main h1").strip() == "You are offline"
        wait_until(page, "document.querySelector('[data-outbox-count]').textContent.trim() === '1'")
        wait_until(
            page,
            "document.querySelector('[data-sync-status]').textContent.includes('No signal — 1 item safe')",
        )
        assert "Sign in" not in status_text(page)
        assert "not saved on this phone" not in page.text_content("main")

    page.goto(f"{live_server.url}/outbox")
    outbox_ready(page)
    # "duplicate" when a try that reached the server as signal came back lost its answer (O3):
    # either way it is on the server exactly once.
    assert wait_sent(page, record_id)["outcome"] in {"created", "duplicate"}
    assert_one_handover_on_server(live_server, narrative, record_id)


def test_after_submitting_saved_then_sent_with_the_reference_found_in_outbox_and_mine(
    page: Any, live_server: LiveServer
) -> None:
    fresh_phone_on_home_page(page, live_server)
    page.click("a[href='/handovers/new'] >> nth=-1")
    page.wait_for_url(f"{live_server.url}/handovers/new")
    outbox_ready(page)
    narrative = unique("Reference handover")
    page.select_option("#partner_id", index=2)
    partner = page.input_value("#partner_id")
    page.fill("#vehicle", "PTS 42")
    record_id = fill_concern(page, narrative)
    page.click(SUBMIT)
    wait_until(page, "!document.querySelector('[data-saved-panel]').hidden")
    # Once acknowledged, the panel says "Sent" with the reference — one state, not both.
    wait_until(page, "!document.querySelector('[data-saved-sent]').hidden")
    assert not page.is_visible("[data-saved-waiting]")
    reference = page.text_content("[data-saved-reference]").strip()
    assert reference == record_id[:8].upper()
    assert page.is_visible("text=Sent")

    # The same reference the no-JavaScript confirmation shows.
    confirmation = page.context.request.get(f"{live_server.url}/submitted/handover/{record_id}")
    assert reference in confirmation.text()

    # "Log another": the form again, a fresh id, the partner and call sign remembered.
    page.click("[data-log-another]")
    assert page.is_visible("form[data-record-form]")
    assert page.is_hidden("[data-saved-panel]")
    assert page.input_value("input[name=id]") != record_id
    assert page.input_value("#partner_id") == partner
    assert page.input_value("#vehicle") == "PTS 42"
    assert page.input_value("#narrative") == ""

    # Remembered after a reload too (per user, on this phone).
    page.reload()
    outbox_ready(page)
    assert page.input_value("#partner_id") == partner
    assert page.input_value("#vehicle") == "PTS 42"

    page.goto(f"{live_server.url}/outbox")
    outbox_ready(page)
    wait_until(page, f"document.querySelector('[data-receipt={js(record_id)}]') !== null")
    assert reference in page.text_content(f"[data-receipt='{record_id}']")

    page.goto(f"{live_server.url}/mine")
    assert reference in page.text_content(f"#handover-{record_id}")


def test_a_good_practice_note_shows_what_went_well_and_thanks(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    fresh_phone_on_home_page(page, live_server)
    page.goto(f"{live_server.url}/handovers/new")
    outbox_ready(page)
    # A concern by default: what went wrong shows, what went well does not.
    assert page.is_visible("text=What went wrong?")
    assert not page.is_visible("text=What went well?")
    assert not page.is_visible("[data-harm-reminder]")
    page.check("#harm-3")  # Moderate harm: the LFPSE reminder appears
    assert page.is_visible("[data-harm-reminder]")
    page.check("#harm")  # No harm: it goes
    assert not page.is_visible("[data-harm-reminder]")

    page.check("#note_type-2")  # Something went well
    assert page.is_visible("text=What went well?")
    assert not page.is_visible("text=What went wrong?")
    assert not page.is_visible("text=Was the patient harmed? (optional)")
    page.select_option("#partner_id", index=1)
    narrative = unique("Good practice handover")
    page.fill("#narrative", narrative)
    page.click(SUBMIT)
    # Nothing that went well chosen: the offline check names the field.
    wait_until(page, "document.querySelector('.nhsuk-error-summary') !== null")
    assert "Select at least one thing that went well" in page.text_content(".nhsuk-error-summary")
    page.check("#good_practice")
    record_id = page.input_value("input[name=id]")
    partner = page.evaluate("document.querySelector('#partner_id').selectedOptions[0].text")
    # The NHS button ignores a second press within a second (its double-click guard), as a
    # person's quick second tap would be.
    page.wait_for_timeout(1100)
    context.set_offline(True)
    page.click(SUBMIT)
    wait_until(page, "!document.querySelector('[data-saved-panel]').hidden")
    assert page.is_visible("[data-saved-thanks]")
    assert not page.is_visible("[data-saved-formal-report]")
    # Waiting on the phone, it is named as /mine will name it once sent.
    page.goto(f"{live_server.url}/outbox")
    outbox_ready(page)
    # The heading names the partner once the page has read their names (after its first draw).
    wait_until(
        page,
        f"Array.from(document.querySelectorAll('.app-outbox-item h2'))"
        f".some(h => h.textContent.includes({js(partner)}))",
    )
    [card] = outbox_cards(page, 1)
    assert card["id"] == record_id
    assert f"Good practice: {partner}" in card["text"]
    context.set_offline(False)
    wait_count(page, 0)
    note = assert_one_handover_on_server(live_server, narrative, record_id)
    assert note["note_type"] == "good_practice"
    assert note["good_practice"] == ["patient_ready"]
    assert note["categories"] == [] and note["harm"] is None


@pytest.mark.parametrize("how", NO_SIGNAL)
def test_signing_in_with_no_signal_says_so_and_keeps_what_was_typed(
    context: Any, page: Any, live_server: LiveServer, how: str
) -> None:
    """Signed out with signal, the phone shows the server's sign-in page; then the signal goes.
    Pressing "Sign in" must not leave the app for the browser's "No internet" page."""
    fresh_phone_on_home_page(page, live_server)
    with page.expect_navigation():
        page.click("header form[action='/logout'] button")
    page.wait_for_url(f"{live_server.url}/login")
    assert not page.evaluate("document.documentElement.hasAttribute('data-offline-copy')")
    email, password = CREW
    with no_signal(how, context, live_server):
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("form[action='/login'] button[type=submit]")
        wait_until(page, "document.querySelector('.nhsuk-error-summary') !== null")
        assert "No signal" in page.text_content(".nhsuk-error-summary")
        assert page.url == f"{live_server.url}/login"
        assert (page.input_value("#email"), page.input_value("#password")) == CREW
    # With signal again, the same press signs in (after the NHS button's one-second guard).
    page.wait_for_timeout(1100)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    outbox_ready(page)


def test_signing_in_after_a_sign_out_with_no_signal_ends_that_session_first(
    page: Any, live_server: LiveServer
) -> None:
    """O12: Casey signs out in a basement; the server still holds her session. The signal comes
    back without the browser saying so (no `online` event), and Sam signs in on the same page: the
    server sends a signed-in session away from /login, so her session is ended first and Sam's
    sign-in goes through (not refused for a token that belongs to no one)."""
    fresh_phone_on_home_page(page, live_server)
    live_server.stop()
    try:
        page.click("header form[action='/logout'] button")  # nothing queued: signed out at once
        page.wait_for_url(f"{live_server.url}/login")
        outbox_ready(page)
        assert page.evaluate("document.documentElement.hasAttribute('data-offline-copy')")
        pending = "FrontlineOutboxClient.ready.then(c => c.store.getMeta('pending-sign-out'))"
        assert page.evaluate(f"{pending}.then(Boolean)")
    finally:
        live_server.start()
    page.fill("#email", "staff@demo.nhs.uk")
    page.fill("#password", "staff-demo-pass")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    outbox_ready(page)
    assert page.text_content("header").count("Sam Staff") >= 1
    assert not page.evaluate(f"{pending}.then(Boolean)")


def test_losing_the_signal_with_nothing_queued_is_shown_at_once(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    """O7: a signed-in user offline is told so, also when nothing waits to be sent (no try is
    made then that could find out); and no longer once the signal is back."""
    fresh_phone_on_home_page(page, live_server)
    assert "No signal" not in sync_status(page)
    status_says = "document.querySelector('[data-sync-status]').textContent.includes('No signal')"
    context.set_offline(True)
    wait_until(page, status_says)
    assert sync_status(page) == "No signal."
    assert page.text_content("[data-outbox-count]").strip() == "0"
    context.set_offline(False)
    wait_until(page, f"!({status_says})")


def test_an_answer_from_the_server_ends_no_signal_even_if_the_browser_never_said_online(
    context: Any, page: Any, live_server: LiveServer
) -> None:
    """The browser said `offline` and never `online` (a tab frozen meanwhile): the first answer
    from the server (here: the session has expired) is what the bar goes by, so the crew member
    is asked to sign in rather than told, wrongly, that there is no signal."""
    fresh_phone_on_home_page(page, live_server)
    page.goto(f"{live_server.url}/handovers/new")
    outbox_ready(page)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    wait_until(
        page, "document.querySelector('[data-sync-status]').textContent.includes('No signal')"
    )
    context.clear_cookies()  # the session is gone: the server will answer 401
    fill_concern(page, unique("Sent after the session expired"))
    page.click(SUBMIT)
    wait_until(page, "!document.querySelector('[data-saved-panel]').hidden")
    wait_until(page, "document.querySelector('[data-sync-status]').textContent.includes('Sign in')")
    assert "No signal" not in sync_status(page)
    assert "Sign in to send 1 item" in sync_status(page)


@pytest.mark.parametrize("how", NO_SIGNAL)
def test_signing_out_with_no_signal_forgets_the_user_at_once_and_ends_the_session_later(
    context: Any, page: Any, live_server: LiveServer, how: str
) -> None:
    user_id = fresh_phone_on_home_page(page, live_server)
    page.goto(f"{live_server.url}/handovers/new")
    outbox_ready(page)
    page.fill("#vehicle", "PTS 7")
    narrative = unique("Kept at sign-out")

    with no_signal(how, context, live_server):
        record_id = fill_concern(page, narrative)
        page.click(SUBMIT)
        wait_until(page, "!document.querySelector('[data-saved-panel]').hidden")
        wait_count(page, 1)
        assert page.evaluate(
            f"localStorage.getItem('frontline.remember.' + {js(user_id)}) !== null"
        )

        # The header's "Sign out": with an item waiting it opens /logout (kept on the phone) to
        # offer the choice; the item is kept.
        page.click("header form[action='/logout'] button")
        page.wait_for_url(f"{live_server.url}/logout")
        outbox_ready(page)
        wait_until(page, "!document.querySelector('[data-keep-items]').hidden")
        assert page.is_checked("#keep_items")
        page.click("main form[data-sign-out-form] button[type=submit]")

        # At once: the sign-in page, the copies gone, the item kept for this user only.
        page.wait_for_url(f"{live_server.url}/login")
        assert page.text_content("main h1").strip() == "Sign in to Frontline"
        assert page.evaluate("document.querySelector('meta[name=frontline-user]') === null")
        outbox_ready(page)
        # The bar counts what is on the phone (not "0 waiting"), and says whose it is to send.
        wait_count(page, 1)
        assert "Kept at sign-out: sent when the person who kept it signs in again." in (
            sync_status(page)
        )
        assert (
            page.evaluate(f"caches.open({js(PAGES_CACHE)}).then(c => c.keys()).then(k => k.length)")
            == 0
        )
        assert (
            page.evaluate(f"caches.open({js(DATA_CACHE)}).then(c => c.keys()).then(k => k.length)")
            == 0
        )
        assert [i["id"] for i in phone_items(page, user_id)] == [record_id]
        assert page.evaluate(f"localStorage.getItem('frontline.remember.' + {js(user_id)})") is None
        assert page.evaluate(
            "FrontlineOutboxClient.ready.then(c => c.store.getMeta('pending-sign-out')).then(Boolean)"
        )
        # Even a page of the app: the signed-out user's pages are not shown.
        page.goto(f"{live_server.url}/mine")
        assert page.text_content("main h1").strip() in {"Sign in to Frontline", "You are offline"}
        assert page.evaluate("document.querySelector('meta[name=frontline-user]') === null")

    # Signal again: the server session is ended before anything else is sent.
    page.goto(f"{live_server.url}/")
    page.wait_for_url(f"{live_server.url}/login**")
    assert page.text_content("main h1").strip() == "Sign in to Frontline"
    outbox_ready(page)
    wait_until(
        page,
        "FrontlineOutboxClient.ready.then(c => c.store.getMeta('pending-sign-out')).then(p => !p)",
    )
    assert page.context.request.get(f"{live_server.url}/api/v1/me").status == 401
    # Nobody is signed in: the kept item was not sent for anyone.
    assert [i["id"] for i in phone_items(page, user_id)] == [record_id]
    assert count(page) == "1" and "Kept at sign-out" in sync_status(page)

    # The same crew member signs in again: the kept item goes.
    sign_in(page, live_server, *CREW)
    outbox_ready(page)
    assert wait_sent(page, record_id)["outcome"] == "created"
    assert_one_handover_on_server(live_server, narrative, record_id)


@pytest.mark.parametrize("how", NO_SIGNAL)
def test_my_submissions_menus_a_record_in_full_a_reply_and_the_copy_with_no_signal(
    context: Any, page: Any, live_server: LiveServer, how: str
) -> None:
    crew = live_server.api(*CREW)
    manager = live_server.api("manager@demo.nhs.uk", "manager-demo-pass")
    try:
        partner = crew.get("/api/v1/reference").json()["partners"][0]["id"]
        narrative = unique("Mine page handover")
        note_id = str(uuid.uuid4())
        body = {
            "id": note_id,
            "occurred_at": "2026-11-20T09:15:00+00:00",
            "partner_id": partner,
            "categories": ["missing_paperwork"],
            "narrative": narrative,
        }
        token = crew.get("/api/v1/me").json()["csrf_token"]
        assert (
            crew.post("/api/v1/handovers", json=body, headers={"X-CSRF-Token": token}).status_code
            == 201
        )
        m_token = manager.get("/api/v1/me").json()["csrf_token"]
        commented = manager.post(
            f"/api/v1/handovers/{note_id}/comments",
            json={"body": "Which ward was it?"},
            headers={"X-CSRF-Token": m_token},
        )
        assert commented.status_code in (200, 201)
    finally:
        crew.close()
        manager.close()

    fresh_phone_on_home_page(page, live_server)
    page.click("main a[href='/mine']")
    page.wait_for_url(f"{live_server.url}/mine")
    assert layout_shift(page, settle_ms=1500) < 0.1, "layout shift on /mine"
    # The update names its record.
    assert f"({note_id[:8].upper()})" in page.text_content(".app-updates")

    page.select_option("#kind", "handover")
    page.select_option("#status", "new")
    page.click(".app-mine-filters button[type=submit]")
    page.wait_for_url("**/mine?kind=handover&status=new")
    kinds = page.evaluate(
        "Array.from(document.querySelectorAll('.app-record')).map(r => r.id.split('-')[0])"
    )
    assert kinds and set(kinds) == {"handover"}

    page.click(f"#handover-{note_id} h2 a")
    page.wait_for_url(f"{live_server.url}/mine/handovers/{note_id}")
    assert narrative in page.text_content("main")
    assert "Comment: Which ward was it?" in page.text_content("#history ~ ul")
    page.fill("#body", "Ward 7, bay 2.")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/mine/handovers/{note_id}#history")
    assert "Your reply: Ward 7, bay 2." in page.text_content("main")

    # Back to /mine with signal (its copy is refreshed), then with none: the copy opens and says so.
    page.goto(f"{live_server.url}/mine")
    outbox_ready(page)
    wait_until(
        page,
        f"""caches.open({js(PAGES_CACHE)}).then(c => c.match(location.origin + '/mine'))
            .then(r => r ? r.text() : '').then(t => t.includes({js(note_id[:8].upper())}))""",
    )
    with no_signal(how, context, live_server):
        page.goto(f"{live_server.url}/mine")
        outbox_ready(page)
        assert page.evaluate("document.documentElement.hasAttribute('data-offline-copy')")
        assert note_id[:8].upper() in page.text_content(f"#handover-{note_id}")
        wait_until(
            page,
            "document.querySelector('[data-mine-updated]').textContent.includes('You are offline')",
        )
        assert "Sign in" not in status_text(page)
