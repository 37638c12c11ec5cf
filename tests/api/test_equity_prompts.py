"""Equity prompts: "who could be left out" kept with the idea (PID guard included, online and on the
sync path), shown in the Equity Pause, and counted on /measures."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from api.db import open_session
from api.sync.outcome import content_hash
from schemas.ideas import Idea, IdeaIn
from tests.records import idea_data, new_id

EQUITY = "Checked: works for patients who need an interpreter too."
LEFT_OUT = "People who cannot read English leaflets"


def submit(client: Any, **overrides: Any) -> str:
    record_id = new_id()
    response = client.post("/api/v1/ideas", json={"id": record_id, **idea_data(**overrides)})
    assert response.status_code == 201, response.text
    return record_id


def test_the_answer_is_kept_with_the_idea_and_returned(crew: Any, manager: Any) -> None:
    record_id = submit(crew, equity_prompt=LEFT_OUT)
    assert manager.get(f"/api/v1/ideas/{record_id}").json()["equity_prompt"] == LEFT_OUT
    page = manager.get(f"/triage/ideas/{record_id}").text
    assert "Who could be left out" in page and LEFT_OUT in page
    assert "The submitter said who could be left out" in page  # in the Equity Pause


def test_the_idea_form_asks_who_could_be_left_out(crew: Any) -> None:
    page = crew.get("/ideas/new").text
    assert "Who could be left out by this problem or this change?" in page
    assert 'name="equity_prompt"' in page
    record_id = new_id()
    form = {
        "id": record_id,
        "title": "Large-print discharge letters",
        "problem": "Small print is hard to read.",
        "proposal": "Print in 16pt.",
        "aims": str(idea_data()["aims"][0]),
        "team_id": str(idea_data()["team_id"]),
        "show_name": "true",
        "equity_prompt": "People with poor sight",
    }
    assert crew.form("/ideas", form, page="/ideas/new").status_code == 303
    with open_session(write=False) as session:
        idea = session.get(Idea, uuid.UUID(record_id))
        assert idea is not None and idea.equity_prompt == "People with poor sight"


def test_an_nhs_number_in_the_answer_is_refused_naming_the_field(crew: Any) -> None:
    response = crew.post(
        "/api/v1/ideas",
        json={"id": new_id(), **idea_data(equity_prompt="Patient 943 476 5919 for one")},
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "equity_prompt" and "NHS number" in error["message"]
    synced = crew.post(
        "/api/v1/sync",
        json={
            "items": [
                {
                    "kind": "idea",
                    "id": new_id(),
                    "data": idea_data(equity_prompt="943-476-5919"),
                }
            ]
        },
    ).json()["results"][0]
    assert synced["outcome"] == "rejected" and synced["errors"][0]["field"] == "equity_prompt"
    page = crew.form(
        "/ideas",
        {
            "id": new_id(),
            "title": "A title",
            "problem": "p",
            "proposal": "q",
            "aims": str(idea_data()["aims"][0]),
            "team_id": str(idea_data()["team_id"]),
            "equity_prompt": "NHS 9434765919",
        },
        page="/ideas/new",
    )
    assert page.status_code == 422 and 'href="#equity_prompt"' in page.text


def test_too_long_an_answer_gets_the_same_message_as_on_the_phone(crew: Any) -> None:
    response = crew.post(
        "/api/v1/ideas", json={"id": new_id(), **idea_data(equity_prompt="x" * 2001)}
    )
    assert response.status_code == 422
    # web/static/js/form-payload.js says the same offline (tests/js/form_payload.test.js).
    assert response.json()["detail"] == [
        {
            "field": "equity_prompt",
            "message": "Who could be left out must be 2000 characters or fewer",
        }
    ]


def test_an_item_queued_before_the_field_existed_replays_as_a_duplicate(crew: Any) -> None:
    """A phone may hold an idea queued by the previous version; its fingerprint then had no
    equity_prompt or spread_from. Its replay must be a duplicate, not a conflict."""
    record_id = new_id()
    data = idea_data()
    assert crew.post("/api/v1/ideas", json={"id": record_id, **data}).status_code == 201
    old_fingerprint = content_hash(
        IdeaIn.model_validate(data).model_dump(
            mode="json", exclude={"equity_prompt", "spread_from"}
        )
    )
    with open_session(write=True) as session:
        stored = session.get(Idea, uuid.UUID(record_id))
        assert stored is not None and stored.content_hash == old_fingerprint
        session.execute(
            update(Idea).where(Idea.id == uuid.UUID(record_id)).values(content_hash=old_fingerprint)
        )
        session.commit()
    replay = crew.post("/api/v1/ideas", json={"id": record_id, **data})
    assert replay.status_code == 200
    changed = crew.post("/api/v1/ideas", json={"id": record_id, **data, "equity_prompt": LEFT_OUT})
    assert changed.status_code == 409


def test_measures_count_decisions_with_an_equity_pause_answered(crew: Any, manager: Any) -> None:
    first = submit(crew, equity_prompt=LEFT_OUT)
    second = submit(crew)
    submit(crew)
    for record_id in (first, second):
        assert (
            manager.post(
                f"/api/v1/ideas/{record_id}/transitions", json={"to": "under_review"}
            ).status_code
            == 200
        )
    assert (
        manager.post(
            f"/api/v1/ideas/{first}/transitions", json={"to": "accepted", "equity_note": EQUITY}
        ).status_code
        == 200
    )
    assert (
        manager.post(
            f"/api/v1/ideas/{second}/transitions",
            json={"to": "declined", "note": "Not now", "equity_note": EQUITY},
        ).status_code
        == 200
    )
    # Later events elsewhere (a comment, another move) change nothing about these decisions.
    assert (
        manager.post(f"/api/v1/ideas/{first}/comments", json={"body": "Thanks"}).status_code == 201
    )
    third = submit(crew)
    assert (
        manager.post(f"/api/v1/ideas/{third}/transitions", json={"to": "under_review"}).status_code
        == 200
    )
    page = manager.get("/measures").text
    assert "Decisions with an Equity Pause answered" in page
    assert "2 of 2 (100%)" in page
    assert "Ideas that say who could be left out" in page and "1 of 4 (25%)" in page


def test_a_decision_recorded_without_an_answer_counts_as_unanswered(
    crew: Any, manager: Any
) -> None:
    from api.audit.service import record_event
    from schemas.accounts import User
    from schemas.audit import Action, RecordKind

    record_id = submit(crew)
    with open_session(write=True) as session:
        actor = session.execute(
            select(User).where(User.email == "manager@demo.nhs.uk")
        ).scalar_one()
        # A decision from before the Equity Pause existed: a move with no answer beside it.
        record_event(
            session,
            kind=RecordKind.idea,
            record_id=uuid.UUID(record_id),
            actor=actor,
            action=Action.transition,
            submitter_id=actor.id,  # type: ignore[arg-type]
            from_status="under_review",
            to_status="accepted",
        )
        session.commit()
    assert "0 of 1 (0%)" in manager.get("/measures").text
