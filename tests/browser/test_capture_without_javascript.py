"""A crew member on a phone with JavaScript switched off logs a handover note and sees it under /mine."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, LiveServer, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def no_js_page(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_a_handover_note_sent_with_javascript_off_arrives_once(
    no_js_page: Any, live_server: LiveServer
) -> None:
    page = no_js_page
    sign_in(page, live_server, "crew@demo.nhs.uk", "crew-demo-pass")
    page.goto(f"{live_server.url}/handovers/new")
    record_id = page.input_value("input[name=id]")
    page.select_option("#partner_id", index=1)
    page.check("input[name=categories][value=handover_delay]")
    page.check("input[name=harm][value=none]")
    page.fill("#narrative", f"No-JS browser test {record_id}")
    page.click("form[data-record-form] button[type=submit]")
    # The click returns once the answer starts to arrive; wait for the page itself to read it.
    expect(page.locator("h1")).to_contain_text("Handover note sent")

    page.go_back()
    page.click("form[data-record-form] button[type=submit]")  # the same form, sent again
    expect(page.locator("h1")).to_contain_text("Handover note sent")

    page.goto(f"{live_server.url}/mine")
    assert f"No-JS browser test {record_id}" in page.content()
    api = live_server.api("crew@demo.nhs.uk", "crew-demo-pass")
    notes = api.get("/api/v1/me/submissions").json()["handovers"]
    assert [n["id"] for n in notes].count(record_id) == 1


def test_errors_are_summarised_and_linked_to_their_fields(
    no_js_page: Any, live_server: LiveServer
) -> None:
    page = no_js_page
    sign_in(page, live_server, "staff@demo.nhs.uk", "staff-demo-pass")
    page.goto(f"{live_server.url}/ideas/new")
    page.fill("#title", "Hi")
    page.click("form[data-record-form] button[type=submit]")
    summary = page.locator(".nhsuk-error-summary")
    assert summary.is_visible()
    links = summary.locator("a")
    hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
    assert {"#title", "#problem", "#proposal", "#aims"} <= hrefs
    for href in hrefs:
        assert page.locator(href).count() == 1
    assert page.input_value("#title") == "Hi"
