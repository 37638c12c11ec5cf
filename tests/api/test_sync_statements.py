"""What a sync batch sends PostgreSQL, counted at the driver (psycopg): every statement is a round
trip there, so a batch's rows go in as few statements as can be, each sent as it was compiled
(issue 16, docs/performance.md "Sixth pass"). What is stored and answered is held by
tests/api/test_sync.py and tests/api/test_bulk_insert.py on both databases."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from api.db import get_engine, open_session
from schemas.ideas import Idea, IdeaAim, IdeaWaste
from schemas.record_identity import RecordIdentity
from tests.records import handover_data, idea_data, new_id

INSERT_INTO = re.compile(r"^\s*INSERT INTO (\w+)", re.IGNORECASE)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, str]]]:
    """(how, table, cursor class) of every INSERT the app's threads send through psycopg."""
    if get_engine().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: its statements are round trips and psycopg parses them")
    import psycopg

    statements: list[tuple[str, str, str]] = []
    execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

    def note(how: str, cursor: Any, query: Any) -> None:
        text = query.decode() if isinstance(query, bytes) else str(query)
        if match := INSERT_INTO.match(text):
            statements.append((how, match.group(1), type(cursor).__name__))

    def counted_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        note("execute", self, query)
        return execute(self, query, *args, **kwargs)

    def counted_executemany(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        note("executemany", self, query)
        return executemany(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted_execute)
    monkeypatch.setattr(psycopg.Cursor, "executemany", counted_executemany)
    yield statements


def _count(model: Any) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _sync(crew: Any, items: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    body = {"items": [{"kind": k, "id": i, "data": d} for k, i, d in items]}
    response = crew.post("/api/v1/sync", json=body)
    assert response.status_code == 200, response.text
    return [r["outcome"] for r in response.json()["results"]]


def test_a_batch_of_25_ideas_is_one_statement_a_table(
    crew: Any, sent: list[tuple[str, str, str]]
) -> None:
    """25 ideas, each with two aims and two wastes: the claims, the ideas, the aims and the wastes
    one statement each (four round trips; a pipelined statement a row and power-of-two link
    statements were twelve), on psycopg's raw cursor (the statement's own `$n` placeholders,
    which psycopg does not parse again on every execution)."""
    items = [("idea", new_id(), idea_data()) for _ in range(25)]
    assert _sync(crew, items) == ["created"] * 25
    inserts = Counter(table for _, table, _ in sent)
    assert inserts == {"record_identity": 1, "idea": 1, "idea_aim": 1, "idea_waste": 1}
    assert {how for how, _, _ in sent} == {"execute"}
    assert {cursor for _, _, cursor in sent} == {"RawCursor"}
    # Each stored once, with its links.
    assert _count(Idea) == 25 and _count(RecordIdentity) == 25
    assert _count(IdeaAim) == 50 and _count(IdeaWaste) == 50


def test_a_batch_of_100_goes_in_statements_of_at_most_64_rows(
    crew: Any, sent: list[tuple[str, str, str]]
) -> None:
    items = [("handover", new_id(), handover_data()) for _ in range(100)]
    assert _sync(crew, items) == ["created"] * 100
    inserts = Counter(table for _, table, _ in sent)
    # 64 + 36 rows: two statements a table.
    assert inserts == {"record_identity": 2, "handover": 2, "handover_category": 2}
    # Sent again: every one a replay, nothing inserted (the claims find every id held).
    sent.clear()
    assert _sync(crew, items) == ["duplicate"] * 100
    assert Counter(table for _, table, _ in sent) == {"record_identity": 2}
