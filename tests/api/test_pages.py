"""The capture pages with JavaScript off: plain form posts, error summaries, confirmations."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from api.db import open_session
from schemas.handovers import Handover
from schemas.ideas import Idea
from tests.records import reference_ids


def stored(model: Any) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def hidden_id(html: str) -> str:
    match = re.search(r'name="id"[^>]*value="([0-9a-f-]{36})"', html) or re.search(
        r'value="([0-9a-f-]{36})"[^>]*name="id"', html
    )
    assert match, "the form has no hidden id"
    return match.group(1)


def handover_form(record_id: str, **overrides: Any) -> dict[str, Any]:
    ids = reference_ids()
    form = {
        "id": record_id,
        "occurred_at": "2026-11-20T09:15",
        "partner_id": str(ids["partners"][0]),
        "location_detail": "Ward 7",
        "journey_type": "discharge",
        "categories": ["patient_not_ready", "missing_paperwork"],
        "delay_minutes": "",
        "harm": "none",
        "narrative": "Patient was not ready; discharge letter missing.",
        "immediate_action": "",
        "vehicle": "",
    }
    form.update(overrides)
    return form


def test_anonymous_visitors_are_sent_to_sign_in(client: Any) -> None:
    for path in ("/", "/ideas/new", "/handovers/new", "/mine", "/outbox"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_a_crew_member_logs_a_handover_with_javascript_off(crew: Any) -> None:
    page = crew.get("/handovers/new")
    assert page.status_code == 200
    record_id = hidden_id(page.text)
    response = crew.form("/handovers", handover_form(record_id), page="/handovers/new")
    assert response.status_code == 303
    assert response.headers["location"] == f"/submitted/handover/{record_id}"
    confirmation = crew.get(response.headers["location"])
    assert confirmation.status_code == 200
    assert "Handover note sent" in confirmation.text
    assert stored(Handover) == 1
    with open_session(write=False) as session:
        note = session.get(Handover, __import__("uuid").UUID(record_id))
        assert note is not None
        assert note.categories == ["patient_not_ready", "missing_paperwork"]
        assert note.delay_minutes is None
    assert "Patient was not ready" in crew.get("/mine").text


def test_a_double_submitted_form_is_stored_once(crew: Any) -> None:
    record_id = hidden_id(crew.get("/handovers/new").text)
    form = handover_form(record_id)
    first = crew.form("/handovers", form, page="/handovers/new")
    second = crew.form("/handovers", form, page="/handovers/new")
    assert first.status_code == second.status_code == 303
    assert second.headers["location"].endswith("?again=1")
    assert "already received" in crew.get(second.headers["location"]).text
    assert stored(Handover) == 1


def test_moderate_harm_tells_the_crew_to_file_a_formal_report(crew: Any) -> None:
    record_id = hidden_id(crew.get("/handovers/new").text)
    response = crew.form(
        "/handovers", handover_form(record_id, harm="moderate"), page="/handovers/new"
    )
    confirmation = crew.get(response.headers["location"]).text
    assert "LFPSE" in confirmation
    low_id = hidden_id(crew.get("/handovers/new").text)
    low = crew.form("/handovers", handover_form(low_id, harm="low"), page="/handovers/new")
    assert "LFPSE" not in crew.get(low.headers["location"]).text.split("<main", 1)[1]


def test_an_invalid_form_shows_an_error_summary_and_keeps_what_was_typed(crew: Any) -> None:
    record_id = hidden_id(crew.get("/handovers/new").text)
    form = handover_form(
        record_id, categories=[], narrative="", location_detail="Bay 3 <b>", delay_minutes="lots"
    )
    response = crew.form("/handovers", form, page="/handovers/new")
    assert response.status_code == 422
    html = response.text
    assert "There is a problem" in html
    assert 'href="#categories"' in html
    assert 'href="#narrative"' in html
    assert 'href="#delay_minutes"' in html
    assert "Bay 3 &lt;b&gt;" in html
    assert record_id in html
    assert stored(Handover) == 0


def test_an_nhs_number_in_a_form_is_refused_with_the_field_named(crew: Any) -> None:
    record_id = hidden_id(crew.get("/handovers/new").text)
    form = handover_form(record_id, narrative="Patient 9434765919 was left in the corridor")
    response = crew.form("/handovers", form, page="/handovers/new")
    assert response.status_code == 422
    assert "What happened looks like it contains an NHS number" in response.text
    assert stored(Handover) == 0


def test_a_staff_member_submits_an_idea_with_javascript_off(staff: Any) -> None:
    page = staff.get("/ideas/new")
    record_id = hidden_id(page.text)
    ids = reference_ids()
    form = {
        "id": record_id,
        "title": "Pre-pack discharge medicines",
        "problem": "Patients wait for pharmacy on the day.",
        "proposal": "Pack medicines the evening before.",
        "aims": [str(ids["aims"][1])],
        "wastes": ["waiting"],
        "benefits": ["patient_experience"],
        "team_id": str(ids["teams"][2]),
        "show_name": "false",
    }
    response = staff.form("/ideas", form, page="/ideas/new")
    assert response.status_code == 303, response.text
    assert "Idea submitted" in staff.get(response.headers["location"]).text
    with open_session(write=False) as session:
        idea = session.execute(select(Idea)).scalar_one()
        assert idea.show_name is False
        assert idea.aims == [ids["aims"][1]]


def test_an_idea_without_aims_is_refused_on_the_page(staff: Any) -> None:
    record_id = hidden_id(staff.get("/ideas/new").text)
    form = {"id": record_id, "title": "Idea", "problem": "p", "proposal": "q", "team_id": "1"}
    response = staff.form("/ideas", form, page="/ideas/new")
    assert response.status_code == 422
    assert "Select at least one strategic aim" in response.text
    assert 'href="#aims"' in response.text
    assert stored(Idea) == 0


def test_a_form_reused_for_different_content_gets_a_new_id_and_stores_nothing(crew: Any) -> None:
    record_id = hidden_id(crew.get("/handovers/new").text)
    crew.form("/handovers", handover_form(record_id), page="/handovers/new")
    response = crew.form(
        "/handovers", handover_form(record_id, narrative="Different"), page="/handovers/new"
    )
    assert response.status_code == 409
    assert hidden_id(response.text) != record_id
    assert stored(Handover) == 1


def test_the_confirmation_page_of_another_users_record_is_not_found(crew: Any, staff: Any) -> None:
    record_id = hidden_id(crew.get("/handovers/new").text)
    location = crew.form("/handovers", handover_form(record_id), page="/handovers/new").headers[
        "location"
    ]
    assert staff.get(location).status_code == 404


def test_every_new_form_carries_a_fresh_id(crew: Any) -> None:
    ids = {hidden_id(crew.get("/handovers/new").text) for _ in range(3)}
    assert len(ids) == 3
