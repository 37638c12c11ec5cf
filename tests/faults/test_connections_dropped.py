"""PostgreSQL ends the app's pooled connections (a restart, a fail-over, an operator's
pg_terminate_backend) between requests. The pool no longer pings every connection before a request
uses it (issue 16, api/db.py::_check_on_checkout): it pings one that has been idle a while or whose
socket has something to read, which is what a server ending a session leaves there. So the next
requests are answered as if nothing happened; and when a connection is lost without a word (the
server's host gone), the one request that meets it is answered 503 with Retry-After, nothing is
stored, and the same item sent again under the same id is stored once (E15)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.pool import NullPool

import api.db
from api.db import get_engine
from schemas.handovers import Handover
from tests.faults.conftest import PG_ONLY
from tests.records import handover_data, idea_data, new_id

HANDOVERS = Handover.__table__  # type: ignore[attr-defined]


@pytest.fixture
def operator(database_url: str) -> Iterator[Engine]:
    """A second way into the database, outside the app's pool: the operator's psql."""
    if not database_url.startswith("postgresql"):
        pytest.skip(f"{PG_ONLY}. SQLite has no server to end a connection (its pool is unchanged).")
    # Autocommit: pg_stat_activity is read once a transaction, and the waiting below re-reads it.
    engine = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _pool_several_connections(count: int = 3) -> None:
    """Connections in the app's pool, checked out at once so that there are several, then given
    back (idle, as between requests)."""
    held = [get_engine().connect() for _ in range(count)]
    for connection in held:
        connection.execute(text("SELECT 1"))
    for connection in held:
        connection.close()


def _end_the_apps_connections(operator: Engine) -> set[int]:
    """pg_terminate_backend for every other session on this database, waited for until gone."""
    mine = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with operator.connect() as connection:
        ended = set(connection.execute(text(mine)).scalars())
        assert ended, "the app holds no connection to end"
        for pid in ended:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        deadline = time.monotonic() + 10
        while set(connection.execute(text(mine)).scalars()) & ended:
            assert time.monotonic() < deadline, "the sessions were not ended"
            time.sleep(0.01)
    return ended


def _stored(record_id: str) -> int:
    with get_engine().connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(HANDOVERS)
                .where(HANDOVERS.c.id == uuid.UUID(record_id))
            ).scalar_one()
        )


def test_the_next_requests_after_the_server_ended_every_connection_are_answered(
    crew: Any, staff: Any, operator: Engine
) -> None:
    first = new_id()
    assert crew.post("/api/v1/handovers", json={"id": first, **handover_data()}).status_code == 201
    notes = [{"id": new_id(), **handover_data()} for _ in range(4)]
    idea = {"id": new_id(), **idea_data()}
    batch = {"items": [{"kind": "handover", "id": new_id(), "data": handover_data()}]}
    _pool_several_connections()
    _end_the_apps_connections(operator)

    # Every request after it is answered as before: no 503 on any of them.
    for note in notes:
        answer = crew.post("/api/v1/handovers", json=note)
        assert answer.status_code == 201, answer.text
    assert staff.post("/api/v1/ideas", json=idea).status_code == 201
    answer = crew.post("/api/v1/sync", json=batch)
    assert answer.status_code == 200 and answer.json()["results"][0]["outcome"] == "created"
    assert crew.get(f"/api/v1/handovers/{first}").status_code == 200
    assert all(_stored(record_id) == 1 for record_id in [first, *(n["id"] for n in notes)])


def test_a_connection_idle_longer_than_the_limit_is_pinged_and_replaced(
    crew: Any, operator: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the server's goodbye never arrived (a firewall dropped an idle connection): only the
    # time it has been idle gets it pinged.
    monkeypatch.setattr(api.db, "_spoken_to", lambda _connection: False)
    monkeypatch.setattr(api.db, "PING_AFTER_IDLE_SECONDS", 0.0)
    record_id = new_id()
    body = {"id": record_id, **handover_data()}
    _pool_several_connections()
    _end_the_apps_connections(operator)
    answer = crew.post("/api/v1/handovers", json=body)
    assert answer.status_code == 201, answer.text
    assert _stored(record_id) == 1


def test_a_connection_lost_without_a_word_fails_one_request_whose_retry_is_stored_once(
    crew: Any, operator: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lost within the idle limit and without a word: nothing on checkout can tell.
    monkeypatch.setattr(api.db, "_spoken_to", lambda _connection: False)
    record_id, later = new_id(), new_id()
    body, other = {"id": record_id, **handover_data()}, {"id": later, **handover_data()}
    _pool_several_connections()
    _end_the_apps_connections(operator)

    failed = crew.post("/api/v1/handovers", json=body)
    assert failed.status_code == 503
    assert failed.headers["retry-after"]
    assert set(failed.json()) == {"detail"}
    assert "psycopg" not in failed.text and "Traceback" not in failed.text
    assert _stored(record_id) == 0  # nothing acknowledged, nothing stored

    # That failure retired every connection pooled before it: the phone's retry, under the same
    # id, is stored once, and a second retry is a replay of it.
    retry = crew.post("/api/v1/handovers", json=body)
    assert retry.status_code == 201, retry.text
    replay = crew.post("/api/v1/handovers", json=body)
    assert replay.status_code == 200, replay.text
    assert replay.json() == retry.json()
    assert _stored(record_id) == 1
    assert crew.post("/api/v1/handovers", json=other).status_code == 201
