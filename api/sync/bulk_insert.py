"""The sync path's multi-row INSERT … ON CONFLICT DO NOTHING, compiled once per table, columns and
number of rows, with each row's values bound by the columns' own SQLAlchemy bind processors.

SQLAlchemy's executemany of Core inserts ("insertmanyvalues") rebuilt the parameters of every row
through its per-row machinery (a dict of bound parameters a row, a processor look-up a value): a
third of a 100-item batch's CPU (issue 16, docs/performance.md). The statement here is the same
one SQLAlchemy compiles (its quoting, its PostgreSQL bind casts, its RETURNING) and each value goes
through the same processor SQLAlchemy would apply, so what reaches the database is identical
(tests/api/test_bulk_insert.py holds the stored rows equal to a Core insert's)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from api.driver import on_cursor, placeholders
from schemas.timestamps import UTCDateTime

# Bound parameters a statement: under SQLite's limit (32,766 since 3.32) and PostgreSQL's (65,535).
MAX_PARAMETERS = 30_000


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # How the flat list of values (row by row, in the caller's column order) becomes the driver's
    # parameters: the value's position for each placeholder (SQLite's `?`, PostgreSQL's `$n`).
    positions: tuple[int, ...]


@dataclass(frozen=True)
class _Plan:
    columns: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]


def _dialect_insert(dialect: Dialect, table: Table) -> Any:
    return postgresql.insert(table) if dialect.name == "postgresql" else sqlite.insert(table)


@lru_cache(maxsize=64)
def _plan(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _Plan:
    for column in table.columns:
        # A Core insert fills a Python-side default for a column left out; this one does not, so
        # every such column must be given (the record kinds' to_row functions give them all).
        if column.name not in columns and column.default is not None:
            raise ValueError(f"{table.name}.{column.name} has a default: give it in every row")
    return _Plan(
        columns,
        tuple(table.c[name].type._cached_bind_processor(dialect) for name in columns),
    )


@lru_cache(maxsize=512)
def _compiled(
    dialect: Dialect,
    table: Table,
    columns: tuple[str, ...],
    rows: int,
    conflict_on_id: bool,
    returning: str | None,
) -> _Compiled:
    names = [f"p{row}_{position}" for row in range(rows) for position in range(len(columns))]
    values = [
        {
            name: bindparam(names[row * len(columns) + position], type_=table.c[name].type)
            for position, name in enumerate(columns)
        }
        for row in range(rows)
    ]
    statement = _dialect_insert(dialect, table).values(values)
    statement = statement.on_conflict_do_nothing(index_elements=["id"] if conflict_on_id else None)
    if returning:
        statement = statement.returning(table.c[returning])
    compiled = statement.compile(dialect=placeholders(dialect))
    slot = {name: index for index, name in enumerate(names)}
    return _Compiled(str(compiled), tuple(slot[name] for name in compiled.positiontup or ()))


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict_on_id: bool = True,
    returning: str | None = None,
) -> list[Any]:
    """INSERT the rows (every row with the same keys) … ON CONFLICT (id) DO NOTHING (or on any
    conflict, `conflict_on_id=False`); answers the `returning` column of the rows inserted."""
    if not rows:
        return []
    connection = session.connection()
    dialect = connection.dialect
    plan = _plan(dialect, table, tuple(rows[0]))
    pairs = tuple(zip(plan.columns, plan.processors, strict=True))
    per_statement = max(1, MAX_PARAMETERS // len(plan.columns))
    position = plan.columns.index(returning) if returning else 0
    width = len(plan.columns)
    found: list[Any] = []
    # Multi-row statements, rows in the caller's order. Not one statement a row (issue 16,
    # docs/performance.md "Fifth pass" and "Sixth pass"): on SQLite a statement on a table with a
    # trigger (the links' status copy, migration 0015) cost about 8 µs more a link row, about
    # 3 ms of a 100-idea batch; on PostgreSQL psycopg's work for each row of a pipelined
    # executemany (dumping, preparing, the pipeline's bookkeeping) cost more than the rows.
    # SQLite: a few fixed sizes (powers of two), so a varying number of rows reuses a handful of
    # compiled statements. PostgreSQL: every statement is a round trip to the server, so as few
    # as can be, each compiled for its exact number of rows (a batch of 25 ideas: 4 statements,
    # not 12).
    if dialect.name == "postgresql":
        chunks = _exact_chunks(len(rows), min(EXACT_ROWS, per_statement))
    else:
        chunks = _chunks(len(rows), per_statement)
    for start, size in chunks:
        chunk = rows[start : start + size]
        compiled = _compiled(dialect, table, plan.columns, size, conflict_on_id, returning)
        flat = _values(pairs, chunk)
        answered = on_cursor(connection, compiled.sql, _parameters(compiled, flat))
        if returning:
            # What the database answers is the value as bound (a UUID's hex on SQLite, the UUID
            # on PostgreSQL): mapped back to the caller's own value rather than converted again,
            # row by row.
            sent = {flat[i * width + position]: row[returning] for i, row in enumerate(chunk)}
            found.extend(sent[answer[0]] for answer in answered)
    return found


def insert_claimed(
    session: Session, claims: Table, claim: dict[str, Any], table: Table, row: dict[str, Any]
) -> bool:
    """One record: its claim (its id for its kind, a row of `claims`) inserted … ON CONFLICT DO
    NOTHING, then its row, only when the claim was inserted by this call; answers whether the row
    was stored. Exactly insert_rows(claims, [claim]) and, if that answered the id,
    insert_rows(table, [row]): on SQLite it is those two statements.

    On PostgreSQL it is one statement, the claim a data-modifying CTE whose RETURNING the record's
    INSERT … SELECT waits on (`WHERE EXISTS (SELECT FROM claim)`): one round trip to the server
    fewer for every single create (issue 16, docs/performance.md "Sixth pass"). The rule is the
    same: a claim held by another kind, or already made for this one, or being made by a
    concurrent transaction (the CTE's ON CONFLICT waits for it, as the separate statement did,
    and then inserts nothing), returns no row, so no record is written. The link rows stay a
    statement of their own: their status-copy trigger reads the record, which the other parts of
    one statement do not see."""
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        if not insert_rows(session, claims, [claim], returning="id"):
            return False
        return bool(insert_rows(session, table, [row], returning="id"))
    claim_plan = _plan(dialect, claims, tuple(claim))
    plan = _plan(dialect, table, tuple(row))
    sql = _claimed_insert(dialect, claims, claim_plan.columns, table, plan.columns)
    claim_values = _values(
        tuple(zip(claim_plan.columns, claim_plan.processors, strict=True)), (claim,)
    )
    row_values = _values(tuple(zip(plan.columns, plan.processors, strict=True)), (row,))
    return bool(on_cursor(connection, sql.sql, _parameters(sql, [*claim_values, *row_values])))


@lru_cache(maxsize=16)
def _claimed_insert(
    dialect: Dialect,
    claims: Table,
    claim_columns: tuple[str, ...],
    table: Table,
    columns: tuple[str, ...],
) -> _Compiled:
    """WITH claim AS (INSERT INTO claims … ON CONFLICT (id) DO NOTHING RETURNING id)
    INSERT INTO table (…) SELECT … WHERE EXISTS (SELECT claim.id FROM claim)
    ON CONFLICT (id) DO NOTHING RETURNING id. The SELECT's values are bound parameters as in the
    VALUES form, each with the bind cast PostgreSQL's dialect gives its column's type (never a
    CAST to the column's type: a CAST to VARCHAR(n) would cut a long value short where the
    assignment refuses it)."""
    claim = (
        postgresql.insert(claims)
        .values(
            {
                name: bindparam(f"c_{i}", type_=claims.c[name].type)
                for i, name in enumerate(claim_columns)
            }
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(claims.c.id)
        .cte("claim")
    )
    values = select(
        *[bindparam(f"p0_{i}", type_=table.c[name].type) for i, name in enumerate(columns)]
    ).where(exists(select(claim.c.id)))
    statement = (
        postgresql.insert(table)
        .from_select(list(columns), values)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(table.c.id)
        .add_cte(claim)
    )
    compiled = statement.compile(dialect=placeholders(dialect))
    # The flat values are the claim's, then the row's, each in its columns' order.
    names = [f"c_{i}" for i in range(len(claim_columns))] + [f"p0_{i}" for i in range(len(columns))]
    slot = {name: index for index, name in enumerate(names)}
    return _Compiled(str(compiled), tuple(slot[name] for name in compiled.positiontup or ()))


# On PostgreSQL, the most rows a statement: at most 64 sizes a table are compiled, once a
# process (about 10 ms for 25 ideas' statement, 20 ms for 64, the first time each is sent).
EXACT_ROWS = 64


def _exact_chunks(count: int, most: int) -> list[tuple[int, int]]:
    """(start, size) of the statements for `count` rows: `most` rows a statement, then the rest in
    one; 100 rows are 64 + 36, 25 rows one statement."""
    return [(start, min(most, count - start)) for start in range(0, count, most)]


def _chunks(count: int, most: int) -> list[tuple[int, int]]:
    """(start, size) of the statements for `count` rows: the largest power of two that fits
    (at most `most` rows), then the next for the rest; 100 rows are 64 + 32 + 4."""
    out = []
    start = 0
    while start < count:
        size = min(1 << ((count - start).bit_length() - 1), most)
        out.append((start, size))
        start += size
    return out


def _values(
    pairs: tuple[tuple[str, Callable[[Any], Any] | None], ...], rows: Sequence[dict[str, Any]]
) -> list[Any]:
    """The rows' values, row by row in the plan's column order, as the driver takes them."""
    return [
        value if process is None else process(value)
        for row in rows
        for name, process in pairs
        for value in (row[name],)
    ]


def _parameters(compiled: _Compiled, flat: list[Any]) -> tuple[Any, ...]:
    return tuple([flat[i] for i in compiled.positions])


@lru_cache(maxsize=16)
def _read_back_plan(table: Table) -> tuple[tuple[str, bool, bool], ...]:
    """(column, holds UTC times, has a server default) for each column of the table."""
    return tuple(
        (column.name, isinstance(column.type, UTCDateTime), column.server_default is not None)
        for column in table.columns
    )


def as_read_back(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Every column of a row insert_rows inserted, as reading it back would give it: times in UTC
    (UTCDateTime), a column the row left out NULL. A left-out column the database fills itself
    (a server default) is refused: its value is not known here."""
    columns: dict[str, Any] = {}
    for name, utc, server_default in _read_back_plan(table):
        if name not in row:
            if server_default:
                raise ValueError(f"{table.name}.{name} has a server default: give it in the row")
            columns[name] = None
            continue
        value = row[name]
        columns[name] = UTCDateTime.read_back(value) if utc and value is not None else value
    return columns
