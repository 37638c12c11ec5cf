"""A single create's claim and record (api/sync/bulk_insert.py::insert_claimed: one statement on
PostgreSQL, a data-modifying CTE; two on SQLite) keep every outcome a record's id can have: created,
a duplicate of the same sender's same record, a conflict for an id another kind, another sender or
other content holds, a refusal that leaves no claim behind, and two sends of one id at once storing
one record (SPEC §5, exactly once)."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Table, func, select, text
from sqlalchemy.exc import DataError

from api.db import get_engine, open_session
from api.handovers.records import HANDOVER_KIND
from api.ideas.records import IDEA_KIND
from api.sync.bulk_insert import insert_claimed
from api.sync.kinds import Sender
from schemas.accounts import User
from schemas.handovers import Handover, HandoverCategory, HandoverIn
from schemas.ideas import Idea, IdeaIn
from schemas.record_identity import RecordIdentity
from tests.records import handover_data, idea_data, new_id

IDENTITY: Table = RecordIdentity.__table__  # type: ignore[attr-defined]
HANDOVERS: Table = Handover.__table__  # type: ignore[attr-defined]
USERS: Table = User.__table__  # type: ignore[attr-defined]


def count(model: Any, record_id: str | None = None) -> int:
    statement = select(func.count()).select_from(model)
    if record_id is not None:
        statement = statement.where(model.id == uuid.UUID(record_id))
    with open_session(write=False) as session:
        return int(session.execute(statement).scalar_one())


# A note and an idea: each single create's path, its table and a valid body.
BOTH_KINDS = pytest.mark.parametrize(
    ("path", "model", "data"),
    [("/api/v1/handovers", Handover, handover_data), ("/api/v1/ideas", Idea, idea_data)],
    ids=["handover", "idea"],
)


def claimed_kind(record_id: str) -> str | None:
    with open_session(write=False) as session:
        return session.execute(
            select(IDENTITY.c.kind).where(IDENTITY.c.id == uuid.UUID(record_id))
        ).scalar_one_or_none()


@BOTH_KINDS
def test_created_then_the_same_is_a_duplicate_and_other_content_a_conflict(
    crew: Any, path: str, model: Any, data: Any
) -> None:
    body = {"id": new_id(), **data()}
    created = crew.post(path, json=body)
    assert created.status_code == 201, created.text
    replay = crew.post(path, json=body)
    assert replay.status_code == 200
    assert replay.json() == created.json()
    changed = crew.post(path, json={**body, "created_at": datetime.now(UTC).isoformat()})
    assert changed.status_code == 409
    assert count(model, body["id"]) == 1
    assert count(RecordIdentity) == 1


def test_an_id_another_kind_holds_is_a_conflict_and_stores_nothing(crew: Any) -> None:
    record_id = new_id()
    assert crew.post("/api/v1/ideas", json={"id": record_id, **idea_data()}).status_code == 201
    clash = crew.post("/api/v1/handovers", json={"id": record_id, **handover_data()})
    assert clash.status_code == 409
    assert count(Handover) == 0 and count(HandoverCategory) == 0
    assert claimed_kind(record_id) == "idea"
    # And the other way round.
    note_id = new_id()
    assert (
        crew.post("/api/v1/handovers", json={"id": note_id, **handover_data()}).status_code == 201
    )
    assert crew.post("/api/v1/ideas", json={"id": note_id, **idea_data()}).status_code == 409
    assert count(Idea) == 1 and claimed_kind(note_id) == "handover"


def test_an_id_another_sender_holds_is_a_conflict(crew: Any, staff: Any) -> None:
    body = {"id": new_id(), **handover_data()}
    assert crew.post("/api/v1/handovers", json=body).status_code == 201
    assert staff.post("/api/v1/handovers", json=body).status_code == 409
    assert count(Handover) == 1


def test_a_refused_reference_leaves_no_claim_and_the_corrected_record_is_stored(
    crew: Any,
) -> None:
    record_id = new_id()
    refused = crew.post(
        "/api/v1/handovers", json={"id": record_id, **handover_data(partner_id=2**31 - 1)}
    )
    assert refused.status_code == 422
    assert count(Handover) == 0 and claimed_kind(record_id) is None
    corrected = crew.post("/api/v1/handovers", json={"id": record_id, **handover_data()})
    assert corrected.status_code == 201


@BOTH_KINDS
def test_the_same_record_sent_twice_at_once_is_stored_once(
    crew: Any, path: str, model: Any, data: Any
) -> None:
    bodies = [{"id": new_id(), **data()} for _ in range(8)]
    for body in bodies:
        start = threading.Barrier(3)

        def send(body: dict[str, Any] = body, start: threading.Barrier = start) -> Any:
            start.wait()
            return crew.post(path, json=body)

        with ThreadPoolExecutor(max_workers=3) as pool:
            answers = [f.result() for f in [pool.submit(send) for _ in range(3)]]
        assert sorted(a.status_code for a in answers) == [200, 200, 201], [a.text for a in answers]
        assert count(model, body["id"]) == 1
    assert count(model) == len(bodies) == count(RecordIdentity)


# insert_claimed on its own: the one statement against a concurrent claim of the same id.


def _postgresql_only() -> None:
    if get_engine().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's one-statement claim; on SQLite the writers take turns whole")


def _first_user() -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(USERS.c.id).order_by(USERS.c.id).limit(1)).scalar_one())


def _note_row(record_id: uuid.UUID, **changes: Any) -> dict[str, Any]:
    user = _first_user()
    data = HandoverIn.model_validate({**handover_data(), **changes})
    return HANDOVER_KIND.to_row(record_id, data, Sender(user, None), "h" * 64, datetime.now(UTC))


def _waiting_on_a_lock() -> bool:
    with get_engine().connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


@pytest.mark.parametrize("first_commits", [True, False], ids=["commits", "rolls-back"])
def test_a_claim_in_flight_holds_back_the_same_id_until_it_ends(first_commits: bool) -> None:
    _postgresql_only()
    record_id = uuid.uuid4()
    claim = {"id": record_id, "kind": "handover"}
    answers: list[bool] = []
    with open_session(write=True) as first:
        assert insert_claimed(first, IDENTITY, claim, HANDOVER_KIND.table, _note_row(record_id))

        def second() -> None:
            row = _note_row(record_id, narrative="Sent again from another tab.")
            with open_session(write=True) as session:
                answers.append(insert_claimed(session, IDENTITY, claim, HANDOVER_KIND.table, row))
                session.commit()

        other = threading.Thread(target=second)
        other.start()
        deadline = time.monotonic() + 10
        while not _waiting_on_a_lock():
            assert time.monotonic() < deadline and other.is_alive(), "the second never waited"
        assert answers == []  # held back by the first claim, not answered
        if first_commits:
            first.commit()
        else:
            first.rollback()
    other.join(10)
    # The first committed: the second stored nothing. It rolled back: the second stored its own.
    assert answers == [not first_commits]
    with open_session(write=False) as session:
        narratives = session.execute(
            select(HANDOVERS.c.narrative).where(HANDOVERS.c.id == record_id)
        ).scalars()
        assert list(narratives) == (
            [handover_data()["narrative"]] if first_commits else ["Sent again from another tab."]
        )


def test_a_value_too_long_for_its_column_is_refused_not_cut_short() -> None:
    _postgresql_only()
    record_id = uuid.uuid4()
    row = _note_row(record_id)
    row["location_detail"] = "x" * 201  # VARCHAR(200): the schema stops it first, the table too
    with open_session(write=True) as session, pytest.raises(DataError):
        insert_claimed(
            session, IDENTITY, {"id": record_id, "kind": "handover"}, HANDOVER_KIND.table, row
        )
    assert count(Handover) == 0 and claimed_kind(str(record_id)) is None


def test_an_idea_stored_in_one_statement_is_the_row_given() -> None:
    record_id = uuid.uuid4()
    user = _first_user()
    data = IdeaIn.model_validate(idea_data(title="Café signage – “wayfinding” ✓"))
    row = IDEA_KIND.to_row(record_id, data, Sender(user, None), "h" * 64, datetime.now(UTC))
    with open_session(write=True) as session:
        claim = {"id": record_id, "kind": "idea"}
        assert insert_claimed(session, IDENTITY, claim, IDEA_KIND.table, row)
        assert not insert_claimed(session, IDENTITY, claim, IDEA_KIND.table, row)
        session.commit()
    with open_session(write=False) as session:
        stored = session.get(Idea, record_id)
        assert stored is not None
        assert {c: getattr(stored, c) for c in row} == row
