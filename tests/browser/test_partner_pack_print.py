"""The partnership review pack on paper: 20 notes print on at most three A4 pages, the narratives
as an appendix; and screenshots of /measures and the pack at phone and laptop sizes for review."""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.browser.conftest import sign_in
from tests.support.live_server import LiveServer

NARRATIVE = (
    "Arrived at the emergency department with a patient for admission. The ambulance bay was full "
    "and no nurse was free to take handover, so the crew waited in the corridor with the patient on "
    "the trolley. The patient was kept comfortable and observations were repeated every fifteen "
    "minutes. Handover was finally taken by the nurse in charge, who apologised for the wait."
)
SHOTS = Path(os.environ.get("FRONTLINE_SHOTS", "/work/helpers/shots/t13"))


def _csrf(client: Any) -> str:
    return str(client.get("/api/v1/me").json()["csrf_token"])


def _seed_twenty(live_server: LiveServer) -> int:
    crew = live_server.api("crew@demo.nhs.uk", "crew-demo-pass")
    partners = crew.get("/api/v1/reference").json()["partners"]
    partner_id = int(partners[-1]["id"])
    token = _csrf(crew)
    start = datetime(2026, 1, 5, 10, tzinfo=UTC)
    for number in range(20):
        good = number % 5 == 4
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "occurred_at": (start + timedelta(days=number)).isoformat(),
            "created_at": (start + timedelta(days=number, minutes=5)).isoformat(),
            "partner_id": partner_id,
            "location_detail": "ED ambulance bay",
            "journey_type": "admission",
            "note_type": "good_practice" if good else "concern",
            "categories": []
            if good
            else ["handover_delay", "communication_breakdown"][: 1 + number % 2],
            "good_practice": ["quick_handover", "kind_and_respectful"] if good else [],
            "delay_minutes": None if good else 20 + number * 3,
            "harm": None if good else "none",
            "narrative": NARRATIVE,
            "immediate_action": "" if good else "Escalated to the nurse in charge.",
        }
        answer = crew.post("/api/v1/handovers", json=body, headers={"x-csrf-token": token})
        assert answer.status_code == 201, answer.text
    crew.close()
    return partner_id


def _pages(pdf: bytes) -> int:
    """Pages in a PDF Chromium wrote: its page objects (`/Type /Page`, not `/Pages`)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf))


def test_a_pack_of_twenty_notes_prints_on_three_a4_pages_with_the_notes_as_an_appendix(
    live_server: LiveServer, browser: Any
) -> None:
    partner_id = _seed_twenty(live_server)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, "manager@demo.nhs.uk", "manager-demo-pass")
    page.goto(f"{live_server.url}/partners/{partner_id}?from=2026-01-01&to=2026-01-31")
    assert page.locator("h1").inner_text().startswith("Partnership review")
    assert "4" in page.locator(".app-figure--good").inner_text()  # 4 good-practice notes
    assert "16" in page.locator(".app-figure").first.inner_text()  # 16 concerns
    assert page.locator(".app-pack-appendix .app-note").count() == 20
    page.emulate_media(media="print")
    appendix_top = page.evaluate(
        "document.querySelector('.app-pack-appendix').getBoundingClientRect().top"
    )
    assert appendix_top > 0
    pdf = page.pdf(format="A4", print_background=True)
    pages = _pages(pdf)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "partner-pack.pdf").write_bytes(pdf)
    assert 2 <= pages <= 3, f"{pages} pages"
    context.close()
