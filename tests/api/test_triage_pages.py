"""The managers' idea queue and idea page, as a manager uses them with or without JavaScript."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from api.db import open_session
from schemas.ideas import Idea
from schemas.timestamps import utcnow
from tests.records import idea_data, new_id, reference_ids

EQUITY = "Checked: benefits patients with limited English as much as anyone."


def submit(client: Any, **overrides: Any) -> str:
    record_id = new_id()
    assert (
        client.post("/api/v1/ideas", json={"id": record_id, **idea_data(**overrides)}).status_code
        == 201
    )
    return record_id


def age(record_id: str, **values: Any) -> None:
    with open_session(write=True) as session:
        session.execute(update(Idea).where(Idea.id == uuid.UUID(record_id)).values(**values))
        session.commit()


def test_reporters_cannot_open_the_queue(crew: Any) -> None:
    record_id = submit(crew)
    assert crew.get("/triage").status_code == 403
    assert crew.get(f"/triage/ideas/{record_id}").status_code == 403


def test_the_queue_lists_ideas_with_anonymous_submitters_hidden(crew: Any, manager: Any) -> None:
    submit(crew, title="Named idea")
    submit(crew, title="Quiet idea", show_name=False)
    page = manager.get("/triage").text
    assert "Named idea" in page and "Quiet idea" in page
    quiet = page.split("Quiet idea", 1)[1].split("</li>", 1)[0]
    assert "Anonymous" in quiet and "Casey Crew" not in quiet


def test_search_and_filters_narrow_the_queue(crew: Any, manager: Any) -> None:
    ids = reference_ids()
    submit(crew, title="Laminated discharge checklist", aims=[ids["aims"][3]])
    submit(crew, title="Rota swap app")
    assert "Laminated" in manager.get("/triage", params={"q": "laminate"}).text
    assert "Rota swap" not in manager.get("/triage", params={"q": "laminate"}).text
    only_aim = manager.get(
        "/triage", params={"aim": ids["aims"][3], "status": "", "team_id": ""}
    ).text
    assert "Laminated" in only_aim and "Rota swap" not in only_aim


def test_flags_show_ideas_waiting_for_a_first_response_and_stalled_ideas(
    crew: Any, manager: Any
) -> None:
    waiting = submit(crew, title="Waiting a week")
    stalled = submit(crew, title="Accepted and forgotten")
    fresh = submit(crew, title="Brand new")
    long_ago = utcnow() - timedelta(days=40)
    age(waiting, received_at=utcnow() - timedelta(days=8))
    age(stalled, status="accepted", first_response_at=long_ago, updated_at=long_ago)
    needs = manager.get("/triage", params={"flag": "needs_first_response"}).text
    assert "Waiting a week" in needs and "Brand new" not in needs
    stale = manager.get("/triage", params={"flag": "stalled"}).text
    assert "Accepted and forgotten" in stale and "Brand new" not in stale
    assert fresh


def test_the_queue_pages_with_a_next_link(crew: Any, manager: Any) -> None:
    for n in range(27):
        submit(crew, title=f"Idea number {n:02d}")
    first = manager.get("/triage").text
    link = re.search(r'href="/triage\?([^"]+)"[^>]*>Next page', first)
    assert link, "no next page link"
    second = manager.get("/triage?" + link.group(1).replace("&amp;", "&")).text
    assert "Idea number 00" in second and "Idea number 00" not in first


def test_a_manager_moves_an_idea_with_javascript_off(crew: Any, manager: Any) -> None:
    record_id = submit(crew)
    page = manager.get(f"/triage/ideas/{record_id}")
    assert page.status_code == 200
    form = {"to": "under_review", "note": "", "version": "1"}
    response = manager.form(
        f"/triage/ideas/{record_id}/move", form, page=f"/triage/ideas/{record_id}"
    )
    assert response.status_code == 303
    after = manager.get(response.headers["location"]).text
    assert "The idea was moved" in after
    assert "Moved from Submitted to" in after


def test_accepting_without_the_equity_pause_is_refused_on_the_page(crew: Any, manager: Any) -> None:
    record_id = submit(crew)
    age(record_id, status="under_review")
    page = f"/triage/ideas/{record_id}"
    refused = manager.form(f"{page}/move", {"to": "accepted", "version": "1"}, page=page)
    assert refused.status_code == 422
    assert 'href="#equity_note"' in refused.text
    accepted = manager.form(
        f"{page}/move", {"to": "accepted", "version": "1", "equity_note": EQUITY}, page=page
    )
    assert accepted.status_code == 303
    assert "Equity Pause answered" in manager.get(page).text


def test_a_stale_page_tells_the_manager_someone_else_changed_it(
    crew: Any, manager: Any, admin: Any
) -> None:
    record_id = submit(crew)
    page = f"/triage/ideas/{record_id}"
    admin.form(
        f"{page}/rate", {"impact": "3", "effort": "1", "owner_id": "", "version": "1"}, page=page
    )
    late = manager.form(
        f"{page}/rate", {"impact": "1", "effort": "3", "owner_id": "", "version": "1"}, page=page
    )
    assert late.status_code == 412
    assert "Someone else changed this idea" in late.text
    assert manager.get(f"/api/v1/ideas/{record_id}").json()["impact"] == 3


def test_a_disallowed_move_changes_nothing(crew: Any, manager: Any) -> None:
    record_id = submit(crew)
    page = f"/triage/ideas/{record_id}"
    response = manager.form(f"{page}/move", {"to": "shared", "version": "1"}, page=page)
    assert response.status_code == 409
    assert "cannot move to shared" in response.text
    assert manager.get(f"/api/v1/ideas/{record_id}").json()["status"] == "submitted"


def test_htmx_gets_the_idea_panel_alone(crew: Any, manager: Any) -> None:
    record_id = submit(crew)
    page = f"/triage/ideas/{record_id}"
    token = manager.page_token(page)
    response = manager.http.post(
        f"{page}/comments",
        data={"body": "Thanks, looking at it", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="idea"') or 'id="idea"' in response.text[:300]
    assert "<html" not in response.text
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_the_matrix_sorts_rated_ideas_into_quadrants(crew: Any, manager: Any) -> None:
    quick = submit(crew, title="Quick one")
    big = submit(crew, title="Big one")
    submit(crew, title="Not rated")
    age(quick, impact=3, effort=1)
    age(big, impact=3, effort=3)
    page = manager.get("/triage", params={"view": "matrix"}).text
    quick_cell = page.split('id="q-quick_wins"', 1)[1].split("</section>", 1)[0]
    big_cell = page.split('id="q-major_projects"', 1)[1].split("</section>", 1)[0]
    assert "Quick one" in quick_cell and "Big one" in big_cell
    assert "1 open idea has no rating yet" in page


@pytest.mark.parametrize("path", ["/triage", "/triage?view=matrix"])
def test_triage_pages_keep_to_the_shell(manager: Any, path: str) -> None:
    html = manager.get(path).text
    assert "data-outbox-count" in html and 'name="csrf-token"' in html
    assert "style=" not in html


def test_the_next_page_link_keeps_the_filters(crew: Any, manager: Any) -> None:
    for n in range(26):
        submit(crew, title=f"Filtered idea {n:02d}", wastes=["inventory"])
    first = manager.get("/triage", params={"waste": "inventory", "sort": "oldest"}).text
    link = re.search(r'href="/triage\?([^"]+)"[^>]*>Next page', first)
    assert link
    query = link.group(1).replace("&amp;", "&")
    assert "waste=inventory" in query and "sort=oldest" in query
    second = manager.get("/triage?" + query).text
    assert "Filtered idea 25" in second and "Filtered idea 00" not in second


def test_an_nhs_number_in_a_comment_or_an_equity_pause_is_refused(crew: Any, manager: Any) -> None:
    """SPEC §3.3 covers the managers' free text too: nothing is stored, the field is named."""
    record_id = submit(crew)
    page = f"/triage/ideas/{record_id}"
    comment = manager.form(f"{page}/comments", {"body": "Ring 943 476 5919"}, page=page)
    assert comment.status_code == 422
    assert "Comment looks like it contains an NHS number" in comment.text
    api = manager.post(f"/api/v1/ideas/{record_id}/comments", json={"body": "Ring 9434765919"})
    assert api.status_code == 422
    decline = manager.post(
        f"/api/v1/ideas/{record_id}/transitions",
        json={"to": "declined", "note": "Not now", "equity_note": "Patient 943 476 5919 only"},
    )
    assert decline.status_code == 422
    assert [e["field"] for e in decline.json()["detail"]] == ["equity_note"]
    assert manager.get(f"/api/v1/ideas/{record_id}").json()["status"] == "submitted"
