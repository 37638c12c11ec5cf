"""A request holds at most one pooled database connection at a time. One that held a connection
while waiting for a second could, with enough such requests at once, take the whole pool and wait
on itself until the pool gave up (500s for everyone): bench/load.py found that when a crowd of
phones came back after more than a minute, all needing their sessions' last-seen time refreshed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import anyio.to_thread
import httpx
import pytest
from sqlalchemy import Engine, create_engine, event, update
from sqlalchemy.engine import make_url

import api.db
from api.db import _configure_sqlite, get_engine, open_session
from schemas.accounts import UserSession
from schemas.timestamps import utcnow
from tests.conftest import Client
from tests.records import handover_data, new_id


class Held:
    """How many connections are out of the pool now, and the most at any moment."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    def checkout(self, *_: Any) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def checkin(self, *_: Any) -> None:
        self.now -= 1

    def reset(self) -> None:
        self.most = self.now


@pytest.fixture
def held() -> Iterator[Held]:
    engine = get_engine()
    engine.pool.dispose()  # start with nothing checked out: the count begins at zero
    counter = Held()
    event.listen(engine, "checkout", counter.checkout)
    event.listen(engine, "checkin", counter.checkin)
    yield counter
    event.remove(engine, "checkout", counter.checkout)
    event.remove(engine, "checkin", counter.checkin)


def idle_for_a_while() -> None:
    """Every session last seen five minutes ago: the next request refreshes it."""
    with open_session(write=True) as session:
        session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
        session.commit()


@pytest.mark.parametrize("path", ["/api/v1/reference", "/mine", "/api/v1/me"])
def test_a_reading_request_that_refreshes_its_session_uses_one_connection_at_a_time(
    crew: Client, held: Held, path: str
) -> None:
    idle_for_a_while()
    held.reset()

    assert crew.get(path).status_code == 200

    assert held.most == 1


def test_a_writing_request_that_refreshes_its_session_uses_one_connection_at_a_time(
    crew: Client, held: Held
) -> None:
    idle_for_a_while()
    held.reset()

    body = {"items": [{"kind": "handover", "id": new_id(), "data": handover_data()}]}
    answer = crew.post("/api/v1/sync", json=body)

    assert answer.status_code == 200
    assert answer.json()["results"][0]["outcome"] == "created"
    assert held.most == 1


def small_engine(url: str) -> Engine:
    """The app's engine, but with one pooled connection and a short wait for it."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=1,
            max_overflow=0,
            pool_timeout=5,
        )
        _configure_sqlite(engine, "FULL")
        return engine
    return create_engine(url, pool_size=1, max_overflow=0, pool_timeout=5)


def test_a_crowd_larger_than_the_pool_and_the_threads_gets_answers_not_a_deadlock(
    app: Any, crew: Client, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two worker threads, one connection, six requests at once. A request that held the
    connection while it waited for a thread (to run the route after its sign-in check, or to
    serialise the answer) could find both threads taken by requests waiting for that connection:
    each side waited for the other until the pool gave up."""
    engine = small_engine(database_url)
    monkeypatch.setattr(api.db, "get_engine", lambda: engine)

    async def crowd() -> list[int]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=crew.http.cookies
        ) as client:
            answers = await asyncio.gather(*(client.get("/api/v1/me") for _ in range(6)))
        return [a.status_code for a in answers]

    try:
        # A loop of its own: the session may already run one (Playwright's sync API does).
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(asyncio.run, crowd()).result() == [200] * 6
    finally:
        engine.dispose()
