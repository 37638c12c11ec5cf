"""Managers move ideas and handover notes through SPEC §4's workflows; every move and comment is
audited and tells the submitter; concurrent changes are caught with If-Match."""

from __future__ import annotations

import uuid
from itertools import product
from typing import Any

import pytest
from sqlalchemy import select, update

from api.db import open_session
from api.ideas.workflow import TRANSITIONS as IDEA_MOVES
from schemas.audit import AuditEvent, Notification
from schemas.enums import HandoverStatus, IdeaStatus
from schemas.handovers import Handover
from schemas.ideas import Idea
from tests.records import handover_data, idea_data, new_id

EQUITY = "Yes; checked with the ward's interpreters that nobody is left out."


def submitted_idea(client: Any, **overrides: Any) -> str:
    record_id = new_id()
    assert (
        client.post("/api/v1/ideas", json={"id": record_id, **idea_data(**overrides)}).status_code
        == 201
    )
    return record_id


def set_status(model: Any, record_id: str, status: str) -> None:
    with open_session(write=True) as session:
        session.execute(update(model).where(model.id == uuid.UUID(record_id)).values(status=status))
        session.commit()


def move_body(to: IdeaStatus, target: str) -> dict[str, Any]:
    return {"to": to.value, "note": "Because.", "duplicate_of": target, "equity_note": EQUITY}


def test_the_idea_table_is_the_spec_table() -> None:
    S = IdeaStatus
    assert {k: set(v) for k, v in IDEA_MOVES.items()} == {
        S.submitted: {S.under_review, S.declined, S.duplicate},
        S.under_review: {S.accepted, S.declined, S.duplicate},
        S.accepted: {S.testing, S.implemented, S.declined},
        S.testing: {S.implemented, S.accepted, S.declined},
        S.implemented: {S.shared},
        S.shared: set(),
        S.declined: {S.under_review},
        S.duplicate: set(),
    }


@pytest.mark.parametrize(("start", "to"), list(product(IdeaStatus, IdeaStatus)))
def test_every_idea_move_is_allowed_exactly_when_the_table_says(
    crew: Any, manager: Any, start: IdeaStatus, to: IdeaStatus
) -> None:
    target = submitted_idea(crew)
    record_id = submitted_idea(crew)
    set_status(Idea, record_id, start.value)
    response = manager.post(f"/api/v1/ideas/{record_id}/transitions", json=move_body(to, target))
    if to in IDEA_MOVES[start]:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == to.value
    else:
        assert response.status_code == 409
        detail = response.json()["detail"]
        assert detail["status"] == start.value
        assert set(detail["allowed"]) == {s.value for s in IDEA_MOVES[start]}
        with open_session(write=False) as session:
            assert session.get(Idea, uuid.UUID(record_id)).status == start.value  # type: ignore[union-attr]


@pytest.mark.parametrize(("start", "to"), list(product(HandoverStatus, HandoverStatus)))
def test_every_handover_move_is_allowed_exactly_when_the_table_says(
    crew: Any, manager: Any, start: HandoverStatus, to: HandoverStatus
) -> None:
    record_id = new_id()
    crew.post("/api/v1/handovers", json={"id": record_id, **handover_data()})
    set_status(Handover, record_id, start.value)
    response = manager.post(f"/api/v1/handovers/{record_id}/transitions", json={"to": to.value})
    order = list(HandoverStatus)
    one_step_on = order.index(to) == order.index(start) + 1
    to_resolved = to is HandoverStatus.resolved and start is not HandoverStatus.resolved
    assert response.status_code == (200 if one_step_on or to_resolved else 409), response.text


