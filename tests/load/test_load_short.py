"""A short load run in the suite: phones and managers at once against a real server (`frontline
serve` in a child process) on the suite's own database, SQLite or PostgreSQL. It asserts no
errors and exactly-once storage, never timings (bench/load.py is the long run with figures)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.load import DEFAULT_RATE_LIMIT, LoadConfig, Sent, check_stored, run, table_counts
from bench.server import BenchServer


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[BenchServer]:
    """The server on the suite's database, which the suite has migrated and seeded already."""
    server = BenchServer(
        tmp_path,
        log=tmp_path / "server.log",
        DATABASE_URL=database_url,
        FRONTLINE_SYNC_MAX_REQUESTS_PER_MINUTE=str(DEFAULT_RATE_LIMIT),
    )
    server.start()
    yield server
    server.stop()


def test_phones_and_managers_at_once_get_no_errors_and_every_item_is_stored_once(
    server: BenchServer, database_url: str
) -> None:
    config = LoadConfig(seconds=6, phones=12, managers=3, min_gap=0.5, max_gap=2.0)

    report = run(server.url, database_url, config)

    assert report.errors == [], "\n".join(report.lines())
    statuses = report.recorder.statuses
    # Every path ran: plain sends, retries of a batch whose answer was lost, batches sent twice at
    # once, refused items, and the managers' pages.
    for kind in ("sync", "sync, retry after a lost answer", "sync, sent twice at once", "/triage"):
        assert sum(statuses[kind].values()) > 0, kind
    assert report.refused > 0
    assert report.items["handover"] > 0 and report.items["idea"] > 0


def test_the_final_check_finds_an_item_missing_or_created_twice(database_url: str) -> None:
    before = table_counts(database_url)
    missing = str(uuid.uuid4())
    twice = str(uuid.uuid4())
    sent = {
        missing: Sent("handover", True, 1, "Waited an hour", created=1, acknowledged=1),
        twice: Sent("idea", True, 1, "A ramp for the lift", created=2, acknowledged=2),
    }

    problems = check_stored(database_url, sent, before)

    assert any(missing in p and "stored 0 times" in p for p in problems)
    assert any(twice in p and "'created' 2 times" in p for p in problems)
    assert "handover table holds" in " ".join(problems)
