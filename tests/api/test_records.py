"""The single-record endpoints, validation messages, and the managers' lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from api.db import open_session
from schemas.handovers import Handover
from schemas.ideas import Idea
from tests.records import handover_data, idea_data, new_id, reference_ids

VALID_NHS_NUMBER = "943 476 5919"


def stored(model: Any) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_an_idea_is_created_then_an_identical_replay_is_200_and_a_change_is_409(crew: Any) -> None:
    body = {"id": new_id(), **idea_data()}
    first = crew.post("/api/v1/ideas", json=body)
    assert first.status_code == 201
    assert first.json()["id"] == body["id"]
    assert first.json()["status"] == "submitted"
    replay = crew.post("/api/v1/ideas", json=body)
    assert replay.status_code == 200
    assert replay.json()["id"] == body["id"]
    changed = crew.post("/api/v1/ideas", json={**body, "title": "Something else entirely"})
    assert changed.status_code == 409
    assert stored(Idea) == 1


def test_a_handover_is_created_and_replayed_without_a_second_copy(crew: Any) -> None:
    body = {"id": new_id(), **handover_data()}
    assert crew.post("/api/v1/handovers", json=body).status_code == 201
    assert crew.post("/api/v1/handovers", json=body).status_code == 200
    assert stored(Handover) == 1


def test_a_record_sent_by_post_and_then_by_sync_is_a_duplicate(crew: Any) -> None:
    record_id, data = new_id(), handover_data()
    assert crew.post("/api/v1/handovers", json={"id": record_id, **data}).status_code == 201
    result = crew.post(
        "/api/v1/sync", json={"items": [{"kind": "handover", "id": record_id, "data": data}]}
    ).json()["results"][0]
    assert result["outcome"] == "duplicate"


_AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)

# Bodies whose fields validation turns into something else (times into UTC, London wall-clock time
# without an offset, optional fields left out or at the value older phones meant): a single POST
# stores the fingerprint of its validated body (api/sync/ingest.py::validated_record), a batch
# item that of its data validated there; a replay by the other route must still be a duplicate.
_VARIANTS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "note": ("handover", lambda: handover_data()),
    "note, London time without an offset": (
        "handover",
        lambda: handover_data(occurred_at=_AN_HOUR_AGO.replace(tzinfo=None).isoformat()[:16]),
    ),
    "note, another offset, microseconds": (
        "handover",
        lambda: handover_data(
            occurred_at=_AN_HOUR_AGO.astimezone(timezone(timedelta(hours=-5))).isoformat(),
            created_at=_AN_HOUR_AGO.astimezone(timezone(timedelta(hours=5, minutes=30)))
            .replace(microsecond=123456)
            .isoformat(),
        ),
    ),
    "note, optional fields left out": (
        "handover",
        lambda: {
            k: v
            for k, v in handover_data().items()
            if k in {"occurred_at", "partner_id", "categories", "narrative"}
        },
    ),
    "note, the type older phones meant said out loud": (
        "handover",
        lambda: handover_data(note_type="concern", good_practice=[]),
    ),
    "good-practice note": (
        "handover",
        lambda: handover_data(
            note_type="good_practice", categories=[], good_practice=["patient_ready"], harm=None
        ),
    ),
    "note, text beyond ASCII": (
        "handover",
        lambda: handover_data(narrative="Waited — 45 min; crew said “thank you” ✓ café"),
    ),
    "idea": ("idea", lambda: idea_data()),
    "idea, optional fields left out": (
        "idea",
        lambda: {
            k: v
            for k, v in idea_data().items()
            if k in {"title", "problem", "proposal", "wastes", "aims", "team_id"}
        },
    ),
}


@pytest.mark.parametrize("variant", list(_VARIANTS))
@pytest.mark.parametrize("first", ["single", "sync"])
def test_a_record_sent_by_either_route_and_again_by_the_other_is_a_replay(
    crew: Any, variant: str, first: str
) -> None:
    kind, make = _VARIANTS[variant]
    record_id, data = new_id(), make()
    single = f"/api/v1/{kind}s"
    batch = {"items": [{"kind": kind, "id": record_id, "data": data}]}
    if first == "single":
        assert crew.post(single, json={"id": record_id, **data}).status_code == 201
        result = crew.post("/api/v1/sync", json=batch).json()["results"][0]
        assert result["outcome"] == "duplicate"
    else:
        assert crew.post("/api/v1/sync", json=batch).json()["results"][0]["outcome"] == "created"
        assert crew.post(single, json={"id": record_id, **data}).status_code == 200
    assert stored(Handover if kind == "handover" else Idea) == 1


@pytest.mark.parametrize(
    ("change", "field", "message_part"),
    [
        ({"title": "ab"}, "title", "at least 3"),
        ({"title": "   "}, "title", "Enter a title"),
        ({"title": "x" * 121}, "title", "120 characters or fewer"),
        ({"problem": "y" * 4001}, "problem", "4000 characters or fewer"),
        ({"aims": []}, "aims", "Select at least one strategic aim"),
        ({"wastes": ["laziness"]}, "wastes", "valid option"),
        ({"team_id": "seven"}, "team_id", "whole number"),
        ({"problem": f"Patient {VALID_NHS_NUMBER} waited"}, "problem", "NHS number"),
        ({"show_name": "perhaps"}, "show_name", "yes or no"),
        ({"created_at": "2026-11-24T10:00:00"}, "created_at", "time zone"),
    ],
)
def test_invalid_idea_fields_get_a_422_naming_the_field_and_store_nothing(
    crew: Any, change: dict[str, Any], field: str, message_part: str
) -> None:
    response = crew.post("/api/v1/ideas", json={"id": new_id(), **idea_data(**change)})
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["detail"]}
    assert field in errors, errors
    assert message_part in errors[field]
    assert stored(Idea) == 0


def test_the_nhs_number_message_names_the_field_and_says_what_to_do(crew: Any) -> None:
    response = crew.post(
        "/api/v1/handovers",
        json={"id": new_id(), **handover_data(narrative=f"NHS 943-476-5919 {'x' * 10}")},
    )
    message = response.json()["detail"][0]["message"]
    assert response.json()["detail"][0]["field"] == "narrative"
    assert message.startswith("What happened looks like it contains an NHS number")
    assert "Remove patient identifiers" in message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_at": (datetime.now(UTC) + timedelta(minutes=30)).isoformat()}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"partner_id": 987654}, "partner_id"),
        ({"categories": []}, "categories"),
        ({"categories": ["aliens"]}, "categories"),
        ({"delay_minutes": 1441}, "delay_minutes"),
        ({"delay_minutes": -1}, "delay_minutes"),
        ({"harm": "catastrophic"}, "harm"),
        ({"journey_type": "teleport"}, "journey_type"),
        ({"narrative": ""}, "narrative"),
        ({"location_detail": "L" * 201}, "location_detail"),
        ({"immediate_action": "a" * 2001}, "immediate_action"),
        ({"vehicle": "V" * 21}, "vehicle"),
        ({"status": "resolved"}, "status"),
        ({"reported_by": 1}, "reported_by"),
    ],
)
def test_invalid_handover_fields_are_refused_and_nothing_is_stored(
    crew: Any, change: dict[str, Any], field: str
) -> None:
    response = crew.post("/api/v1/handovers", json={"id": new_id(), **handover_data(**change)})
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["detail"]}
    assert stored(Handover) == 0


def test_an_occurred_at_just_inside_the_five_minute_tolerance_is_accepted(crew: Any) -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()
    response = crew.post(
        "/api/v1/handovers", json={"id": new_id(), **handover_data(occurred_at=soon)}
    )
    assert response.status_code == 201


def test_a_naive_occurred_at_is_read_as_london_time(crew: Any) -> None:
    body = {"id": new_id(), **handover_data(occurred_at="2026-07-01T09:30")}
    assert crew.post("/api/v1/handovers", json=body).status_code == 201
    got = crew.get(f"/api/v1/handovers/{body['id']}").json()["occurred_at"]
    assert datetime.fromisoformat(got) == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)


def test_a_missing_or_bad_id_is_refused(crew: Any) -> None:
    assert crew.post("/api/v1/handovers", json=handover_data()).status_code == 422
    bad = crew.post("/api/v1/handovers", json={"id": "123", **handover_data()})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "id"


def test_text_is_stored_as_typed_and_escaped_in_pages(crew: Any) -> None:
    sneaky = "<script>alert('x')</script> & \"quotes\""
    body = {"id": new_id(), **idea_data(title=sneaky)}
    assert crew.post("/api/v1/ideas", json=body).status_code == 201
    assert crew.get(f"/api/v1/ideas/{body['id']}").json()["title"] == sneaky
    page = crew.get("/mine").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page


def test_managers_page_through_ideas_with_a_cursor(crew: Any, manager: Any) -> None:
    ids = [new_id() for _ in range(7)]
    for record_id in ids:
        assert crew.post("/api/v1/ideas", json={"id": record_id, **idea_data()}).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = manager.get("/api/v1/ideas", params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))


def test_idea_filters_narrow_the_list(crew: Any, manager: Any) -> None:
    ids = reference_ids()
    a = {
        "id": new_id(),
        **idea_data(aims=[ids["aims"][2]], wastes=["inventory"], title="Stock cupboard"),
    }
    b = {"id": new_id(), **idea_data(team_id=ids["teams"][1], title="Rota swaps")}
    for body in (a, b):
        assert crew.post("/api/v1/ideas", json=body).status_code == 201

    def found(**params: Any) -> list[str]:
        response = manager.get("/api/v1/ideas", params=params)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert found(aim=ids["aims"][2]) == [a["id"]]
    assert found(waste="inventory") == [a["id"]]
    assert found(team_id=ids["teams"][1]) == [b["id"]]
    assert found(q="ROTA") == [b["id"]]
    assert found(q="100%") == []
    assert found(status="submitted", limit=200).__len__() == 2
    assert found(status="declined") == []
    today = datetime.now(UTC).date()
    assert (
        len(found(**{"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}))
        == 2
    )
    assert found(**{"to": str(today - timedelta(days=2))}) == []


def test_handover_filters_narrow_the_list(crew: Any, manager: Any) -> None:
    ids = reference_ids()
    a = {
        "id": new_id(),
        **handover_data(partner_id=ids["partners"][1], categories=["missing_paperwork"]),
    }
    b = {"id": new_id(), **handover_data(harm="moderate")}
    for body in (a, b):
        assert crew.post("/api/v1/handovers", json=body).status_code == 201

    def found(**params: Any) -> list[str]:
        response = manager.get("/api/v1/handovers", params=params)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert found(partner_id=ids["partners"][1]) == [a["id"]]
    assert found(category="missing_paperwork") == [a["id"]]
    assert found(harm="moderate") == [b["id"]]
    assert found(status="new", limit=200).__len__() == 2


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"status": "lost"},
        {"cursor": "!!not-a-cursor"},
        {"from": "24/11/2026"},
    ],
)
def test_bad_list_parameters_get_a_422(manager: Any, params: dict[str, Any]) -> None:
    response = manager.get("/api/v1/ideas", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"]


def test_anonymous_ideas_show_anonymous_to_reviewers_but_not_to_the_submitter(
    crew: Any, manager: Any
) -> None:
    body = {"id": new_id(), **idea_data(show_name=False)}
    crew.post("/api/v1/ideas", json=body)
    seen_by_manager = manager.get(f"/api/v1/ideas/{body['id']}").json()
    assert seen_by_manager["submitter_name"] == "Anonymous"
    assert seen_by_manager["submitted_by"] is None
    seen_by_crew = crew.get(f"/api/v1/ideas/{body['id']}").json()
    assert seen_by_crew["submitter_name"] == "Casey Crew"


def test_my_submissions_lists_only_my_own(crew: Any, staff: Any) -> None:
    mine = {"id": new_id(), **handover_data()}
    theirs = {"id": new_id(), **idea_data()}
    crew.post("/api/v1/handovers", json=mine)
    staff.post("/api/v1/ideas", json=theirs)
    body = crew.get("/api/v1/me/submissions").json()
    assert [h["id"] for h in body["handovers"]] == [mine["id"]]
    assert body["ideas"] == []


def test_reference_data_lists_what_the_forms_need(crew: Any) -> None:
    body = crew.get("/api/v1/reference").json()
    assert len(body["aims"]) == 5
    assert all(
        {"id", "name"} <= set(item) for key in ("teams", "partners", "aims") for item in body[key]
    )
    assert {c["value"] for c in body["categories"]} >= {"handover_delay", "other"}
    assert [h["value"] for h in body["harms"]] == ["none", "low", "moderate", "severe", "death"]


def test_healthz_answers_200_when_the_database_answers(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
