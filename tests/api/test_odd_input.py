"""What fuzzing the API found (tests/fuzz), pinned: odd input gets a clear answer the API
description declares, never a 500, and changes nothing."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, update

from api.db import open_session
from schemas.ideas import Idea
from schemas.pdsa import PdsaCycle
from tests.records import idea_data, new_id

# Past 64 bits SQLite cannot bind the number at all; past 31 bits it names no PostgreSQL row.
HUGE_IDS = [2**31, 2**63, 10**20]


def _count(model: Any) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_body_that_is_not_utf8_is_a_field_level_422_like_malformed_json(crew: Any) -> None:
    for body in (b"\xff\x35\xfe", b"{"):
        response = crew.post(
            "/api/v1/ideas", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422
        assert response.json() == {
            "detail": [{"field": "body", "message": "The body is not valid JSON"}]
        }
    assert _count(Idea) == 0


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_a_pdsa_cycle_id_beyond_any_record_is_not_found(crew: Any, manager: Any, huge: int) -> None:
    idea_id = new_id()
    assert crew.post("/api/v1/ideas", json={"id": idea_id, **idea_data()}).status_code == 201
    with open_session(write=True) as session:
        session.execute(update(Idea).where(Idea.id == uuid.UUID(idea_id)).values(status="testing"))
        session.commit()
    base = f"/api/v1/ideas/{idea_id}/pdsa/{huge}"
    point = manager.post(f"{base}/points", json={"day": "2026-11-02", "value": 1})
    assert point.status_code == 404
    cycle = {"plan": "Try it", "start_date": "2026-11-02", "measure_name": "Count"}
    assert (
        manager.http.put(base, json=cycle, headers={"X-CSRF-Token": manager.csrf}).status_code
        == 404
    )
    assert _count(PdsaCycle) == 0


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_a_partner_pack_for_an_id_beyond_any_record_is_not_found(manager: Any, huge: int) -> None:
    assert manager.get(f"/partners/{huge}").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/ideas?team_id=99999999999999999999",
        "/api/v1/ideas?owner_id=2147483648",
        "/api/v1/handovers?partner_id=99999999999999999999",
        "/api/v1/measures/ideas-submitted-per-month?team_id=99999999999999999999",
    ],
)
def test_a_filter_id_beyond_any_record_is_a_422_naming_it(manager: Any, url: str) -> None:
    response = manager.get(url)
    assert response.status_code == 422
    field = url.split("?")[1].split("=")[0]
    assert response.json()["detail"][0]["field"] == field


def test_an_owner_id_beyond_any_record_is_refused_and_nothing_changes(
    crew: Any, manager: Any
) -> None:
    idea_id = new_id()
    crew.post("/api/v1/ideas", json={"id": idea_id, **idea_data()})
    response = manager.patch(
        f"/api/v1/ideas/{idea_id}", json={"owner_id": 2**63}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "owner_id", "message": "Owner id must refer to an existing record"}
    ]
    assert manager.get(f"/api/v1/ideas/{idea_id}").json()["version"] == 1


def test_a_number_out_of_range_says_the_range_not_that_a_record_is_missing(
    crew: Any, manager: Any
) -> None:
    idea_id = new_id()
    crew.post("/api/v1/ideas", json={"id": idea_id, **idea_data()})
    response = manager.patch(
        f"/api/v1/ideas/{idea_id}", json={"impact": 7, "effort": 0}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "impact", "message": "Impact must be at most 3"},
        {"field": "effort", "message": "Effort must be at least 1"},
    ]


def test_the_description_declares_the_refusals_with_their_bodies(crew: Any) -> None:
    description = crew.get("/openapi.json").json()
    create = description["paths"]["/api/v1/ideas"]["post"]["responses"]
    assert {"200", "201", "401", "403", "409", "413", "422", "429", "503"} <= set(create)
    patch = description["paths"]["/api/v1/ideas/{idea_id}"]["patch"]["responses"]
    assert {"404", "412", "428"} <= set(patch)
    # One 422 shape everywhere: the field and a message for a person (SPEC §6).
    field_error = description["components"]["schemas"]["ValidationError"]
    assert set(field_error["required"]) == {"field", "message"}
    title = description["components"]["schemas"]["IdeaSubmission"]["properties"]["title"]
    assert title["minLength"] == 3


NUL_MESSAGE = "contains a character that cannot be stored (NUL); remove it"


def test_a_nul_in_record_text_is_refused_naming_the_field_and_nothing_is_stored(crew: Any) -> None:
    # PostgreSQL text cannot hold NUL: this was a 500, and for a phone a 500 means "retry for ever".
    response = crew.post("/api/v1/ideas", json={"id": new_id(), **idea_data(title="Tro\x00lley")})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"field": "title", "message": f"Title {NUL_MESSAGE}"}]
    assert _count(Idea) == 0


def test_a_nul_in_one_synced_item_rejects_that_item_only(crew: Any) -> None:
    bad, good = new_id(), new_id()
    items = [
        {"kind": "idea", "id": bad, "data": idea_data(problem="\x00")},
        {"kind": "idea", "id": good, "data": idea_data()},
    ]
    response = crew.post("/api/v1/sync", json={"items": items})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["id"], r["outcome"]) for r in results] == [(bad, "rejected"), (good, "created")]
    assert results[0]["errors"][0]["field"] == "problem"
    assert _count(Idea) == 1


def test_a_nul_in_a_comment_or_a_search_is_refused(crew: Any, manager: Any) -> None:
    idea_id = new_id()
    crew.post("/api/v1/ideas", json={"id": idea_id, **idea_data()})
    comment = manager.post(f"/api/v1/ideas/{idea_id}/comments", json={"body": "a\x00b"})
    assert comment.status_code == 422
    assert comment.json()["detail"][0]["field"] == "body"
    search = manager.get("/api/v1/ideas", params={"q": "a\x00b"})
    assert search.status_code == 422
    assert search.json()["detail"] == [{"field": "q", "message": f"Search words {NUL_MESSAGE}"}]


def test_a_nul_in_a_sign_in_form_is_a_clear_refusal_not_a_500(client: Any) -> None:
    token = client.page_token("/login")
    response = client.http.post(
        "/login", data={"email": "crew\x00@demo.nhs.uk", "password": "x" * 12, "csrf_token": token}
    )
    # PostgreSQL cannot even look the address up (422); SQLite finds no such account (200).
    assert response.status_code in {200, 422}
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_created_at_outside_what_utc_can_hold_is_refused_not_a_500(
    crew: Any, created_at: str
) -> None:
    response = crew.post("/api/v1/ideas", json={"id": new_id(), **idea_data(created_at=created_at)})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "field": "created_at",
            "message": "Created at must be a date and time between the years 1 and 9999",
        }
    ]
    assert _count(Idea) == 0


def test_an_if_match_of_digits_int_cannot_read_is_a_422(crew: Any, manager: Any) -> None:
    idea_id = new_id()
    crew.post("/api/v1/ideas", json={"id": idea_id, **idea_data()})
    response = manager.patch(
        # Headers arrive as latin-1: the byte 0xB2 is "²".
        f"/api/v1/ideas/{idea_id}",
        json={"impact": 2},
        headers={"If-Match": "\u00b2".encode("latin-1")},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "If-Match"


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "position",
    [
        ["newest", "2026-01-01T00:00:00+00:00", 123],
        ["newest", "2026-01-01T00:00:00", str(uuid.uuid4())],
        ["newest", "0001-01-01T00:00:00+01:00", str(uuid.uuid4())],
    ],
)
def test_a_forged_cursor_is_a_422_naming_it(manager: Any, position: list[Any]) -> None:
    for url in ("/api/v1/ideas", "/api/v1/handovers"):
        response = manager.get(url, params={"cursor": _cursor(position)})
        assert response.status_code == 422
        assert response.json()["detail"] == [{"field": "cursor", "message": "cursor is not valid"}]


def test_a_page_filter_of_digits_int_cannot_read_is_ignored(manager: Any) -> None:
    assert manager.get("/triage", params={"team_id": "\u00b2"}).status_code == 200
