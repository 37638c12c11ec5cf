"""Managers review handover notes on their pages; the crew member sees the outcome under /mine."""

from __future__ import annotations

from typing import Any

from tests.records import handover_data, new_id, reference_ids


def send(client: Any, **overrides: Any) -> str:
    record_id = new_id()
    assert (
        client.post(
            "/api/v1/handovers", json={"id": record_id, **handover_data(**overrides)}
        ).status_code
        == 201
    )
    return record_id


def test_reporters_cannot_open_the_managers_handover_pages(crew: Any) -> None:
    record_id = send(crew)
    assert crew.get("/handovers").status_code == 403
    assert crew.get(f"/handovers/{record_id}").status_code == 403


def test_the_list_filters_by_partner_category_and_harm(crew: Any, manager: Any) -> None:
    ids = reference_ids()
    send(
        crew,
        partner_id=ids["partners"][4],
        narrative="Care home had no keys ready",
        categories=["access_or_parking"],
    )
    send(crew, narrative="Corridor wait", harm="moderate")
    by_partner = manager.get("/handovers", params={"partner_id": ids["partners"][4]}).text
    assert "Care home had no keys" in by_partner and "Corridor wait" not in by_partner
    assert "Corridor wait" in manager.get("/handovers", params={"harm": "moderate"}).text
    assert (
        "Corridor wait"
        not in manager.get("/handovers", params={"category": "access_or_parking"}).text
    )


def test_a_manager_reviews_and_records_the_partners_response(crew: Any, manager: Any) -> None:
    record_id = send(crew)
    page = f"/handovers/{record_id}"
    moved = manager.form(f"{page}/move", {"to": "reviewed", "version": "1"}, page=page)
    assert moved.status_code == 303
    saved = manager.form(
        f"{page}/review",
        {
            "review_note": "Raised at the weekly flow call.",
            "partner_response": "Extra nurse at 5pm.",
            "version": "2",
        },
        page=page,
    )
    assert saved.status_code == 303, saved.text
    mine = crew.get("/mine").text
    assert "Raised at the weekly flow call." in mine and "Extra nurse at 5pm." in mine


def test_moderate_harm_is_flagged_on_the_managers_page(crew: Any, manager: Any) -> None:
    record_id = send(crew, harm="severe")
    assert "LFPSE" in manager.get(f"/handovers/{record_id}").text


def test_an_nhs_number_in_the_partners_response_is_refused(crew: Any, manager: Any) -> None:
    record_id = send(crew)
    page = f"/handovers/{record_id}"
    response = manager.form(
        f"{page}/review", {"partner_response": "Patient 943 476 5919", "version": "1"}, page=page
    )
    assert response.status_code == 422
    assert "NHS number" in response.text
    assert manager.get(f"/api/v1/handovers/{record_id}").json()["partner_response"] == ""


def test_a_resolved_note_cannot_move_again(crew: Any, manager: Any) -> None:
    record_id = send(crew)
    page = f"/handovers/{record_id}"
    manager.form(f"{page}/move", {"to": "resolved", "version": "1"}, page=page)
    again = manager.form(f"{page}/move", {"to": "reviewed", "version": "2"}, page=page)
    assert again.status_code == 409
    assert manager.get(f"/api/v1/handovers/{record_id}").json()["status"] == "resolved"


def test_an_nhs_number_in_a_managers_comment_or_move_note_is_refused(
    crew: Any, manager: Any
) -> None:
    """SPEC §3.3: any free-text field, the managers' own included, on the page and the API."""
    record_id = send(crew)
    page = f"/handovers/{record_id}"
    comment = manager.form(f"{page}/comments", {"body": "Patient 9434765919 again"}, page=page)
    assert comment.status_code == 422
    assert "Comment looks like it contains an NHS number" in comment.text
    move = manager.post(
        f"/api/v1/handovers/{record_id}/transitions",
        json={"to": "reviewed", "note": "re 943-476-5919"},
    )
    assert move.status_code == 422
    assert [e["field"] for e in move.json()["detail"]] == ["note"]
    held = manager.get(f"/api/v1/handovers/{record_id}").json()
    assert held["status"] == "new"
    # A reference with its prefix is not a patient identifier.
    fine = manager.form(f"{page}/comments", {"body": "Booking ref 9434765919"}, page=page)
    assert fine.status_code == 303
