"""SQLite's own work for a sync batch of fresh ideas, and what each index and trigger adds to it.

On the schema `frontline migrate` builds (a temporary database with the demo trust and
`--existing` ideas already stored), times in process CPU the statements a batch of `--batch` fresh
ideas sends as the sync path sends them (the `record_identity` claim and the idea as multi-row
INSERT … ON CONFLICT DO NOTHING RETURNING, the aim and waste link rows as multi-row statements)
and the commit (`synchronous=OFF`, so the fsync, the same for any schema, is left out). Then the
same with the link rows as one statement a row (the path before issue 16's fifth pass), and with
each insert trigger and each secondary index of `idea`, `idea_aim` and `idea_waste` dropped in
turn (on a copy): the difference is what that trigger or index costs a batch; and with the link
tables and `record_identity` WITHOUT ROWID, and with other page sizes than SQLite's 4,096 bytes
(each rebuilt on a copy before the existing ideas are stored). Medians of
`--rounds` batches, best of three passes over the variants (a shared machine).

Run: python -m bench.idea_insert_work [--batch 100] [--existing 20000]"""

# ruff: noqa: S608 (statements built from this file's constants and counts, no input)
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

COLUMNS = (
    "id, title, problem, proposal, wastes, aims, benefits, team_id, show_name, equity_prompt, "
    "spread_from, status, submitted_by, version, content_hash, created_at, received_at, updated_at"
)
WIDTH = len(COLUMNS.split(","))
ONE_A_ROW = "links one statement a row"


def _ideas(count: int, at: datetime) -> list[tuple[object, ...]]:
    stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f")
    return [
        (
            uuid.uuid4().hex,
            "Keep a spare pulse oximeter in each bay",
            "Staff walk to the store room for a pulse oximeter several times a shift. " * 3,
            "One spare, labelled, in a wall pocket in each bay, checked at handover. " * 3,
            '["motion", "waiting"]',
            "[1, 2]",
            '["staff_experience"]',
            1,
            1,
            "",
            None,
            "submitted",
            1,
            1,
            "ab" * 32,
            stamp,
            stamp,
            stamp,
        )
        for _ in range(count)
    ]


# The link tables and `record_identity` as WITHOUT ROWID tables (one B-tree each instead of a rowid
# table and its primary-key index; docs/performance.md asked what that would save), their status
# triggers keyed by the primary key instead of the rowid. Renames leave the other triggers naming
# the tables as they are (legacy_alter_table).
WITHOUT_ROWID = "link tables and record_identity WITHOUT ROWID"
_LINK_TRIGGER = (
    "CREATE TRIGGER {table}_status_insert AFTER INSERT ON {table} WHEN NEW.status IS NOT "
    "(SELECT status FROM idea WHERE id = NEW.idea_id) BEGIN UPDATE {table} SET status = "
    "(SELECT status FROM idea WHERE id = NEW.idea_id) WHERE idea_id = NEW.idea_id AND "
    "{column} = NEW.{column}; END"
)
_REBUILD = [
    "PRAGMA foreign_keys=OFF",
    "PRAGMA legacy_alter_table=ON",
    "DROP TRIGGER idea_aim_status_insert",
    "DROP TRIGGER idea_waste_status_insert",
    "ALTER TABLE idea_aim RENAME TO old_idea_aim",
    "CREATE TABLE idea_aim (idea_id CHAR(32) NOT NULL, aim_id INTEGER NOT NULL, "
    "status VARCHAR(20) DEFAULT 'submitted' NOT NULL, PRIMARY KEY (idea_id, aim_id), "
    "FOREIGN KEY(aim_id) REFERENCES aim (id), "
    "FOREIGN KEY(idea_id) REFERENCES idea (id) ON DELETE CASCADE) WITHOUT ROWID",
    "INSERT INTO idea_aim SELECT idea_id, aim_id, status FROM old_idea_aim",
    "DROP TABLE old_idea_aim",
    "CREATE INDEX ix_idea_aim_aim_status ON idea_aim (aim_id, status)",
    "ALTER TABLE idea_waste RENAME TO old_idea_waste",
    "CREATE TABLE idea_waste (idea_id CHAR(32) NOT NULL, waste VARCHAR(30) NOT NULL, "
    "status VARCHAR(20) DEFAULT 'submitted' NOT NULL, PRIMARY KEY (idea_id, waste), "
    "FOREIGN KEY(idea_id) REFERENCES idea (id) ON DELETE CASCADE) WITHOUT ROWID",
    "INSERT INTO idea_waste SELECT idea_id, waste, status FROM old_idea_waste",
    "DROP TABLE old_idea_waste",
    "CREATE INDEX ix_idea_waste_waste_status ON idea_waste (waste, status)",
    "ALTER TABLE record_identity RENAME TO old_record_identity",
    "CREATE TABLE record_identity (id CHAR(32) NOT NULL, kind VARCHAR(20) NOT NULL, "
    "PRIMARY KEY (id)) WITHOUT ROWID",
    "INSERT INTO record_identity SELECT id, kind FROM old_record_identity",
    "DROP TABLE old_record_identity",
    _LINK_TRIGGER.format(table="idea_aim", column="aim_id"),
    _LINK_TRIGGER.format(table="idea_waste", column="waste"),
    "PRAGMA legacy_alter_table=OFF",
    "PRAGMA foreign_keys=ON",
]


