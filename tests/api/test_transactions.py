"""An answer is sent only after its transaction has committed: a phone deletes its copy on "created",
and a browser follows the sign-in redirect at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session as OrmSession

from api.db import get_engine
from tests.conftest import DEMO_PASSWORDS, Client
from tests.records import handover_data, new_id


class Order:
    def __init__(self) -> None:
        self.events: list[str] = []


def recording(app: Any, order: Order) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                order.events.append("response")
            await send(message)

        await app(scope, receive, watch)

    return wrapped


@pytest.fixture
def order(monkeypatch: pytest.MonkeyPatch) -> Any:
    seen = Order()

    def after_commit(_session: Any) -> None:
        seen.events.append("commit")

    event.listen(OrmSession, "after_commit", after_commit)
    yield seen
    event.remove(OrmSession, "after_commit", after_commit)


def test_a_sync_answer_follows_its_commit(app: Any, crew: Any, order: Order) -> None:
    client = Client(recording(app, order))
    client.http.cookies = crew.http.cookies
    client.csrf = crew.csrf
    order.events.clear()
    body = {"items": [{"kind": "handover", "id": new_id(), "data": handover_data()}]}
    assert client.post("/api/v1/sync", json=body).status_code == 200
    assert order.events.index("commit") < order.events.index("response")


def test_the_sign_in_redirect_follows_the_new_session_commit(app: Any, order: Order) -> None:
    client = Client(recording(app, order))
    token = client.page_token("/login")
    order.events.clear()
    email = "crew@demo.nhs.uk"
    response = client.http.post(
        "/login", data={"email": email, "password": DEMO_PASSWORDS[email], "csrf_token": token}
    )
    assert response.status_code == 303
    assert order.events.index("commit") < order.events.index("response")


REFUSED_BEFORE_WRITING: dict[str, Callable[[], dict[str, Any]]] = {
    "an id that is not a UUID": lambda: {
        "kind": "handover",
        "id": "not-a-uuid",
        "data": handover_data(),
    },
    # Refused by the reference check, which reads outside the write transaction (issue 16).
    "a partner organisation that does not exist": lambda: {
        "kind": "handover",
        "id": new_id(),
        "data": handover_data(partner_id=2_000_000_000),
    },
}


@pytest.mark.parametrize("why", list(REFUSED_BEFORE_WRITING))
def test_a_writer_queues_for_the_sqlite_write_lock_only_when_it_writes(
    crew: Client, why: str
) -> None:
    """Checking and refusing happen outside the write lock: with another process holding SQLite's
    write lock, a batch of only refused items is still answered, and nothing is acknowledged."""
    engine = get_engine()
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has no database-wide write lock to hold")
    answers: list[Any] = []
    blocker = engine.raw_connection()
    try:
        blocker.cursor().execute("BEGIN IMMEDIATE")
        body = {"items": [REFUSED_BEFORE_WRITING[why]()]}
        sender = threading.Thread(
            target=lambda: answers.append(crew.post("/api/v1/sync", json=body)), daemon=True
        )
        sender.start()
        sender.join(timeout=20)
        answered_while_locked = not sender.is_alive()
    finally:
        blocker.cursor().execute("ROLLBACK")
        blocker.close()
    sender.join(timeout=60)
    assert answered_while_locked, "a batch with nothing to store waited for the write lock"
    assert answers[0].status_code == 200
    assert [r["outcome"] for r in answers[0].json()["results"]] == ["rejected"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM handover")).scalar_one() == 0
