"""`frontline backup` taken while a phone keeps syncing, then `frontline restore` into a fresh
database: every record acknowledged before the backup began is there, whole, exactly once. And the
restore refuses a database that is not empty, saying what to do."""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.faults.conftest import SERVER_ENV
from tests.faults.phone import CREW, new_items, signed_in
from tests.faults.store import expected_holdings, holdings, sqlite_checks, sqlite_path
from tests.support.live_server import ROOT, LiveServer

BATCH = 10
ACKED_BEFORE_BACKUP = 40  # records acknowledged before the backup starts, at least


def frontline(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, as an operator runs it, against `database_url`."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FRONTLINE_")},
        "DATABASE_URL": database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@contextlib.contextmanager
def empty_database(source_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of the same kind as `source_url`, dropped afterwards."""
    url = make_url(source_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'frontline.db'}"
        return
    name = f"{url.database}_restore"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Writer(threading.Thread):
    """A phone sending batch after batch; each acknowledged item is kept with the moment its
    answer arrived (time.monotonic())."""

    def __init__(self, base_url: str, reference: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.http, self.csrf = signed_in(base_url, *CREW)
        self.reference = reference
        self.rng = random.Random(17)
        self.acked: list[tuple[float, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.failure: str | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            batch = new_items(self.rng, self.reference, BATCH)
            response = self.http.post(
                "/api/v1/sync", json={"items": batch}, headers={"X-CSRF-Token": self.csrf}
            )
            answered = time.monotonic()
            if response.status_code != 200:
                self.failure = f"{response.status_code} {response.text[:200]}"
                return
            by_id = {item["id"]: item for item in batch}
            with self.lock:
                for result in response.json()["results"]:
                    if result["outcome"] in ("created", "duplicate"):
                        self.acked.append((answered, by_id[result["id"]]))

    def acknowledged_before(self, moment: float) -> list[dict[str, Any]]:
        with self.lock:
            return [item for at, item in self.acked if at < moment]

    def count(self) -> int:
        with self.lock:
            return len(self.acked)


def test_a_backup_taken_under_load_restores_every_acknowledged_record(
    fault_database: str, tmp_path: Path
) -> None:
    server = LiveServer(tmp_path / "server", database_url=fault_database, env=SERVER_ENV)
    server.start()
    writer: Writer | None = None
    try:
        reference = signed_in(server.url, *CREW)[0].get("/api/v1/reference").json()
        writer = Writer(server.url, reference)
        writer.start()
        deadline = time.monotonic() + 120
        while writer.count() < ACKED_BEFORE_BACKUP:
            assert writer.failure is None, writer.failure
            assert time.monotonic() < deadline, "the writer never got going"
            time.sleep(0.01)

        began = time.monotonic()
        backup_file = tmp_path / "backups" / "frontline.backup"
        taken = frontline(fault_database, "backup", str(backup_file))
        ended = time.monotonic()
        assert taken.returncode == 0, taken.stderr
        assert "Backed up to" in taken.stdout
        assert backup_file.stat().st_mode & 0o077 == 0, "a backup holds personal data: 0600"
        # The writer kept going while the backup ran, and after it: let it send a little more.
        more = writer.count() + BATCH
        while writer.count() < more and writer.failure is None:
            time.sleep(0.01)
        writer.stop.set()
        writer.join(timeout=60)
        assert writer.failure is None, writer.failure
    finally:
        if writer is not None:
            writer.stop.set()
            writer.join(timeout=60)
        server.stop()

    before = writer.acknowledged_before(began)
    during_or_after = writer.acknowledged_before(float("inf"))[len(before) :]
    assert len(before) >= ACKED_BEFORE_BACKUP
    assert during_or_after, "the phone should have gone on syncing after the backup began"

    with empty_database(fault_database, tmp_path) as target:
        restored = frontline(target, "restore", str(backup_file))
        assert restored.returncode == 0, restored.stderr
        assert "Restored" in restored.stdout

        sqlite = make_url(target).get_backend_name() == "sqlite"
        assert holdings(target, [i["id"] for i in before]) == expected_holdings(
            before, sqlite=sqlite
        )
        # Whatever was acknowledged while the backup ran may or may not be in it, but whole if so.
        later = {i["id"] for i in during_or_after}
        some_later = holdings(target, later)
        assert some_later.ideas + some_later.handovers <= len(later)
        path = sqlite_path(target)
        if path:
            assert sqlite_checks(path) == []

        # The restored database is a working Frontline: migrate is a no-op, a server starts on it
        # and a manager opens the records the crew sent before the backup.
        migrated = frontline(target, "migrate")
        assert migrated.returncode == 0, migrated.stderr
        again = LiveServer(tmp_path / "restored-server", database_url=target, env=SERVER_ENV)
        again.start()
        try:
            manager = signed_in(again.url, "manager@demo.nhs.uk", "manager-demo-pass")[0]
            for item in before:
                path = "ideas" if item["kind"] == "idea" else "handovers"
                opened = manager.get(f"/api/v1/{path}/{item['id']}")
                assert opened.status_code == 200, opened.text
                assert opened.json()["created_at"][:19] == item["data"]["created_at"][:19]
        finally:
            again.stop()
        print(
            f"backup took {ended - began:.2f} s; {len(before)} records acknowledged before it "
            f"began, {len(during_or_after)} during or after"
        )


def test_restore_refuses_a_database_that_is_not_empty(fault_database: str, tmp_path: Path) -> None:
    backup_file = tmp_path / "frontline.backup"
    assert frontline(fault_database, "backup", str(backup_file)).returncode == 0
    before = holdings(fault_database)

    refused = frontline(fault_database, "restore", str(backup_file))

    assert refused.returncode == 1
    assert "is not empty" in refused.stderr
    assert "create a new one" in refused.stderr
    assert holdings(fault_database) == before


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'new' / 'frontline.db'}"
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n")

    refused = frontline(target, "restore", str(junk))
    missing = frontline(target, "restore", str(tmp_path / "nothing-here.backup"))

    assert refused.returncode == 1
    assert "is not a Frontline backup" in refused.stderr
    assert missing.returncode == 1
    assert "There is no backup file" in missing.stderr
    assert not (tmp_path / "new" / "frontline.db").exists()


def test_a_sqlite_backup_is_not_restored_into_postgresql(
    database_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: FRONTLINE_TEST_DATABASE_URL is not set")
    backup_file = tmp_path / "frontline.backup"
    assert frontline(sqlite_url, "backup", str(backup_file)).returncode == 0
    with empty_database(database_url, tmp_path) as target:
        refused = frontline(target, "restore", str(backup_file))
    assert refused.returncode == 1
    assert "is a sqlite backup but DATABASE_URL names a postgresql database" in refused.stderr
