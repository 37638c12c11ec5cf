"""Statements sent on the driver's own cursor, in the connection's transaction (or, on a connection
that has not begun one, on its own), skipping SQLAlchemy's execution context: its events, its
execution context and its result object cost several times the statement itself for the few
one-row statements every write request sends (issue 16, docs/performance.md "Fifth pass" and
"Seventh pass"). The statements are the ones SQLAlchemy compiles (its quoting, its PostgreSQL bind
casts), the values bound and the rows read through the columns' own SQLAlchemy processors, and the
driver's errors raised as SQLAlchemy raises them, so the app's answers to a database fault (503)
hold."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select


@lru_cache(maxsize=8)
def placeholders(dialect: Dialect) -> Dialect:
    """The dialect a statement is compiled with: on PostgreSQL the same dialect with PostgreSQL's
    own `$1, $2, …` placeholders (`numeric_dollar`), which psycopg's raw cursor sends as they are
    (`on_cursor`); the same text otherwise, casts and quoting included."""
    if dialect.name != "postgresql":
        return dialect
    return type(dialect)(paramstyle="numeric_dollar")  # type: ignore[call-arg]


def on_cursor(connection: Connection, sql: str, parameters: Any) -> list[Any]:
    """The statement on the driver's own cursor, in the connection's transaction if it has begun
    one. On PostgreSQL a raw cursor: the statement is compiled with PostgreSQL's own `$n`
    placeholders (`placeholders`), so psycopg sends it as it is; its usual cursor parses
    `%(name)s` placeholders out of the text again on every execution of a statement longer than
    4,096 characters or 50 parameters (a multi-row insert: a tenth of a 25-idea batch's CPU,
    "Sixth pass"). The driver's errors are raised as SQLAlchemy raises them."""
    cursor = _cursor(connection)
    try:
        cursor.execute(sql, parameters)
        # Only a statement with rows to answer has them fetched (psycopg refuses otherwise).
        if cursor.description is None:
            return []
        rows: list[Any] = cursor.fetchall()
        return rows
    except connection.dialect.loaded_dbapi.Error as exc:
        connection._handle_dbapi_exception(exc, sql, parameters, cursor, None)  # type: ignore[arg-type]
        raise  # not reached: the line above raises SQLAlchemy's error
    finally:
        cursor.close()


def _cursor(connection: Connection) -> Any:
    """The driver's cursor on the connection: on PostgreSQL psycopg's raw one, which takes the
    statement's `$n` placeholders as they are (`placeholders`)."""
    driver = connection.connection.driver_connection
    if connection.dialect.name != "postgresql":
        return driver.cursor()  # type: ignore[union-attr]
    import psycopg  # only on PostgreSQL, whose driver it is

    return psycopg.RawCursor(driver)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Read:
    sql: str
    names: tuple[str, ...]  # the bound parameters' names, in the placeholders' order
    types: tuple[Any, ...]  # the selected columns' SQLAlchemy types


@lru_cache(maxsize=256)
def _read(dialect: Dialect, statement: Select[Any]) -> _Read:
    compiled = statement.compile(dialect=placeholders(dialect))
    if compiled.positiontup is None:  # pragma: no cover - every dialect here binds by position
        raise ValueError(f"{dialect.name} does not bind by position")
    if compiled.post_compile_params:
        raise ValueError("an expanding parameter needs a statement per number of values")
    return _Read(
        compiled.string,
        tuple(compiled.positiontup),
        tuple(column.type for column in statement.selected_columns),
    )


@lru_cache(maxsize=256)
def _processors(
    dialect: Dialect, types: tuple[Any, ...], driver_types: tuple[Any, ...]
) -> tuple[Callable[[Any], Any] | None, ...]:
    # As SQLAlchemy's result does: each column's processor for the driver's type of it.
    return tuple(
        type_._cached_result_processor(dialect, driver_type)
        for type_, driver_type in zip(types, driver_types, strict=True)
    )


def read_rows(
    connection: Connection, statement: Select[Any], parameters: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows a SELECT answers, each value as SQLAlchemy's result gives it (the columns' result
    processors: times as `datetime`, UTC times in UTC), on the driver's cursor. The statement is
    compiled once per dialect (pass the same statement object each time) and must have no
    expanding parameter; its values are plain ones the driver takes as they are (ids, strings)."""
    dialect = connection.dialect
    read = _read(dialect, statement)
    cursor = _cursor(connection)
    values = tuple(parameters[name] for name in read.names)
    try:
        cursor.execute(read.sql, values)
        rows = cursor.fetchall()
        processors = _processors(
            dialect, read.types, tuple(column[1] for column in cursor.description)
        )
    except dialect.loaded_dbapi.Error as exc:
        connection._handle_dbapi_exception(exc, read.sql, values, cursor, None)  # type: ignore[arg-type]
        raise  # not reached: the line above raises SQLAlchemy's error
    finally:
        cursor.close()
    if not any(processors):
        return [tuple(row) for row in rows]
    return [
        tuple(
            value if process is None else process(value)
            for process, value in zip(processors, row, strict=True)
        )
        for row in rows
    ]
