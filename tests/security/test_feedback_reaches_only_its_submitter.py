"""Issue #10, finding 2 (medium): a record id names one record of one kind. Ids leak (an idea's
`duplicate_of`), and a reporter who sent a handover note under the id of someone else's idea used to
read the manager's comments and the decline reason meant for that idea's submitter under /mine.
Now the id is claimed across kinds in the database (schemas/record_identity.py, 409 / `conflict`),
and feedback is chosen by kind and by the reader's own records (api/reference/mine.py). These run
in process on the suite's database: SQLite, and PostgreSQL in its second pass."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import insert, select

from api.db import open_session
from api.handovers.records import HANDOVER_KIND
from api.sync.kinds import Sender
from api.sync.outcome import content_hash
from schemas.accounts import User
from schemas.handovers import Handover
from schemas.ideas import Idea
from tests.records import handover_data, idea_data, new_id

SECRET_COMMENT = "Only for the submitter: the ward sister asked me to thank you."
EQUITY = "Yes; checked with the ward's interpreters that nobody is left out."
SECRET_REASON = "Declined: this repeats the trolley pilot the submitter already ran."


def idea_with_feedback(staff: Any, manager: Any) -> str:
    """Staff submit an idea; a manager comments on it and declines it with a reason."""
    idea_id = new_id()
    assert staff.post("/api/v1/ideas", json={"id": idea_id, **idea_data()}).status_code == 201
    comment = manager.post(f"/api/v1/ideas/{idea_id}/comments", json={"body": SECRET_COMMENT})
    assert comment.status_code in (200, 201), comment.text
    declined = manager.post(
        f"/api/v1/ideas/{idea_id}/transitions",
        json={"to": "declined", "note": SECRET_REASON, "equity_note": EQUITY},
    )
    assert declined.status_code == 200, declined.text
    return idea_id


def shows_no_one_elses_feedback(client: Any) -> None:
    api = client.get("/api/v1/me/submissions").json()
    assert SECRET_COMMENT not in str(api["feedback"]) and SECRET_REASON not in str(api["feedback"])
    page = client.get("/mine").text
    assert SECRET_COMMENT not in page and "trolley pilot" not in page


def test_a_handover_note_with_someone_elses_idea_id_is_a_conflict(
    crew: Any, staff: Any, manager: Any
) -> None:
    idea_id = idea_with_feedback(staff, manager)

    single = crew.post("/api/v1/handovers", json={"id": idea_id, **handover_data()})
    synced = crew.post(
        "/api/v1/sync",
        json={"items": [{"kind": "handover", "id": idea_id, "data": handover_data()}]},
    )
    form = crew.form(
        "/handovers",
        {
            "id": idea_id,
            **{k: v for k, v in handover_data().items() if k != "categories"},
            "categories": "handover_delay",
        },
        page="/handovers/new",
    )

    assert single.status_code == 409
    assert synced.json()["results"][0]["outcome"] == "conflict"
    assert form.status_code == 409
    with open_session(write=False) as session:
        assert session.get(Handover, uuid.UUID(idea_id)) is None
    shows_no_one_elses_feedback(crew)
    # The idea's own submitter still reads it all.
    assert SECRET_COMMENT in str(staff.get("/api/v1/me/submissions").json()["feedback"][idea_id])


def test_an_idea_with_someone_elses_handover_id_is_a_conflict(crew: Any, staff: Any) -> None:
    note_id = new_id()
    assert (
        crew.post("/api/v1/handovers", json={"id": note_id, **handover_data()}).status_code == 201
    )

    assert staff.post("/api/v1/ideas", json={"id": note_id, **idea_data()}).status_code == 409
    with open_session(write=False) as session:
        assert session.get(Idea, uuid.UUID(note_id)) is None


def test_one_batch_naming_one_id_as_an_idea_and_a_note_stores_one_of_them(crew: Any) -> None:
    shared = new_id()
    results = crew.post(
        "/api/v1/sync",
        json={
            "items": [
                {"kind": "idea", "id": shared, "data": idea_data()},
                {"kind": "handover", "id": shared, "data": handover_data()},
            ]
        },
    ).json()["results"]
    assert sorted(r["outcome"] for r in results) == ["conflict", "created"]


def test_the_same_id_sent_as_both_kinds_at_once_is_stored_once(crew: Any, staff: Any) -> None:
    """Two requests racing for one id, one as an idea and one as a note: the database decides."""
    for _ in range(5):
        shared = new_id()
        with ThreadPoolExecutor(2) as pool:
            idea = pool.submit(staff.post, "/api/v1/ideas", json={"id": shared, **idea_data()})
            note = pool.submit(
                crew.post, "/api/v1/handovers", json={"id": shared, **handover_data()}
            )
            statuses = sorted([idea.result().status_code, note.result().status_code])
        assert statuses == [201, 409]
        with open_session(write=False) as session:
            stored = [
                session.get(Idea, uuid.UUID(shared)),
                session.get(Handover, uuid.UUID(shared)),
            ]
        assert sum(r is not None for r in stored) == 1


def test_mine_matches_feedback_by_kind_even_where_an_old_clash_is_stored(
    crew: Any, staff: Any, manager: Any
) -> None:
    """A database from before the fix may already hold a note under an idea's id (the migration
    keeps it): the feedback of the idea still never reaches the note's reporter."""
    idea_id = idea_with_feedback(staff, manager)
    with open_session(write=True) as session:
        crew_id = session.execute(select(User.id).where(User.email == "crew@demo.nhs.uk")).scalar()
        data = HANDOVER_KIND.model.model_validate(handover_data())
        row = HANDOVER_KIND.to_row(
            uuid.UUID(idea_id),
            data,
            Sender(crew_id, None),
            content_hash(data.model_dump(mode="json")),
            Handover.model_fields["received_at"].default_factory(),  # type: ignore[misc]
        )
        session.execute(insert(Handover), [row])  # as the old schema allowed: no identity row
        session.commit()

    mine = crew.get("/api/v1/me/submissions").json()
    assert [n["id"] for n in mine["handovers"]] == [idea_id]
    shows_no_one_elses_feedback(crew)
