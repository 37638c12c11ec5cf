"""What a database holds after a fault, read straight from it (not through the server under test):
every sent record once and whole, nothing else, and an intact SQLite file."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, create_engine, func, select, text
from sqlalchemy.engine import make_url

from schemas.handovers import Handover, HandoverCategory
from schemas.ideas import Idea, IdeaAim, IdeaWaste

IDEAS: Table = Idea.__table__  # type: ignore[attr-defined]
HANDOVERS: Table = Handover.__table__  # type: ignore[attr-defined]
IDEA_AIMS: Table = IdeaAim.__table__  # type: ignore[attr-defined]
IDEA_WASTES: Table = IdeaWaste.__table__  # type: ignore[attr-defined]
HANDOVER_CATEGORIES: Table = HandoverCategory.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Holdings:
    """Counts of records and of the rows that belong to them."""

    ideas: int
    handovers: int
    links: int
    search_rows: int | None  # SQLite's full-text copy of each idea; None on PostgreSQL


def _count(connection: Any, table: Table, column: Any, ids: list[uuid.UUID] | None) -> int:
    statement = select(func.count()).select_from(table)
    if ids is not None:
        statement = statement.where(column.in_(ids))
    return int(connection.execute(statement).scalar_one())


def holdings(url: str, ids: Iterable[str] | None = None) -> Holdings:
    """What the database holds of `ids` (or of everything, without them)."""
    wanted = None if ids is None else [uuid.UUID(i) for i in ids]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            links = (
                _count(connection, IDEA_AIMS, IDEA_AIMS.c.idea_id, wanted)
                + _count(connection, IDEA_WASTES, IDEA_WASTES.c.idea_id, wanted)
                + _count(connection, HANDOVER_CATEGORIES, HANDOVER_CATEGORIES.c.handover_id, wanted)
            )
            search_rows = None
            if engine.dialect.name == "sqlite":
                statement = "SELECT count(*) FROM idea_fts"
                if wanted is not None:
                    # The trigger copies idea.id as SQLite stores it: 32 hex digits.
                    hexes = ",".join(f"'{i.hex}'" for i in wanted)
                    statement += f" WHERE idea_id IN ({hexes})"
                search_rows = int(connection.execute(text(statement)).scalar_one())
            return Holdings(
                ideas=_count(connection, IDEAS, IDEAS.c.id, wanted),
                handovers=_count(connection, HANDOVERS, HANDOVERS.c.id, wanted),
                links=links,
                search_rows=search_rows,
            )
    finally:
        engine.dispose()


def expected_holdings(items: list[dict[str, Any]], *, sqlite: bool) -> Holdings:
    """What `items` (sync items as sent) make when each is stored exactly once and whole."""
    ideas = [i for i in items if i["kind"] == "idea"]
    handovers = [i for i in items if i["kind"] == "handover"]
    links = sum(len(i["data"]["aims"]) + len(i["data"]["wastes"]) for i in ideas) + sum(
        len(i["data"]["categories"]) for i in handovers
    )
    return Holdings(len(ideas), len(handovers), links, len(ideas) if sqlite else None)


def plus(before: Holdings, added: Holdings) -> Holdings:
    return Holdings(
        before.ideas + added.ideas,
        before.handovers + added.handovers,
        before.links + added.links,
        None if before.search_rows is None else before.search_rows + (added.search_rows or 0),
    )


def sqlite_path(url: str) -> str | None:
    parsed = make_url(url)
    return parsed.database if parsed.get_backend_name() == "sqlite" else None


def sqlite_checks(path: str) -> list[str]:
    """Everything SQLite can say is wrong with the file: the b-trees and indexes, the foreign keys,
    and the full-text index. An empty list is a clean file."""
    connection = sqlite3.connect(path)
    try:
        problems = [
            row[0] for row in connection.execute("PRAGMA integrity_check") if row[0] != "ok"
        ]
        problems += [
            f"foreign key: {row}" for row in connection.execute("PRAGMA foreign_key_check")
        ]
        try:
            connection.execute("INSERT INTO idea_fts(idea_fts) VALUES('integrity-check')")
        except sqlite3.DatabaseError as exc:
            problems.append(f"full-text index: {exc}")
        return problems
    finally:
        connection.close()
