"""The sync path's own multi-row insert (api/sync/bulk_insert.py) stores exactly what SQLAlchemy's
Core insert stores, answers only the rows it inserted, and runs on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Table, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from api.db import open_session
from api.handovers.records import HANDOVER_KIND
from api.ideas.records import IDEA_KIND
from api.sync import bulk_insert
from api.sync.bulk_insert import insert_rows
from api.sync.kinds import RecordKind, Sender
from schemas.accounts import Aim, Partner, Team, User
from schemas.handovers import HandoverIn
from schemas.ideas import IdeaIn, IdeaWaste
from schemas.record_identity import RecordIdentity

IDENTITY: Table = RecordIdentity.__table__  # type: ignore[attr-defined]
WASTES: Table = IdeaWaste.__table__  # type: ignore[attr-defined]


def _first_ids() -> dict[str, int]:
    with open_session(write=False) as session:
        return {
            "team": session.execute(select(Team.id)).scalars().first(),  # type: ignore[arg-type]
            "aim": session.execute(select(Aim.id)).scalars().first(),  # type: ignore[arg-type]
            "partner": session.execute(select(Partner.id)).scalars().first(),  # type: ignore[arg-type]
            "user": session.execute(select(User.id)).scalars().first(),  # type: ignore[arg-type]
        }


def _idea(ids: dict[str, int]) -> IdeaIn:
    return IdeaIn.model_validate(
        {
            "title": "Café signage – “wayfinding” ✓",
            "problem": "Crews wait at the wrong door\nfor 10 minutes",
            "proposal": "Signs in two languages",
            "wastes": ["waiting", "defects"],
            "aims": [ids["aim"]],
            "team_id": ids["team"],
            "benefits": ["safety"],
            "show_name": False,
            "created_at": "2026-03-29T01:30:00+01:00",
        }
    )


def _handover(ids: dict[str, int]) -> HandoverIn:
    return HandoverIn.model_validate(
        {
            "occurred_at": datetime(2026, 10, 25, 1, 30, tzinfo=timezone(timedelta(hours=1))),
            "partner_id": ids["partner"],
            "journey_type": "admission",
            "categories": ["handover_delay"],
            "delay_minutes": 40,
            "harm": "moderate",
            "narrative": "Waited 40 minutes – no bay free",
        }
    )


def _raw(table: Table, record_id: uuid.UUID) -> dict[str, Any]:
    """The row as the database holds it (a text query: no SQLAlchemy type processing back)."""
    with open_session(write=False) as session:
        bound = table.c.id.type._cached_bind_processor(session.get_bind().dialect)
        key = bound(record_id) if bound else record_id
        columns = ", ".join(c.name for c in table.columns if c.name != "id")
        row = session.execute(
            text(f"SELECT {columns} FROM {table.name} WHERE id = :id"), {"id": key}
        ).one()
        return dict(row._mapping)


def _core_insert(session: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    session.execute(insert.on_conflict_do_nothing(index_elements=["id"]), rows)


@pytest.mark.parametrize(
    ("kind", "record"), [(IDEA_KIND, _idea), (HANDOVER_KIND, _handover)], ids=["idea", "handover"]
)
def test_rows_are_stored_as_a_core_insert_stores_them(kind: RecordKind, record: Any) -> None:
    ids = _first_ids()
    data = record(ids)
    now = datetime(2026, 12, 6, 9, 0, 0, 123456, tzinfo=UTC)
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    with open_session(write=True) as session:
        for record_id in (ours, theirs):
            insert_rows(session, IDENTITY, [{"id": record_id, "kind": kind.name}], returning="id")
        answered = insert_rows(
            session,
            kind.table,
            [kind.to_row(ours, data, Sender(ids["user"], None), "h" * 64, now)],
            returning="id",
        )
        _core_insert(
            session,
            kind.table,
            [kind.to_row(theirs, data, Sender(ids["user"], None), "h" * 64, now)],
        )
        session.commit()
    assert answered == [ours]
    assert _raw(kind.table, ours) == _raw(kind.table, theirs)


def test_only_the_rows_inserted_are_answered_in_every_statement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Three rows a statement: seven rows take three statements, each answering its own.
    monkeypatch.setattr(bulk_insert, "MAX_PARAMETERS", 6)
    held = [uuid.uuid4() for _ in range(3)]
    fresh = [uuid.uuid4() for _ in range(4)]
    with open_session(write=True) as session:
        assert (
            insert_rows(
                session, IDENTITY, [{"id": i, "kind": "idea"} for i in held], returning="id"
            )
            == held
        )
        everything = [held[0], fresh[0], fresh[1], held[1], fresh[2], held[2], fresh[3]]
        answered = insert_rows(
            session, IDENTITY, [{"id": i, "kind": "idea"} for i in everything], returning="id"
        )
        session.commit()
    assert sorted(answered) == sorted(fresh)
    assert all(isinstance(i, uuid.UUID) for i in answered)


def test_one_row_is_answered_only_when_inserted() -> None:
    # One row is a single create's claim and record (on PostgreSQL a plain execute, not the
    # pipelined executemany): a held id answers nothing and stores nothing, a fresh one answers
    # the caller's own value.
    held, fresh = uuid.uuid4(), uuid.uuid4()
    with open_session(write=True) as session:
        assert insert_rows(session, IDENTITY, [{"id": held, "kind": "idea"}], returning="id") == [
            held
        ]
        session.commit()
    with open_session(write=True) as session:
        again = insert_rows(session, IDENTITY, [{"id": held, "kind": "handover"}], returning="id")
        answered = insert_rows(session, IDENTITY, [{"id": fresh, "kind": "idea"}], returning="id")
        session.commit()
    assert again == []
    assert answered == [fresh] and answered[0] is fresh
    assert _raw(IDENTITY, held)["kind"] == "idea"


def test_rows_without_an_answer_skip_any_conflict() -> None:
    ids = _first_ids()
    idea_id = uuid.uuid4()
    row = IDEA_KIND.to_row(
        idea_id, _idea(ids), Sender(ids["user"], None), "h" * 64, datetime.now(UTC)
    )
    with open_session(write=True) as session:
        insert_rows(session, IDENTITY, [{"id": idea_id, "kind": "idea"}], returning="id")
        insert_rows(session, IDEA_KIND.table, [row], returning="id")
        links = [{"idea_id": idea_id, "waste": "waiting"}, {"idea_id": idea_id, "waste": "defects"}]
        assert insert_rows(session, WASTES, links, conflict_on_id=False) == []
        insert_rows(session, WASTES, links[:1], conflict_on_id=False)  # already there: skipped
        session.commit()
    with open_session(write=False) as session:
        stored = session.execute(select(WASTES.c.waste).where(WASTES.c.idea_id == idea_id))
        assert sorted(stored.scalars()) == ["defects", "waiting"]


@pytest.mark.parametrize("most", [30_000, 4], ids=["statements of 4, 2, 1", "two rows a statement"])
def test_rows_without_an_answer_go_in_several_statements_each_stored_once(
    monkeypatch: pytest.MonkeyPatch, most: int
) -> None:
    """Link rows go in as multi-row statements of power-of-two sizes (7 rows: 4 + 2 + 1), or at
    most what the parameter limit allows: every row stored once, one already there skipped."""
    monkeypatch.setattr(bulk_insert, "MAX_PARAMETERS", most)
    ids = _first_ids()
    idea_id = uuid.uuid4()
    row = IDEA_KIND.to_row(
        idea_id, _idea(ids), Sender(ids["user"], None), "h" * 64, datetime.now(UTC)
    )
    wastes = [
        "defects",
        "overproduction",
        "waiting",
        "transport",
        "inventory",
        "motion",
        "inequity",
    ]
    with open_session(write=True) as session:
        insert_rows(session, IDENTITY, [{"id": idea_id, "kind": "idea"}], returning="id")
        insert_rows(session, IDEA_KIND.table, [row], returning="id")
        insert_rows(
            session, WASTES, [{"idea_id": idea_id, "waste": "motion"}], conflict_on_id=False
        )
        links = [{"idea_id": idea_id, "waste": w} for w in wastes]
        assert insert_rows(session, WASTES, links, conflict_on_id=False) == []
        session.commit()
    with open_session(write=False) as session:
        stored = session.execute(select(WASTES.c.waste).where(WASTES.c.idea_id == idea_id))
        assert sorted(stored.scalars()) == sorted(wastes)


def test_statements_for_rows_are_powers_of_two_within_the_limit() -> None:
    assert bulk_insert._chunks(100, 10_000) == [(0, 64), (64, 32), (96, 4)]
    assert bulk_insert._chunks(7, 2) == [(0, 2), (2, 2), (4, 2), (6, 1)]
    assert bulk_insert._chunks(1, 5) == [(0, 1)]
    assert bulk_insert._chunks(0, 5) == []


def test_a_column_with_a_default_must_be_given() -> None:
    ids = _first_ids()
    row = IDEA_KIND.to_row(
        uuid.uuid4(), _idea(ids), Sender(ids["user"], None), "h" * 64, datetime.now(UTC)
    )
    del row["version"]  # a Core insert would fill its default; this insert refuses instead
    with open_session(write=True) as session, pytest.raises(ValueError, match=r"idea\.version"):
        insert_rows(session, IDEA_KIND.table, [row], returning="id")


def test_a_refused_row_raises_as_sqlalchemy_raises_it() -> None:
    # The app answers database faults from SQLAlchemy's exceptions (api/errors.py): the driver's
    # own error must not slip past them as a bare psycopg or sqlite3 one.
    ids = _first_ids()
    row = IDEA_KIND.to_row(
        uuid.uuid4(), _idea(ids), Sender(ids["user"], None), "h" * 64, datetime.now(UTC)
    )
    row["team_id"] = 2**31 - 1  # no such team: the foreign key refuses it
    with open_session(write=True) as session, pytest.raises(IntegrityError):
        insert_rows(session, IDEA_KIND.table, [row], returning="id")
