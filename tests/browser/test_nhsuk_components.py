"""The NHS.UK components that need JavaScript still work with only those built
(scripts/build_nhsuk_js.mjs, issue 16 item 2): every component a page renders is initialised, the
header's "More" menu opens on a phone, and the error summary takes focus."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import sign_in
from tests.support.live_server import LiveServer

CREW = ("crew@demo.nhs.uk", "crew-demo-pass")

#: Modules the NHS.UK JavaScript initialises, and the attribute it sets when it has.
UNINITIALISED = """() => Array.from(document.querySelectorAll('[data-module^="nhsuk-"]'))
  .map(el => el.getAttribute('data-module'))
  .filter(name => !document.querySelector(`[data-module="${name}"][data-${name}-init]`))"""


def test_every_component_on_the_crews_pages_is_initialised(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server, *CREW)
    for path in ["/", "/handovers/new", "/ideas/new", "/mine", "/outbox"]:
        page.goto(f"{live_server.url}{path}", wait_until="load")
        page.wait_for_selector("[data-nhsuk-header-init]", state="attached")
        assert page.evaluate(UNINITIALISED) == [], path


def test_the_header_more_menu_opens_on_a_phone(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, *CREW)
    page.goto(f"{live_server.url}/handovers/new")
    assert page.viewport_size == {"width": 390, "height": 844}
    more = page.locator("header button", has_text="More")
    assert more.is_visible()
    assert more.get_attribute("aria-expanded") == "false"
    more.click()
    assert more.get_attribute("aria-expanded") == "true"
    link = page.locator("header a[href='/outbox']").first
    assert link.is_visible()
    link.click()
    page.wait_for_url(f"{live_server.url}/outbox")


def test_the_error_summary_takes_focus_when_a_form_is_sent_empty(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server, *CREW)
    page.goto(f"{live_server.url}/ideas/new")
    page.get_by_role("button", name="Submit idea").click()
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert page.evaluate(
        "() => document.activeElement && document.activeElement.closest('.nhsuk-error-summary') !== null"
    )
