"""A full or read-only database: sync answers a plain 503 with Retry-After and acknowledges nothing,
a form shows a plain error page, nothing of a batch is half-written, and once the fault is gone the
same batch, sent again, is stored exactly once. One handler decides this: api/errors.py."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from api.config import get_settings
from api.db import get_engine
from api.errors import database_fault
from api.main import create_app
from tests.conftest import Client
from tests.faults.conftest import PG_ONLY
from tests.faults.store import Holdings, expected_holdings, holdings, sqlite_checks, sqlite_path
from tests.records import handover_data, reference_ids

NONE_STORED = Holdings(ideas=0, handovers=0, links=0, search_rows=0)
LONG_NARRATIVE = "Waited in the corridor with the patient before a nurse took handover. " * 50


@pytest.fixture
def serve_from(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Call it with a database URL and the app in this process uses that database from then on."""

    def point(url: str) -> None:
        get_engine().dispose()
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        get_engine.cache_clear()

    yield point
    get_engine().dispose()
    monkeypatch.undo()
    get_settings.cache_clear()
    get_engine.cache_clear()


class FaultLog(logging.Handler):
    """The driver's names for the faults the server logged: proof the 503 came from the intended
    fault and not from some other one."""

    def __init__(self) -> None:
        super().__init__()
        self.faults: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "event", None) == "db_unavailable":
            self.faults.append(str(getattr(record, "error", "")))


@pytest.fixture
def fault_log() -> Iterator[Callable[[], FaultLog]]:
    """Call it once the app exists (create_app sets the log handlers afresh)."""
    logger = logging.getLogger("frontline")
    handler = FaultLog()

    def attach() -> FaultLog:
        logger.addHandler(handler)
        return handler

    yield attach
    logger.removeHandler(handler)


def batch_of(count: int, **overrides: Any) -> list[dict[str, Any]]:
    return [
        {"kind": "handover", "id": str(uuid.uuid4()), "data": handover_data(**overrides)}
        for _ in range(count)
    ]


def assert_refused_plainly(response: Any) -> None:
    """503, come back later, no acknowledgement and nothing of the database's own words."""
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert response.json() == {
        "detail": "The service is unavailable. Your work is safe; try again shortly."
    }
    for leak in ("Traceback", "sqlite", "psycopg", "SQLSTATE", "read-only", "full"):
        assert leak not in response.text


def assert_plain_error_page(response: Any) -> None:
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "Service unavailable" in response.text
    assert "Traceback" not in response.text and "sqlite3" not in response.text


def handover_form() -> dict[str, Any]:
    """The no-JavaScript form, filled in as a crew member would."""
    return {
        "id": str(uuid.uuid4()),
        "occurred_at": "2026-11-20T09:15",
        "partner_id": str(reference_ids()["partners"][0]),
        "journey_type": "discharge",
        "categories": ["patient_not_ready"],
        "harm": "none",
        "narrative": "Patient was not ready; discharge letter missing.",
    }


def test_a_full_sqlite_database_refuses_the_batch_whole_and_takes_it_once_space_is_back(
    serve_from: Callable[[str], None], sqlite_url: str, fault_log: Callable[[], FaultLog]
) -> None:
    serve_from(sqlite_url)
    crew = Client(create_app()).sign_in("crew@demo.nhs.uk")
    log = fault_log()
    engine = get_engine()
    with engine.connect() as connection:
        pages = int(connection.execute(text("PRAGMA page_count")).scalar_one())

    def cap_size(dbapi_connection: Any, _record: Any) -> None:
        # Room for a few records and no more: the database file cannot grow past this.
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 40}")

    engine.dispose()
    event.listen(engine, "connect", cap_size)
    try:
        small = batch_of(1, narrative=LONG_NARRATIVE)
        answer = crew.post("/api/v1/sync", json={"items": small})
        assert answer.json()["results"][0]["outcome"] == "created"
        # A hundred of them do not fit: the database fills part-way through the batch.
        batch = batch_of(100, narrative=LONG_NARRATIVE)
        assert_refused_plainly(crew.post("/api/v1/sync", json={"items": batch}))
        assert log.faults == ["SQLITE_FULL"]
        ids = [item["id"] for item in batch]
        assert holdings(sqlite_url, ids) == NONE_STORED
    finally:
        event.remove(engine, "connect", cap_size)
        engine.dispose()

    retried = crew.post("/api/v1/sync", json={"items": batch})
    assert retried.status_code == 200
    assert {r["outcome"] for r in retried.json()["results"]} == {"created"}
    assert holdings(sqlite_url, ids) == expected_holdings(batch, sqlite=True)
    path = sqlite_path(sqlite_url)
    assert path is not None and sqlite_checks(path) == []


