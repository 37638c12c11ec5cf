"""The attack suite's fixtures: a real server (`frontline serve`, tests/support/live_server.py) on
127.0.0.1, on SQLite always and on the suite's PostgreSQL database when the suite runs on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

# The fault tests' databases: a fresh migrated SQLite copy with the demo trust for each test, and
# the suite's own PostgreSQL database (reseeded for each test by tests/conftest.py).
from tests.faults.conftest import (  # noqa: F401 - fixtures, registered by import
    SERVER_ENV,
    fault_database,
    sqlite_template,
    sqlite_url,
)
from tests.support.live_server import LiveServer


@pytest.fixture
def start_server(fault_database: str, tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:  # noqa: F811
    """Starts a live server on this test's database with extra settings; stops it afterwards."""
    started: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        server = LiveServer(
            tmp_path / f"server{len(started)}",
            database_url=fault_database,
            env={**SERVER_ENV, **env},
        )
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


def signed_in(server: LiveServer, email: str, password: str, *, timeout: float) -> httpx.Client:
    """A client signed in through the sign-in form, with its CSRF token as a header for the API."""
    client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=timeout)
    page = client.get("/login").text
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    client.headers["X-CSRF-Token"] = client.get("/api/v1/me").json()["csrf_token"]
    return client
