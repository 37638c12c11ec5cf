"""Partnership working in a real browser (issue #14's "done when"): a partner organisation's user
signs in on a phone, reads the notes raised with their organisation, answers one; the crew member
who wrote it, in a browser of their own, sees the answer under My submissions; a good-practice note
reaches the partner as thanks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.browser.conftest import PHONE, LiveServer, sign_in
from tests.browser.test_offline import unique

pytestmark = pytest.mark.browser

CREW = ("crew@demo.nhs.uk", "crew-demo-pass")
MANAGER = ("manager@demo.nhs.uk", "manager-demo-pass")
PARTNER = ("partner@demo.nhs.uk", "partner-demo-pass")
DESKTOP = {"width": 1366, "height": 900}


def send(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    page = client.get("/mine").text
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    answer = client.request(method, path, headers={"x-csrf-token": token}, **kwargs)
    assert answer.status_code < 300, (path, answer.status_code, answer.text)
    return answer.json()


def note(partner_id: int, **change: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": str(uuid.uuid4()),
        "occurred_at": (now - timedelta(hours=3)).isoformat(),
        "partner_id": partner_id,
        "location_detail": "ED ambulance bay",
        "journey_type": "admission",
        "categories": ["handover_delay"],
        "delay_minutes": 50,
        "harm": "none",
        "narrative": unique("Waited in the corridor for a handover nurse"),
        "vehicle": "PTS44",
        **change,
    }


@pytest.fixture
def shared_notes(live_server: LiveServer) -> Iterator[dict[str, str]]:
    """A concern raised with Riverside General Hospital and a good-practice note about it."""
    crew = live_server.api(*CREW)
    manager = live_server.api(*MANAGER)
    try:
        partners = crew.get("/api/v1/reference").json()["partners"]
        riverside = next(p["id"] for p in partners if p["name"] == "Riverside General Hospital")
        concern = note(riverside)
        send(crew, "POST", "/api/v1/handovers", json=concern)
        for to in ("reviewed", "raised_with_partner"):
            send(manager, "POST", f"/api/v1/handovers/{concern['id']}/transitions", json={"to": to})
        thanks = note(
            riverside,
            note_type="good_practice",
            categories=[],
            good_practice=["patient_ready", "kind_and_respectful"],
            harm=None,
            delay_minutes=None,
            narrative=unique("Ward 7 had everything ready and were lovely"),
        )
        send(crew, "POST", "/api/v1/handovers", json=thanks)
        yield {
            "concern": concern["id"],
            "concern_text": concern["narrative"],
            "thanks": thanks["id"],
            "thanks_text": thanks["narrative"],
        }
    finally:
        crew.close()
        manager.close()


def in_viewport(page: Any, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] < size["height"]
        and box["x"] + box["width"] <= size["width"] + 1
    )


def test_a_partner_answers_on_a_phone_and_the_crew_member_reads_the_answer(
    browser: Any, live_server: LiveServer, shared_notes: dict[str, str]
) -> None:
    partner_context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    crew_context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    try:
        page = partner_context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, live_server, *PARTNER)
        # Signing in lands a partner on the notes about their organisation.
        page.wait_for_url(f"{live_server.url}/partner")
        assert page.locator("h1").inner_text() == "Notes about Riverside General Hospital"
        assert "Casey Crew" not in page.content() and "PTS44" not in page.content()

        # Only concerns raised with them, about handover delays: chosen from the menus.
        page.select_option("#note_type", label="Concerns raised with you")
        page.select_option("#category", label="Handover delay")
        with page.expect_navigation():
            page.get_by_role("button", name="Apply filters").click()
        link = page.locator(f"a[href='/partner/notes/{shared_notes['concern']}']")
        assert link.is_visible()
        assert page.locator(f"a[href='/partner/notes/{shared_notes['thanks']}']").count() == 0
        with page.expect_navigation():
            link.click()
        assert page.locator("h1").inner_text() == "A concern raised with you"
        assert page.get_by_text(shared_notes["concern_text"]).is_visible()

        # Sent empty: the error summary, focused on the field's link.
        with page.expect_navigation():
            page.get_by_role("button", name="Send response").click()
        summary = page.locator(".nhsuk-error-summary")
        assert summary.is_visible() and in_viewport(page, ".nhsuk-error-summary")
        answer = unique("We now have a handover nurse at the ambulance bay from 10 to 4")
        page.get_by_label("Your response").fill(answer)
        with page.expect_navigation():
            page.get_by_role("button", name="Send response").click()
        assert page.get_by_text("Your response was sent").is_visible()
        assert page.get_by_text(answer).first.is_visible()

        # The thanks arrived without being raised.
        page.goto(f"{live_server.url}/partner")
        page.select_option("#note_type", label="Thanks (good practice)")
        with page.expect_navigation():
            page.get_by_role("button", name="Apply filters").click()
        thanks = page.locator(f"a[href='/partner/notes/{shared_notes['thanks']}']")
        assert thanks.is_visible()
        assert "Thank you:" in thanks.inner_text()
        with page.expect_navigation():
            thanks.click()
        assert page.locator("h1").inner_text() == "Thanks from our crew"
        assert page.get_by_text(shared_notes["thanks_text"]).is_visible()

        # The crew member, on their own phone, reads the answer under My submissions.
        crew_page = crew_context.new_page()
        crew_page.set_default_timeout(15_000)
        sign_in(crew_page, live_server, *CREW)
        crew_page.goto(f"{live_server.url}/mine")
        reply = crew_page.get_by_text(f"The partner organisation responded: {answer}")
        reply.first.scroll_into_view_if_needed()
        assert reply.first.is_visible()
    finally:
        partner_context.close()
        crew_context.close()


def test_the_partner_pages_fit_a_laptop_and_a_phone(
    browser: Any, live_server: LiveServer, shared_notes: dict[str, str]
) -> None:
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport)
        try:
            page = context.new_page()
            sign_in(page, live_server, *PARTNER)
            for path in ("/partner", f"/partner/notes/{shared_notes['concern']}", "/partner/pack"):
                page.goto(f"{live_server.url}{path}")
                # Nothing wider than the screen: no sideways scrolling to read a note.
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], (path, viewport, width)
        finally:
            context.close()