def test_a_read_only_sqlite_file_refuses_writes_plainly_and_stores_nothing(
    serve_from: Callable[[str], None], sqlite_url: str, fault_log: Callable[[], FaultLog]
) -> None:
    serve_from(sqlite_url)
    crew = Client(create_app()).sign_in("crew@demo.nhs.uk")
    log = fault_log()
    batch = batch_of(20)
    # The same file, opened read-only (a read-only mount, a file the service may not write).
    serve_from(f"sqlite:///file:{sqlite_path(sqlite_url)}?mode=ro&uri=true")

    assert_refused_plainly(crew.post("/api/v1/sync", json={"items": batch}))
    page = crew.form("/handovers", handover_form(), page="/handovers/new")
    assert_plain_error_page(page)
    assert log.faults == ["SQLITE_READONLY", "SQLITE_READONLY"]

    serve_from(sqlite_url)
    retried = crew.post("/api/v1/sync", json={"items": batch})
    assert {r["outcome"] for r in retried.json()["results"]} == {"created"}
    assert holdings(sqlite_url, [i["id"] for i in batch]) == expected_holdings(batch, sqlite=True)


def test_a_read_only_postgresql_refuses_writes_plainly_and_healthz_says_so(
    serve_from: Callable[[str], None],
    database_url: str,
    crew: Client,
    fault_log: Callable[[], FaultLog],
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip(PG_ONLY)
    log = fault_log()
    batch = batch_of(20)
    # Every new connection read-only, as on a standby after a failover or with
    # ALTER DATABASE … SET default_transaction_read_only = on (here only for this app's engine).
    read_only = make_url(database_url).update_query_dict(
        {"options": "-c default_transaction_read_only=on"}
    )
    serve_from(read_only.render_as_string(hide_password=False))

    assert_refused_plainly(crew.post("/api/v1/sync", json={"items": batch}))
    page = crew.form("/handovers", handover_form(), page="/handovers/new")
    assert_plain_error_page(page)
    assert log.faults == ["ReadOnlySqlTransaction", "ReadOnlySqlTransaction"]
    health = crew.get("/healthz")
    assert (health.status_code, health.json()) == (503, {"status": "unavailable"})

    serve_from(database_url)
    assert crew.get("/healthz").status_code == 200
    retried = crew.post("/api/v1/sync", json={"items": batch})
    assert {r["outcome"] for r in retried.json()["results"]} == {"created"}
    assert holdings(database_url, [i["id"] for i in batch]) == expected_holdings(
        batch, sqlite=False
    )


@pytest.mark.parametrize(
    ("error", "fault"),
    [
        (psycopg.errors.DiskFull("could not extend file"), "DiskFull"),
        (psycopg.errors.ReadOnlySqlTransaction("read-only transaction"), "ReadOnlySqlTransaction"),
        (psycopg.errors.AdminShutdown("terminating connection"), "AdminShutdown"),
        (psycopg.errors.DeadlockDetected("deadlock detected"), "DeadlockDetected"),
        (psycopg.OperationalError("connection refused"), "OperationalError"),
        (psycopg.errors.UniqueViolation("duplicate key"), None),
        (psycopg.errors.UndefinedColumn("column does not exist"), None),
    ],
)
def test_only_faults_of_the_database_itself_become_503(
    error: psycopg.Error, fault: str | None
) -> None:
    """PostgreSQL's full disk cannot be made here; its error is classed like the faults above.
    Errors that mean a bug of ours stay a 500, so they are not hidden among outages."""
    wrapped = DBAPIError.instance("INSERT …", {}, error, psycopg.Error)
    assert database_fault(wrapped) == fault


def test_a_database_error_that_is_a_bug_stays_a_plain_500() -> None:
    app = create_app()  # of its own: the route added below is not the product's

    def broken() -> None:
        raise DBAPIError.instance(
            "INSERT …", {}, psycopg.errors.UniqueViolation("duplicate key"), psycopg.Error
        )

    app.add_api_route("/api/v1/broken", broken)
    response = TestClient(app, raise_server_exceptions=False).get("/api/v1/broken")
    assert response.status_code == 500
    assert "retry-after" not in response.headers
    assert "duplicate key" not in response.text
