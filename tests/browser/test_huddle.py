"""A morning huddle on a phone (390x844), in a real browser: a huddle lead opens the board, moves a
card by choosing from the page (the Equity Pause included), and sees it in its new column."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import LiveServer, sign_in, wait_until

CREW = ("crew@demo.nhs.uk", "crew-demo-pass")
ADMIN = ("admin@demo.nhs.uk", "admin-demo-pass")
MANAGER = ("manager@demo.nhs.uk", "manager-demo-pass")


def token_of(client: httpx.Client, path: str = "/") -> str:
    return client.get(path).text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


@pytest.fixture
def card(live_server: LiveServer) -> Iterator[tuple[str, str]]:
    """An idea of the crew's team, under review; the crew member made a huddle lead by an admin."""
    crew = live_server.api(*CREW)
    admin = live_server.api(*ADMIN)
    manager = live_server.api(*MANAGER)
    try:
        me = crew.get("/api/v1/me").json()
        lead = admin.post(
            f"/admin/users/{me['id']}/huddle-lead",
            data={"huddle_lead": "true", "csrf_token": token_of(admin, f"/admin/users/{me['id']}")},
        )
        assert lead.status_code == 303, lead.text
        reference = crew.get("/api/v1/reference").json()
        idea_id = str(uuid.uuid4())
        title = f"Huddle journey {idea_id[:8]}"
        made = crew.post(
            "/api/v1/ideas",
            headers={"x-csrf-token": token_of(crew)},
            json={
                "id": idea_id,
                "title": title,
                "problem": "The bariatric trolley is booked separately and arrives late.",
                "proposal": "Ask about the trolley on the booking form.",
                "aims": [reference["aims"][0]["id"]],
                "team_id": me["team_id"],
            },
        )
        assert made.status_code == 201, made.text
        moved = manager.post(
            f"/api/v1/ideas/{idea_id}/transitions",
            headers={"x-csrf-token": token_of(manager)},
            json={"to": "under_review"},
        )
        assert moved.status_code == 200, moved.text
        yield idea_id, title
    finally:
        for client in (crew, admin, manager):
            client.close()


def test_a_lead_moves_a_card_on_a_phone_and_sees_it_in_the_new_column(
    page: Any, live_server: LiveServer, card: tuple[str, str]
) -> None:
    idea_id, title = card
    sign_in(page, live_server, *CREW)
    # The lead finds the board from the menu, as a person does.
    page.goto(f"{live_server.url}/")
    # On a phone the header keeps the later menu items under "More".
    link = page.locator("header a[href='/huddle']").first
    if not link.is_visible():
        page.locator("header button", has_text="More").click()
    link.click()
    page.wait_for_url(f"{live_server.url}/huddle")
    assert page.viewport_size == {"width": 390, "height": 844}

    to_do = page.locator("#col-to_do")
    card_box = to_do.locator(f"#card-{idea_id}")
    assert card_box.is_visible()
    assert title in card_box.text_content()
    assert "Equity Pause due at the decision" in card_box.text_content()

    # Open the card's move form and choose from it.
    card_box.locator("summary", has_text="Move this card").click()
    card_box.get_by_label("Accepted").check()
    # Moving on without the Equity Pause is refused in place, nothing moved.
    card_box.get_by_role("button", name="Move card").click()
    wait_until(page, "document.querySelector('#board .nhsuk-error-summary') !== null")
    assert "Answer the Equity Pause" in page.locator(".nhsuk-error-summary").text_content()
    assert page.locator(f"#col-to_do #card-{idea_id}").count() == 1

    retry = page.locator(f"#card-{idea_id}")
    assert retry.locator("details").get_attribute("open") is not None
    retry.get_by_label("Accepted").check()
    retry.get_by_label("Equity Pause: does everyone benefit equally? Who could be left out?").fill(
        "Checked with the crew: helps every patient who needs the trolley, whoever books."
    )
    retry.get_by_role("button", name="Move card").click()
    wait_until(page, f"document.querySelector('#col-doing #card-{idea_id}') !== null")

    status = page.locator("[role=status]", has_text="The card was moved")
    assert status.is_visible()
    moved = page.locator(f"#col-doing #card-{idea_id}")
    moved.scroll_into_view_if_needed()
    assert moved.is_visible()
    box = moved.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert "Accepted" in moved.text_content()
    assert "Equity Pause answered" in moved.text_content()
    assert page.locator(f"#col-to_do #card-{idea_id}").count() == 0
    # The board is laid out for the phone: one column under another, no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
