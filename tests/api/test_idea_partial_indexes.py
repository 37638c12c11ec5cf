"""Migration 0017 made four indexes on `idea` partial (only the ideas whose owner, impact rating,
spread-from or partner is set): each query that reads them must still be able to, on SQLite and
PostgreSQL. The app's own statements are captured as it runs them and each is EXPLAINed with its
own parameters; every count must name its index. (A query on a NULL could not; none is made.)
A page in a sort order may walk the sort's index instead, by the planner's estimate, as it could
before; its WHERE is the count's.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, text

from api.db import get_engine, open_session
from api.ideas.service import IdeaFilters, count_ideas
from api.learning.service import tried_in_teams
from api.triage.service import impact_effort_matrix
from schemas.accounts import User
from schemas.enums import Role


@contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent to the database meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def listen(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def plan(statement: str, parameters: Any) -> str:
    """The database's plan for the statement as the app sent it. PostgreSQL, with its few demo
    rows, would rather read the table: told not to, it shows whether the index can serve."""
    with open_session(write=False) as session:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            return "\n".join(str(r[0]) for r in rows)
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return "\n".join(str(r[-1]) for r in rows)


def index_definition(name: str) -> str:
    """An index of `idea` as the database holds it (its CREATE INDEX statement)."""
    with open_session(write=False) as session:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            found = "SELECT indexdef FROM pg_indexes WHERE tablename = 'idea' AND indexname = :n"
        else:
            found = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n"
        return str(session.execute(text(found), {"n": name}).scalar_one())


def _manager() -> User:
    with open_session(write=False) as session:
        return next(
            u for u in session.execute(select(User)).scalars() if u.role == Role.manager.value
        )


def _owner_count(manager: User) -> None:
    with open_session(write=False) as session:
        count_ideas(session, IdeaFilters(owner_id=manager.id, open_only=True))


def _matrix(manager: User) -> None:
    with open_session(write=False) as session:
        impact_effort_matrix(session, manager)


def _tried(_: User) -> None:
    with open_session(write=False) as session:
        tried_in_teams(session, [uuid.uuid4(), uuid.uuid4()])


@pytest.mark.parametrize(
    ("run", "column", "index"),
    [
        (_owner_count, "owner_id", "ix_idea_owner_status"),
        (_matrix, "impact", "ix_idea_impact_effort"),
        (_tried, "spread_from", "ix_idea_spread_from"),
    ],
    ids=["owner count", "impact-effort matrix", "tried in teams"],
)
def test_each_query_on_a_set_column_reads_its_partial_index(
    run: Callable[[User], None], column: str, index: str
) -> None:
    manager = _manager()
    with statements() as seen:
        run(manager)
    on_column = [
        (s, p) for s, p in seen if f"idea.{column}" in s and "FROM idea" in s and "count(" in s
    ]
    assert on_column, f"no statement on idea.{column}"
    for statement, parameters in on_column:
        assert index in plan(statement, parameters), statement


@pytest.mark.parametrize(
    ("index", "column"),
    [
        ("ix_idea_owner_status", "owner_id"),
        ("ix_idea_impact_effort", "impact"),
        ("ix_idea_spread_from", "spread_from"),
        ("ix_idea_partner_id", "partner_id"),
    ],
)
def test_the_migrated_index_holds_only_ideas_whose_column_is_set(index: str, column: str) -> None:
    """A fresh idea (no owner, rating, source or partner) adds no entry to any of the four."""
    definition = index_definition(index)
    assert definition.replace("(", "").replace(")", "").endswith(f"WHERE {column} IS NOT NULL")