def test_declining_needs_a_reason_and_the_equity_pause(crew: Any, manager: Any) -> None:
    record_id = submitted_idea(crew)
    response = manager.post(f"/api/v1/ideas/{record_id}/transitions", json={"to": "declined"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["detail"]} == {"note", "equity_note"}
    with open_session(write=False) as session:
        assert session.execute(select(AuditEvent)).first() is None


def test_a_duplicate_needs_an_existing_other_idea(crew: Any, manager: Any) -> None:
    record_id = submitted_idea(crew)
    for target in (None, new_id(), record_id):
        response = manager.post(
            f"/api/v1/ideas/{record_id}/transitions",
            json={"to": "duplicate", "duplicate_of": target},
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == "duplicate_of"
    original = submitted_idea(crew)
    ok = manager.post(
        f"/api/v1/ideas/{record_id}/transitions", json={"to": "duplicate", "duplicate_of": original}
    )
    assert ok.status_code == 200
    assert ok.json()["duplicate_of"] == original


def test_a_move_is_audited_and_the_submitter_sees_it_and_is_notified(
    crew: Any, manager: Any
) -> None:
    record_id = submitted_idea(crew)
    manager.post(f"/api/v1/ideas/{record_id}/transitions", json={"to": "under_review"})
    manager.post(
        f"/api/v1/ideas/{record_id}/transitions",
        json={"to": "declined", "note": "Already in the 2027 plan.", "equity_note": EQUITY},
    )
    trail = manager.get(f"/api/v1/ideas/{record_id}/events").json()
    assert [(e["action"], e["to_status"]) for e in trail] == [
        ("transition", "under_review"),
        ("equity_pause", None),
        ("transition", "declined"),
    ]
    assert trail[0]["actor_name"] == "Morgan Manager"
    seen_by_crew = crew.get(f"/api/v1/ideas/{record_id}/events").json()
    assert [e["action"] for e in seen_by_crew] == ["transition", "transition"]
    assert seen_by_crew[-1]["note"] == "Already in the 2027 plan."
    with open_session(write=False) as session:
        texts = list(session.execute(select(Notification.text).order_by(Notification.id)).scalars())
    assert texts == ["Your idea is now: Under review", "Your idea is now: Declined"]


def test_the_first_manager_response_is_timed_once(crew: Any, manager: Any) -> None:
    record_id = submitted_idea(crew)
    assert manager.get(f"/api/v1/ideas/{record_id}").json()["first_response_at"] is None
    assert (
        manager.post(f"/api/v1/ideas/{record_id}/comments", json={"body": "Thanks!"}).status_code
        == 201
    )
    first = manager.get(f"/api/v1/ideas/{record_id}").json()["first_response_at"]
    assert first is not None
    manager.post(f"/api/v1/ideas/{record_id}/transitions", json={"to": "under_review"})
    assert manager.get(f"/api/v1/ideas/{record_id}").json()["first_response_at"] == first


def test_patch_needs_if_match_and_a_stale_version_is_412(crew: Any, manager: Any) -> None:
    record_id = submitted_idea(crew)
    url = f"/api/v1/ideas/{record_id}"
    etag = manager.get(url).headers["etag"]
    assert manager.patch(url, json={"impact": 3}).status_code == 428
    first = manager.patch(url, json={"impact": 3, "effort": 1}, headers={"If-Match": etag})
    assert first.status_code == 200
    assert (first.json()["impact"], first.json()["effort"]) == (3, 1)
    assert first.headers["etag"] != etag
    stale = manager.patch(url, json={"impact": 1}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert manager.get(url).json()["impact"] == 3


def test_a_stale_move_is_412_and_changes_nothing(crew: Any, manager: Any) -> None:
    record_id = submitted_idea(crew)
    etag = manager.get(f"/api/v1/ideas/{record_id}").headers["etag"]
    manager.post(f"/api/v1/ideas/{record_id}/comments", json={"body": "Looking"})
    manager.post(f"/api/v1/ideas/{record_id}/transitions", json={"to": "under_review"})
    late = manager.post(
        f"/api/v1/ideas/{record_id}/transitions",
        json={"to": "declined", "note": "x", "equity_note": EQUITY},
        headers={"If-Match": etag},
    )
    assert late.status_code == 412
    assert manager.get(f"/api/v1/ideas/{record_id}").json()["status"] == "under_review"


@pytest.mark.parametrize(
    "body",
    [{"impact": 0}, {"impact": 4}, {"effort": "high"}, {"owner_id": 999999}, {"status": "shared"}],
)
def test_bad_patches_are_refused_with_the_field_named(
    crew: Any, manager: Any, body: dict[str, Any]
) -> None:
    record_id = submitted_idea(crew)
    url = f"/api/v1/ideas/{record_id}"
    response = manager.patch(url, json=body, headers={"If-Match": '"1"'})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] in body
    assert manager.get(url).json()["version"] == 1


def test_reporters_cannot_triage(crew: Any, staff: Any) -> None:
    record_id = submitted_idea(crew)
    for who in (crew, staff):
        assert (
            who.post(
                f"/api/v1/ideas/{record_id}/transitions", json={"to": "under_review"}
            ).status_code
            == 403
        )
        assert (
            who.post(f"/api/v1/ideas/{record_id}/comments", json={"body": "hi"}).status_code == 403
        )
        assert (
            who.patch(
                f"/api/v1/ideas/{record_id}", json={"impact": 1}, headers={"If-Match": '"1"'}
            ).status_code
            == 403
        )


def test_the_partners_response_reaches_the_crew_member(crew: Any, manager: Any) -> None:
    record_id = new_id()
    crew.post("/api/v1/handovers", json={"id": record_id, **handover_data()})
    url = f"/api/v1/handovers/{record_id}"
    etag = manager.get(url).headers["etag"]
    response = manager.patch(
        url,
        json={"partner_response": "The ED has added a second handover nurse at peak times."},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200
    mine = crew.get("/api/v1/me/submissions").json()["handovers"][0]
    assert mine["partner_response"].startswith("The ED has added")
    assert "second handover nurse" in crew.get("/mine").text


def test_moves_on_unknown_records_are_404(manager: Any) -> None:
    assert (
        manager.post(
            f"/api/v1/ideas/{new_id()}/transitions", json={"to": "under_review"}
        ).status_code
        == 404
    )
    assert (
        manager.post(f"/api/v1/handovers/{new_id()}/comments", json={"body": "x"}).status_code
        == 404
    )


def test_the_submitter_sees_feedback_and_updates_under_mine(crew: Any, manager: Any) -> None:
    record_id = submitted_idea(crew, title="Feedback please")
    manager.post(
        f"/api/v1/ideas/{record_id}/comments", json={"body": "Great idea — we'll trial it."}
    )
    manager.post(f"/api/v1/ideas/{record_id}/transitions", json={"to": "under_review"})
    feedback = crew.get("/api/v1/me/submissions").json()["feedback"][record_id]
    assert [f["text"] for f in feedback] == [
        "Comment: Great idea — we'll trial it.",
        "Moved to Under review.",
    ]
    unread = crew.get("/api/v1/me/notifications").json()
    assert [n["read"] for n in unread] == [False, False]
    page = crew.get("/mine").text
    assert "Latest updates" in page and "Your idea is now: Under review" in page
    assert "we&#39;ll trial it" in page or "we'll trial it" in page
    assert not any(n["read"] for n in crew.get("/api/v1/me/notifications").json())
    assert crew.form("/mine/notifications/read", {}, page="/mine").status_code == 303
    assert all(n["read"] for n in crew.get("/api/v1/me/notifications").json())


def test_internal_notes_never_reach_the_submitter(crew: Any, manager: Any) -> None:
    record_id = submitted_idea(crew)
    manager.post(f"/api/v1/ideas/{record_id}/transitions", json={"to": "under_review"})
    manager.post(
        f"/api/v1/ideas/{record_id}/transitions",
        json={"to": "accepted", "equity_note": "Internal: check the night shift too."},
    )
    etag = manager.get(f"/api/v1/ideas/{record_id}").headers["etag"]
    manager.patch(f"/api/v1/ideas/{record_id}", json={"impact": 2}, headers={"If-Match": etag})
    body = crew.get("/api/v1/me/submissions").json()
    assert "night shift" not in str(body)
    assert "impact" not in str(body["feedback"])
    assert "night shift" not in crew.get("/mine").text