#: Other page sizes than SQLite's default 4,096 bytes: a batch of random UUID keys dirties about
#: one leaf page a key in each of four B-trees, and the commit writes each dirty page whole to the
#: WAL, so smaller pages would write fewer bytes (but make deeper trees); larger, the reverse.
PAGE_SIZES = (1024, 2048, 8192)


def _with_page_size(path: Path, page_size: int) -> None:
    """The database at `path` rebuilt with `page_size` (VACUUM, outside WAL, is what changes it)."""
    connection = _open(path)
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.execute(f"PRAGMA page_size={page_size}")
    connection.execute("VACUUM")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()


def _values(rows: int, width: int) -> str:
    return ", ".join(["(" + ", ".join("?" * width) + ")"] * rows)


def _store(
    connection: sqlite3.Connection, ideas: list[tuple[object, ...]], one_a_row: bool
) -> None:
    connection.execute("BEGIN IMMEDIATE")
    claims = [value for idea in ideas for value in (idea[0], "idea")]
    connection.execute(
        f"INSERT INTO record_identity (id, kind) VALUES {_values(len(ideas), 2)} "
        "ON CONFLICT (id) DO NOTHING RETURNING id",
        claims,
    ).fetchall()
    connection.execute(
        f"INSERT INTO idea ({COLUMNS}) VALUES {_values(len(ideas), WIDTH)} "
        "ON CONFLICT (id) DO NOTHING RETURNING id",
        [value for idea in ideas for value in idea],
    ).fetchall()
    aims = [(idea[0], aim) for idea in ideas for aim in (1, 2)]
    wastes = [(idea[0], waste) for idea in ideas for waste in ("motion", "waiting")]
    for table, column, links in (("idea_aim", "aim_id", aims), ("idea_waste", "waste", wastes)):
        sql = f"INSERT INTO {table} (idea_id, {column}) VALUES "
        if one_a_row:
            connection.executemany(sql + "(?, ?) ON CONFLICT DO NOTHING", links)
        else:
            flat = [value for link in links for value in link]
            connection.execute(sql + _values(len(links), 2) + " ON CONFLICT DO NOTHING", flat)
    connection.execute("COMMIT")


def _open(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def _copy(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")


def _median_ms(path: Path, drop: list[str], batch: int, rounds: int) -> float:
    connection = _open(path)
    one_a_row = ONE_A_ROW in drop
    for statement in drop:
        if statement != ONE_A_ROW:
            connection.execute(statement)
    start = datetime(2026, 12, 6, 12)
    batches = [_ideas(batch, start + timedelta(seconds=i)) for i in range(rounds + 5)]
    for ideas in batches[:5]:  # warm the page cache and the statement cache
        _store(connection, ideas, one_a_row)
    times = []
    for ideas in batches[5:]:
        started = time.process_time()
        _store(connection, ideas, one_a_row)
        times.append(time.process_time() - started)
    connection.close()
    return sorted(times)[len(times) // 2] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--existing", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ.update(FRONTLINE_DATA_DIR=data_dir, FRONTLINE_ENVIRONMENT="development")
        os.environ.pop("DATABASE_URL", None)
        from bench.request_cpu import migrate_and_seed_demo

        migrate_and_seed_demo()
        from api.db import get_engine

        get_engine().dispose()
        base = Path(data_dir) / "frontline.db"
        # Rebuilt before the existing ideas are stored, so its B-trees grow as the others did (a
        # table rebuilt full would split a page on nearly every insert).
        rebuilt = Path(data_dir) / "without-rowid.db"
        _copy(base, rebuilt)
        rebuilding = _open(rebuilt)
        for statement in _REBUILD:
            rebuilding.execute(statement)
        rebuilding.close()
        resized = {size: Path(data_dir) / f"page-{size}.db" for size in PAGE_SIZES}
        for size, path in resized.items():
            _copy(base, path)
            _with_page_size(path, size)
        for path in (base, rebuilt, *resized.values()):
            seeding = _open(path)
            for n in range(0, args.existing, 500):
                _store(seeding, _ideas(500, datetime(2026, 1, 1) + timedelta(seconds=n)), False)
            seeding.close()
        reading = _open(base)
        schema = reading.execute(
            "SELECT type, name FROM sqlite_master WHERE tbl_name IN ('idea', 'idea_aim', "
            "'idea_waste') AND sql IS NOT NULL AND (type = 'index' OR name LIKE '%insert%')"
        ).fetchall()
        reading.close()
        variants: list[tuple[str, list[str], Path]] = [("as the sync path sends it", [], base)]
        variants.append((ONE_A_ROW, [ONE_A_ROW], base))
        variants += [
            (f"without {name}", [f"DROP {kind.upper()} {name}"], base) for kind, name in schema
        ]
        variants.append(("without any of them", [f"DROP {k.upper()} {n}" for k, n in schema], base))
        variants.append((WITHOUT_ROWID, [], rebuilt))
        variants += [(f"pages of {size:,} bytes", [], path) for size, path in resized.items()]
        best: dict[str, float] = {}
        for _ in range(3):
            for label, drop, source in variants:
                copy = Path(data_dir) / "variant.db"
                _copy(source, copy)
                ms = _median_ms(copy, drop, args.batch, args.rounds)
                best[label] = min(best.get(label, ms), ms)
    first = best[variants[0][0]]
    print(f"SQLite's work for a batch of {args.batch} fresh ideas ({args.existing:,} stored), ms")
    for label, ms in best.items():
        print(f"  {label:48} {ms:6.2f}  ({ms - first:+.2f})")


if __name__ == "__main__":
    main()
