"""The 201 of a single create is built from the row the request inserted, not read back (issue 16):
it must be exactly what reading the record back gives, whatever the client sent (times with any
offset or none, microseconds, text beyond ASCII, fields left out, a partner's idea)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api.db import open_session
from api.handovers.service import get_handover_for
from api.ideas.service import get_idea_for
from schemas.accounts import User
from tests.records import handover_data, idea_data, new_id

HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


def _read_back(kind: str, email: str, record_id: str) -> dict[str, Any]:
    """What the answer was before: the record read back through the ORM by its writer."""
    with open_session(write=False) as session:
        user = session.execute(select(User).where(User.email == email)).scalar_one()
        read = get_handover_for if kind == "handovers" else get_idea_for
        answer: dict[str, Any] = read(session, user, uuid.UUID(record_id)).model_dump(mode="json")
        return answer


HANDOVERS = {
    "as the phone sends it": {},
    "offsets and microseconds": {
        "occurred_at": HOUR_AGO.astimezone().replace(microsecond=123457).isoformat(),
        "created_at": "2026-11-24T07:15:42.000001-03:00",
    },
    "India's half hour": {"occurred_at": "2026-11-24T10:15:00.5+05:30"},
    "London wall-clock time in summer (no offset)": {"occurred_at": "2026-07-01T10:15:00"},
    "good practice, nothing optional": {
        "note_type": "good_practice",
        "categories": [],
        "good_practice": ["patient_ready"],
        "harm": None,
        "journey_type": None,
        "delay_minutes": None,
        "location_detail": "",
        "immediate_action": "",
        "vehicle": "",
        "created_at": None,
    },
    "text beyond ASCII": {
        "narrative": "Café staff – “naïve” ß 🚑 handover waited; 医院 ÿ\u00a0end",
        "location_detail": "Ward 7 · bay 3",
    },
}


@pytest.mark.parametrize("change", HANDOVERS.values(), ids=HANDOVERS.keys())
def test_a_new_notes_answer_is_the_note_as_read_back(crew: Any, change: dict[str, Any]) -> None:
    body = {"id": new_id(), **handover_data(**change)}
    answer = crew.post("/api/v1/handovers", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json() == _read_back("handovers", "crew@demo.nhs.uk", body["id"])
    # And byte for byte what its own page of the API shows.
    shown = crew.get(f"/api/v1/handovers/{body['id']}")
    assert json.loads(shown.content) == json.loads(answer.content)
    assert shown.content == answer.content


IDEAS = {
    "as the phone sends it": {},
    "anonymous, no client time, an equity note": {
        "show_name": False,
        "created_at": None,
        "equity_prompt": "People who do not read English well",
        "benefits": ["equity", "safety", "staff_experience"],
    },
    "an offset and microseconds": {"created_at": "2026-11-24T23:59:59.999999+14:00"},
    "text beyond ASCII": {"title": "Naïve café idea 🚑", "problem": "Łódź – “quoted” ß"},
}


@pytest.mark.parametrize("change", IDEAS.values(), ids=IDEAS.keys())
def test_a_new_ideas_answer_is_the_idea_as_read_back(staff: Any, change: dict[str, Any]) -> None:
    body = {"id": new_id(), **idea_data(**change)}
    answer = staff.post("/api/v1/ideas", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json() == _read_back("ideas", "staff@demo.nhs.uk", body["id"])
    shown = staff.get(f"/api/v1/ideas/{body['id']}")
    assert shown.content == answer.content


def test_a_partners_new_idea_answers_with_its_organisation(partner: Any) -> None:
    body = {"id": new_id(), **idea_data()}
    answer = partner.post("/api/v1/ideas", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["partner_id"] is not None
    assert answer.json() == _read_back("ideas", "partner@demo.nhs.uk", body["id"])


def test_a_replay_still_answers_with_the_record_as_stored(crew: Any, manager: Any) -> None:
    """A replay stored nothing: its 200 reads the record back, changes since included."""
    body = {"id": new_id(), **handover_data()}
    assert crew.post("/api/v1/handovers", json=body).status_code == 201
    moved = manager.post(
        f"/api/v1/handovers/{body['id']}/transitions", json={"to": "reviewed", "note": "Seen"}
    )
    assert moved.status_code == 200, moved.text
    replay = crew.post("/api/v1/handovers", json=body)
    assert replay.status_code == 200
    assert replay.json()["status"] == "reviewed"
    assert replay.json() == _read_back("handovers", "crew@demo.nhs.uk", body["id"])
