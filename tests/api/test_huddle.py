"""The huddle board: who sees which team's board, who moves cards, and that a move from the board
is the workflow's own move (transition table and Equity Pause included)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from api.db import open_session
from schemas.accounts import User
from schemas.audit import AuditEvent
from schemas.ideas import Idea
from schemas.timestamps import utcnow
from tests.records import idea_data, new_id, reference_ids

EQUITY = "Checked: interpreters booked the same way for every patient."


def submit(client: Any, **overrides: Any) -> str:
    record_id = new_id()
    response = client.post("/api/v1/ideas", json={"id": record_id, **idea_data(**overrides)})
    assert response.status_code == 201, response.text
    return record_id


def set_idea(record_id: str, **values: Any) -> None:
    with open_session(write=True) as session:
        session.execute(update(Idea).where(Idea.id == uuid.UUID(record_id)).values(**values))
        session.commit()


def make_lead(email: str, lead: bool = True) -> None:
    with open_session(write=True) as session:
        session.execute(update(User).where(User.email == email).values(huddle_lead=lead))
        session.commit()


def status_of(record_id: str) -> str:
    with open_session(write=False) as session:
        idea = session.get(Idea, uuid.UUID(record_id))
        assert idea is not None
        return idea.status


def crew_team() -> int:
    return reference_ids()["teams"][0]


def ward_team() -> int:
    return reference_ids()["teams"][2]


def column_ids(board: dict[str, Any], column: str) -> list[str]:
    return [card["id"] for card in board["columns"][column]]


def test_the_api_maps_statuses_to_columns_as_the_spec_says(crew: Any, manager: Any) -> None:
    statuses = ["submitted", "under_review", "accepted", "testing", "implemented", "shared"]
    ids = {s: submit(crew, title=f"Idea {s}") for s in statuses}
    declined = submit(crew, title="Declined one")
    old_done = submit(crew, title="Finished long ago")
    for status, record_id in ids.items():
        set_idea(record_id, status=status)
    set_idea(declined, status="declined")
    set_idea(old_done, status="implemented", updated_at=utcnow() - timedelta(days=91))

    response = manager.get("/api/v1/huddle", params={"team_id": crew_team()})
    assert response.status_code == 200
    board = response.json()
    assert board["team_id"] == crew_team()
    assert set(board["columns"]) == {"to_do", "doing", "done"}
    assert set(column_ids(board, "to_do")) == {ids["submitted"], ids["under_review"]}
    assert set(column_ids(board, "doing")) == {ids["accepted"], ids["testing"]}
    assert set(column_ids(board, "done")) == {ids["implemented"], ids["shared"]}
    everything = [c for cards in board["columns"].values() for c in cards]
    assert declined not in [c["id"] for c in everything]
    card = board["columns"]["to_do"][0]
    # Ideas as in the list API, plus what the card shows.
    for key in ("title", "status", "owner_id", "flags", "version", "submitter_name"):
        assert key in card
    assert card["age_days"] == 0 and card["owner_name"] == "Nobody yet"
    assert card["equity_pause"] == "due"


def test_a_card_shows_age_owner_flags_and_the_equity_pause(crew: Any, manager: Any) -> None:
    record_id = submit(crew, title="Old and waiting", show_name=False)
    set_idea(record_id, received_at=utcnow() - timedelta(days=9))
    board = manager.get("/api/v1/huddle", params={"team_id": crew_team()}).json()
    card = board["columns"]["to_do"][0]
    assert card["age_days"] == 9
    assert card["flags"] == ["needs_first_response"]
    assert card["submitter_name"] == "Anonymous" and card["submitted_by"] is None

    page = manager.get("/huddle", params={"team_id": crew_team()}).text
    assert "Old and waiting" in page and "9 days" in page
    assert "Needs a first response" in page and "Anonymous" in page
    assert "Equity Pause due at the decision" in page


def test_reporters_see_their_own_team_board_read_only(crew: Any, staff: Any) -> None:
    submit(crew, title="Crew idea")
    page = crew.get("/huddle")
    assert page.status_code == 200
    assert "Crew idea" in page.text
    assert "Move this card" not in page.text
    assert "Managers and the team's huddle leads move the cards" in page.text
    assert crew.get("/api/v1/huddle").json()["may_move"] is False
    # Another team's board is not theirs to read.
    assert staff.get("/huddle", params={"team_id": crew_team()}).status_code == 403
    assert staff.get("/api/v1/huddle", params={"team_id": crew_team()}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client: Any) -> None:
    assert client.get("/api/v1/huddle").status_code == 401
    page = client.get("/huddle")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_bad_team_ids_get_clear_errors(manager: Any) -> None:
    assert manager.get("/api/v1/huddle", params={"team_id": 999999}).status_code == 404
    assert manager.get("/api/v1/huddle", params={"team_id": "x"}).status_code == 422
    assert manager.get("/api/v1/huddle", params={"team_id": 2**40}).status_code == 422
    assert manager.get("/huddle", params={"team_id": 999999}).status_code == 404


def test_a_reporter_who_is_not_a_lead_cannot_move_a_card(crew: Any) -> None:
    record_id = submit(crew)
    response = crew.form(
        f"/huddle/ideas/{record_id}/move", {"to": "under_review", "version": "1"}, page="/huddle"
    )
    assert response.status_code == 403
    assert status_of(record_id) == "submitted"


def test_a_huddle_lead_moves_their_team_cards_through_the_workflow(crew: Any) -> None:
    make_lead("crew@demo.nhs.uk")
    record_id = submit(crew, title="Move me")
    page = crew.get("/huddle").text
    assert "Move this card" in page
    response = crew.form(
        f"/huddle/ideas/{record_id}/move", {"to": "under_review", "version": "1"}, page="/huddle"
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/huddle?team_id={crew_team()}&done=moved"
    assert status_of(record_id) == "under_review"
    assert "The card was moved" in crew.get(response.headers["location"]).text


def test_the_equity_pause_applies_on_the_board_as_on_the_idea_page(crew: Any) -> None:
    make_lead("crew@demo.nhs.uk")
    record_id = submit(crew)
    set_idea(record_id, status="under_review")
    refused = crew.form(
        f"/huddle/ideas/{record_id}/move", {"to": "accepted", "version": "1"}, page="/huddle"
    )
    assert refused.status_code == 422
    assert "Answer the Equity Pause" in refused.text
    assert f'href="#equity_note-{record_id}"' in refused.text
    assert status_of(record_id) == "under_review"

    moved = crew.form(
        f"/huddle/ideas/{record_id}/move",
        {"to": "accepted", "version": "1", "equity_note": EQUITY},
        page="/huddle",
    )
    assert moved.status_code == 303
    assert status_of(record_id) == "accepted"
    with open_session(write=False) as session:
        actions = list(
            session.execute(
                select(AuditEvent.action).where(AuditEvent.record_id == uuid.UUID(record_id))
            ).scalars()
        )
    assert actions == ["equity_pause", "transition"]
    card = crew.get("/api/v1/huddle").json()["columns"]["doing"][0]
    assert card["id"] == record_id and card["equity_pause"] == "answered"


def test_moves_outside_the_transition_table_are_refused_with_nothing_changed(
    crew: Any, manager: Any
) -> None:
    record_id = submit(crew, title="Straight to done?")
    response = manager.form(
        f"/huddle/ideas/{record_id}/move",
        {"to": "implemented", "version": "1"},
        page=f"/huddle?team_id={crew_team()}",
    )
    assert response.status_code == 409
    assert "cannot move to implemented" in response.text
    assert status_of(record_id) == "submitted"
    duplicate = manager.form(
        f"/huddle/ideas/{record_id}/move",
        {"to": "duplicate", "version": "1"},
        page=f"/huddle?team_id={crew_team()}",
    )
    assert duplicate.status_code == 422 and "Mark duplicates from the idea page" in duplicate.text
    nothing = manager.form(
        f"/huddle/ideas/{record_id}/move", {"version": "1"}, page=f"/huddle?team_id={crew_team()}"
    )
    assert nothing.status_code == 422 and "Choose where to move the card" in nothing.text
    assert status_of(record_id) == "submitted"


def test_a_stale_board_is_refused_with_the_latest_shown(crew: Any, manager: Any) -> None:
    record_id = submit(crew)
    set_idea(record_id, version=2)
    response = manager.form(
        f"/huddle/ideas/{record_id}/move",
        {"to": "under_review", "version": "1"},
        page=f"/huddle?team_id={crew_team()}",
    )
    assert response.status_code == 412
    assert "Someone else moved or changed this card" in response.text
    assert status_of(record_id) == "submitted"


def test_a_lead_cannot_move_another_team_cards(crew: Any, staff: Any) -> None:
    make_lead("staff@demo.nhs.uk")
    record_id = submit(crew)
    response = staff.form(
        f"/huddle/ideas/{record_id}/move", {"to": "under_review", "version": "1"}, page="/huddle"
    )
    assert response.status_code == 404
    assert status_of(record_id) == "submitted"


def test_an_nhs_number_in_a_board_note_is_refused(crew: Any, manager: Any) -> None:
    record_id = submit(crew)
    response = manager.form(
        f"/huddle/ideas/{record_id}/move",
        {"to": "declined", "version": "1", "note": "Patient 943 476 5919", "equity_note": EQUITY},
        page=f"/huddle?team_id={crew_team()}",
    )
    assert response.status_code == 422
    assert "NHS number" in response.text
    assert status_of(record_id) == "submitted"


def test_htmx_moves_answer_with_the_board_fragment(crew: Any, manager: Any) -> None:
    record_id = submit(crew, title="Swap me")
    token = manager.page_token(f"/huddle?team_id={crew_team()}")
    response = manager.http.post(
        f"/huddle/ideas/{record_id}/move",
        data={"to": "under_review", "version": "1", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'id="board"' in response.text and "<html" not in response.text
    assert "The card was moved" in response.text
    assert "HX-Request" in response.headers["vary"]


def test_the_wall_screen_updates_itself_and_has_no_forms(crew: Any, manager: Any) -> None:
    submit(crew, title="On the wall")
    page = manager.get("/huddle", params={"team_id": crew_team(), "view": "wall"}).text
    assert re.search(r'<div id="board"[^>]*hx-trigger="every 60s"', page)
    assert "app-huddle--wall" in page and "On the wall" in page
    assert "Move this card" not in page
    normal = manager.get("/huddle", params={"team_id": crew_team()}).text
    assert "hx-trigger" not in normal and "Move this card" in normal
    # The poll answers with the board alone, still in wall mode.
    polled = manager.get(
        "/huddle",
        params={"team_id": crew_team(), "view": "wall"},
        headers={"HX-Request": "true"},
    ).text
    assert "<html" not in polled and 'hx-trigger="every 60s"' in polled


def test_managers_choose_any_team_and_see_a_default(manager: Any, staff: Any) -> None:
    submit(staff, title="Ward idea", team_id=ward_team())
    page = manager.get("/huddle", params={"team_id": ward_team()}).text
    assert "Ward idea" in page and 'name="team_id"' in page
    assert manager.get("/huddle").status_code == 200  # their own team's board


def test_admins_set_the_huddle_lead_flag(admin: Any) -> None:
    with open_session(write=False) as session:
        crew_id = session.execute(
            select(User.id).where(User.email == "crew@demo.nhs.uk")
        ).scalar_one()
    page = f"/admin/users/{crew_id}"
    response = admin.form(f"/admin/users/{crew_id}/huddle-lead", {"huddle_lead": "true"}, page)
    assert response.status_code == 303
    with open_session(write=False) as session:
        assert session.get(User, crew_id).huddle_lead is True  # type: ignore[union-attr]
    bad = admin.form(f"/admin/users/{crew_id}/huddle-lead", {"huddle_lead": "maybe"}, page)
    assert bad.status_code == 422 and "Choose yes or no" in bad.text


def test_only_admins_set_huddle_leads(manager: Any, crew: Any) -> None:
    with open_session(write=False) as session:
        crew_id = session.execute(
            select(User.id).where(User.email == "crew@demo.nhs.uk")
        ).scalar_one()
    response = manager.post(f"/admin/users/{crew_id}/huddle-lead", data={"huddle_lead": "true"})
    assert response.status_code == 403
    assert (
        crew.post(f"/admin/users/{crew_id}/huddle-lead", data={"huddle_lead": "true"}).status_code
        == 403
    )


def test_the_menu_leads_every_member_of_staff_to_the_improvement_pages(
    crew: Any, manager: Any
) -> None:
    for who in (crew, manager):
        home = who.get("/").text
        for path in ("/huddle", "/learning", "/readiness"):
            assert f'href="{path}"' in home, path
    # A manager's own items come first, so they stay in sight on a narrow header.
    managers = manager.get("/").text
    assert managers.index('href="/triage"') < managers.index('href="/huddle"')
