"""Databases for the fault tests: a fresh SQLite file for every test (always), and the suite's own
PostgreSQL database when the suite runs on PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from api.demo import seed_demo
from api.migrate import upgrade

# What every fault-test server shares: one CSRF key (a session from one server is good on the
# other, as behind a load balancer) and no push worker thread polling beside the test.
SERVER_ENV = {
    "FRONTLINE_SECRET_KEY": "fault-tests-shared-key-0123456789abcdef",
    "FRONTLINE_PUSH_WORKER": "off",
}
PG_ONLY = (
    "PostgreSQL runs when FRONTLINE_TEST_DATABASE_URL names a database (scripts/test sets it for "
    "its second pass); this pass of the suite is on SQLite"
)


def wait_for(condition: Callable[[], bool], deadline: float, what: str) -> None:
    """Poll until `condition` holds; fail at `deadline` (time.monotonic()) naming what never came."""
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo trust, made once and copied for each test."""
    path = tmp_path_factory.mktemp("fault-template") / "frontline.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine) as session:
        seed_demo(session)
        session.commit()
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh copy of the template, in WAL mode as the server keeps it."""
    path = tmp_path / "frontline.db"
    source, target = sqlite3.connect(sqlite_template), sqlite3.connect(path)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        source.close()
        target.close()
    return f"sqlite:///{path}"


@pytest.fixture(params=[pytest.param("sqlite", marks=pytest.mark.sqlite_file), "postgresql"])
def fault_database(request: pytest.FixtureRequest, database_url: str) -> str:
    """SQLite always; PostgreSQL when the suite runs on it. The PostgreSQL one is the suite's own
    test database, migrated by the session fixture and reseeded with the demo trust for this test.
    The SQLite one is a file of its own whichever database the suite runs on: scripts/test's
    PostgreSQL pass leaves it out (marked sqlite_file), as it ran in the SQLite pass."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    if not database_url.startswith("postgresql"):
        pytest.skip(PG_ONLY)
    return database_url
