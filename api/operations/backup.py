"""Backups and restores of the whole database: SQLite through its online backup API, PostgreSQL
through pg_dump / pg_restore (Debian's postgresql-client), both while the service keeps running.

A backup is a point-in-time copy: every transaction committed before it began is in it, so every
record a phone was told was `created` before the backup started is there after a restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says what to do."""


@dataclass(frozen=True)
class Outcome:
    path: Path
    size: int
    revision: str | None


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("DATABASE_URL names an in-memory SQLite database: nothing to back up.")
    return Path(url.database)


def _pg_environment(url: URL) -> dict[str, str]:
    """libpq's own variables, so the password never appears on a command line (ps shows those)."""
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[name] = str(value)
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed. Install the PostgreSQL client tools of the server's major "
            "version (Debian: apt-get install postgresql-client)."
        )
    return found


def _revision(url: URL) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if "alembic_version" not in inspect(connection).get_table_names():
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def backup(database_url: str, destination: Path) -> Outcome:
    """Copy the live database to `destination` (written beside it first, then renamed, so a file
    with that name is always a whole backup). The file holds personal data: it is made 0600."""
    url = make_url(database_url)
    destination = destination.resolve()
    if destination.exists() and destination.is_dir():
        raise BackupError(f"{destination} is a directory: name the backup file to write.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        elif url.get_backend_name() == "postgresql":
            _pg_dump(url, partial)
        else:
            raise BackupError(f"Backups of {url.get_backend_name()} databases are not supported.")
        partial.chmod(0o600)
        partial.replace(destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Outcome(destination, destination.stat().st_size, _revision(url))


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"There is no database at {source}.")
    # The online backup API copies a consistent snapshot while writers carry on (under WAL they
    # are not blocked); copying the file itself could catch a half-written page or miss the WAL.
    source_db = sqlite3.connect(source, timeout=30)
    target_db = sqlite3.connect(target)
    try:
        source_db.backup(target_db)
        # The copy is a single file: no WAL beside it, readable by any sqlite3.
        target_db.execute("PRAGMA journal_mode=DELETE")
        result = target_db.execute("PRAGMA integrity_check").fetchone()
        if result is None or result[0] != "ok":
            raise BackupError(f"The backup copy failed its integrity check: {result}")
    finally:
        target_db.close()
        source_db.close()


def _pg_dump(url: URL, target: Path) -> None:
    # --format=custom: compressed, and pg_restore can restore it selectively; pg_dump runs in one
    # repeatable-read transaction, so the dump is one consistent snapshot taken while writes go on.
    result = subprocess.run(  # noqa: S603 - a fixed tool, arguments we build
        [
            _tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={target}",
        ],
        env=_pg_environment(url),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def backup_kind(path: Path) -> str:
    """'sqlite' or 'postgresql', read from the file's first bytes (not its name)."""
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(
        f"{path} is not a Frontline backup (neither an SQLite database nor a pg_dump custom-format "
        "archive)."
    )


def existing_tables(database_url: str) -> list[str]:
    """The tables already in the target database; for SQLite a missing file counts as empty."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not _sqlite_path(url).exists():
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def restore(database_url: str, source: Path) -> Outcome:
    """Load `source` into the EMPTY database named by `database_url`. A database that already holds
    tables is refused: restoring over live data would mix two histories."""
    url = make_url(database_url)
    kind = backup_kind(source)
    backend = url.get_backend_name()
    if kind != backend:
        raise BackupError(
            f"{source} is a {kind} backup but DATABASE_URL names a {backend} database. Restore it "
            f"into a {kind} database."
        )
    tables = existing_tables(database_url)
    if tables:
        shown = ", ".join(tables[:5]) + (" …" if len(tables) > 5 else "")
        raise BackupError(
            f"The database named by DATABASE_URL is not empty (it has {len(tables)} tables: "
            f"{shown}). Restore only into an empty database: create a new one, point "
            "DATABASE_URL at it and run `frontline restore` again."
        )
    if kind == "sqlite":
        _sqlite_restore(source, _sqlite_path(url))
    else:
        _pg_restore(url, source)
    return Outcome(source, source.stat().st_size, _revision(url))


def _sqlite_restore(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    source_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    target_db = sqlite3.connect(target)
    try:
        result = source_db.execute("PRAGMA integrity_check").fetchone()
        if result is None or result[0] != "ok":
            raise BackupError(f"{source} failed its integrity check: {result}")
        source_db.backup(target_db)
        target_db.execute("PRAGMA journal_mode=WAL")
    finally:
        target_db.close()
        source_db.close()
    target.chmod(0o600)


def _pg_restore(url: URL, source: Path) -> None:
    # One transaction: a restore that fails half way leaves the database empty, not half full.
    result = subprocess.run(  # noqa: S603 - a fixed tool, arguments we build
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={url.database}",
            str(source),
        ],
        env=_pg_environment(url),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
