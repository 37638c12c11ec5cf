"""Good-practice handover notes (SPEC §3.2): a handover that went well, told apart from a concern."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from api.db import open_session
from api.sync.outcome import content_hash
from schemas.handovers import Handover, HandoverIn
from tests.records import handover_data, new_id


def good_practice_data(**change: Any) -> dict[str, Any]:
    data = handover_data()
    data.pop("harm", None)
    return {
        **data,
        "note_type": "good_practice",
        "categories": [],
        "good_practice": ["patient_ready", "clear_communication"],
        "narrative": "Ward 7 had the patient ready with their medicines and a clear handover.",
        **change,
    }


def count_notes() -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(func.count()).select_from(Handover)).scalar_one())


def test_a_good_practice_note_is_stored_with_what_went_well_and_no_categories(crew: Any) -> None:
    body = {"id": new_id(), **good_practice_data()}
    answer = crew.post("/api/v1/handovers", json=body)
    assert answer.status_code == 201, answer.text
    stored = answer.json()
    assert stored["note_type"] == "good_practice"
    assert stored["good_practice"] == ["patient_ready", "clear_communication"]
    assert stored["categories"] == []
    assert crew.post("/api/v1/handovers", json=body).status_code == 200
    assert count_notes() == 1


def test_a_note_without_a_type_is_a_concern(crew: Any) -> None:
    answer = crew.post("/api/v1/handovers", json={"id": new_id(), **handover_data()})
    assert answer.status_code == 201
    assert answer.json()["note_type"] == "concern"
    assert answer.json()["good_practice"] == []


@pytest.mark.parametrize(
    ("make", "field", "message_part"),
    [
        (lambda: handover_data(categories=[]), "categories", "went wrong"),
        (lambda: good_practice_data(good_practice=[]), "good_practice", "went well"),
        (lambda: good_practice_data(harm="moderate"), "harm", "does not apply"),
        (lambda: handover_data(good_practice=["quick_handover"]), "good_practice", "good practice"),
        (lambda: good_practice_data(note_type="praise"), "note_type", "valid option"),
        (
            lambda: good_practice_data(good_practice=["nice_biscuits"]),
            "good_practice",
            "valid option",
        ),
    ],
)
def test_a_note_that_mixes_up_its_type_is_refused_naming_the_field(
    crew: Any, make: Callable[[], dict[str, Any]], field: str, message_part: str
) -> None:
    answer = crew.post("/api/v1/handovers", json={"id": new_id(), **make()})
    assert answer.status_code == 422
    errors = {e["field"]: e["message"] for e in answer.json()["detail"]}
    assert field in errors, errors
    assert message_part in errors[field]
    assert count_notes() == 0


def test_a_concern_queued_before_note_types_existed_is_still_a_duplicate_when_replayed(
    crew: Any,
) -> None:
    # A phone queued this note before the upgrade; its first send was stored with the
    # fingerprint of that time (no note_type, no good_practice) and the answer was lost.
    record_id, data = new_id(), handover_data()
    assert crew.post("/api/v1/handovers", json={"id": record_id, **data}).status_code == 201
    before_upgrade = HandoverIn.model_validate(data).model_dump(mode="json")
    del before_upgrade["note_type"], before_upgrade["good_practice"]
    with open_session(write=True) as session:
        session.execute(
            update(Handover)
            .where(Handover.id == uuid.UUID(record_id))  # type: ignore[arg-type]
            .values(content_hash=content_hash(before_upgrade))
        )
        session.commit()
    replay = crew.post(
        "/api/v1/sync", json={"items": [{"kind": "handover", "id": record_id, "data": data}]}
    ).json()["results"][0]
    assert replay["outcome"] == "duplicate"
    assert count_notes() == 1


def test_the_reference_lists_offer_note_types_and_what_went_well(crew: Any) -> None:
    reference = crew.get("/api/v1/reference").json()
    assert [o["value"] for o in reference["note_types"]] == ["concern", "good_practice"]
    assert "kind_and_respectful" in [o["value"] for o in reference["good_practice"]]


def test_a_good_practice_note_from_the_form_without_javascript(crew: Any) -> None:
    """Without JavaScript both parts of the form are on the page and a harm radio, once ticked,
    cannot be unticked: what does not apply to the chosen note type is left out, not refused."""
    from tests.api.test_pages import handover_form, hidden_id

    page = crew.get("/handovers/new")
    assert 'name="note_type"' in page.text and 'name="good_practice"' in page.text
    assert "More detail (optional)" in page.text
    record_id = hidden_id(page.text)
    form = handover_form(
        record_id,
        note_type="good_practice",
        good_practice=["patient_ready", "quick_handover"],
        harm="moderate",
        delay_minutes="20",
        narrative="Ward 7 had everything ready. Thank you.",
    )
    response = crew.form("/handovers", form, page="/handovers/new")
    assert response.status_code == 303, response.text
    confirmation = crew.get(response.headers["location"]).text
    assert "Good practice note sent" in confirmation
    assert "shared with the partner organisation as thanks" in confirmation
    assert "patient safety incident" not in confirmation
    with open_session(write=False) as session:
        note = session.get(Handover, uuid.UUID(record_id))
        assert note is not None
        assert note.note_type == "good_practice"
        assert note.good_practice == ["patient_ready", "quick_handover"]
        assert note.categories == [] and note.harm is None and note.delay_minutes is None


def test_a_good_practice_form_with_nothing_that_went_well_is_refused_with_the_field_named(
    crew: Any,
) -> None:
    from tests.api.test_pages import handover_form, hidden_id

    record_id = hidden_id(crew.get("/handovers/new").text)
    form = handover_form(record_id, note_type="good_practice")
    response = crew.form("/handovers", form, page="/handovers/new")
    assert response.status_code == 422
    assert "Select at least one thing that went well" in response.text
    assert count_notes() == 0


def test_a_concern_from_the_form_leaves_out_what_went_well(crew: Any) -> None:
    from tests.api.test_pages import handover_form, hidden_id

    record_id = hidden_id(crew.get("/handovers/new").text)
    form = handover_form(record_id, note_type="concern", good_practice=["patient_ready"])
    assert crew.form("/handovers", form, page="/handovers/new").status_code == 303
    with open_session(write=False) as session:
        note = session.get(Handover, uuid.UUID(record_id))
        assert note is not None and note.good_practice == [] and note.note_type == "concern"
