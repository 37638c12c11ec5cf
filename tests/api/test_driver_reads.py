"""Reads on the driver's cursor (api/driver.py): the sign-in look-up and the reference check give
what SQLAlchemy's own execution gives, raise what it raises, and on SQLite hold no transaction;
SQLite's BEGIN sent on the driver's cursor still takes the write lock up front for a writer."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import bindparam, column, select, table
from sqlalchemy.exc import DBAPIError

from api.db import get_engine, open_session
from api.driver import read_rows
from api.reference.service import _known, known_ids_of
from api.security.sessions import _LOOKUP
from schemas.accounts import Aim, Partner, Team, UserSession


def _token_hashes() -> list[str]:
    with open_session(write=False) as session:
        return list(session.execute(select(UserSession.token_hash)).scalars())


def test_the_sign_in_look_up_reads_what_sqlalchemy_reads(crew: Any) -> None:
    # The crew client has signed in: its session row and its user are there to read.
    hashes = _token_hashes()
    assert hashes
    with get_engine().connect() as connection:
        for token_hash in [*hashes, "no such token"]:
            expected = [
                tuple(row) for row in connection.execute(_LOOKUP, {"token_hash": token_hash})
            ]
            assert read_rows(connection, _LOOKUP, {"token_hash": token_hash}) == expected
    # Times come back as times in UTC (the columns' own processors), not the driver's text.
    with get_engine().connect() as connection:
        revoked_at, expires_at, last_seen_at, *_ = read_rows(
            connection, _LOOKUP, {"token_hash": hashes[0]}
        )[0]
    assert revoked_at is None
    assert expires_at.utcoffset().total_seconds() == 0
    assert last_seen_at < expires_at


def test_the_reference_check_reads_what_sqlalchemy_reads() -> None:
    with open_session(write=False) as session:
        teams = list(session.execute(select(Team.id)).scalars())
        aims = list(session.execute(select(Aim.id)).scalars())
        partners = list(session.execute(select(Partner.id)).scalars())
    missing = 2_000_000_000
    wanted: dict[Any, list[int]] = {
        Team: [*teams[:2], missing],
        Aim: aims[:3],
        Partner: [partners[0], missing, partners[0]],
    }
    with get_engine().connect() as connection:
        found = known_ids_of(connection, wanted)
        assert found == {Team: set(teams[:2]), Aim: set(aims[:3]), Partner: {partners[0]}}
        assert known_ids_of(connection, {Team: [missing], Aim: []}) == {Team: set(), Aim: set()}
        # The statement itself, through SQLAlchemy and on the driver: the same rows.
        statement = _known((Team, Aim), (2, 1))
        parameters = {"ids0_0": teams[0], "ids0_1": missing, "ids1_0": aims[0]}
        expected = sorted(tuple(row) for row in connection.execute(statement, parameters))
        assert sorted(read_rows(connection, statement, parameters)) == expected


def test_any_number_of_ids_is_checked_with_one_of_a_few_statements() -> None:
    with open_session(write=False) as session:
        aims = list(session.execute(select(Aim.id)).scalars())
    _known.cache_clear()
    with get_engine().connect() as connection:
        for count in range(1, 41):
            # Made-up ids beyond the real ones: found only where they exist.
            asked = [*aims, *range(2_000_000_000, 2_000_000_000 + count)][:count]
            assert known_ids_of(connection, {Aim: asked}) == {Aim: set(asked) & set(aims)}
    # 1, 2, 4, 8, 16, 32 and 64 ids a statement: seven statements for forty numbers of ids.
    assert _known.cache_info().currsize == 7


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it() -> None:
    # The app answers database faults from SQLAlchemy's exceptions (api/errors.py, 503): a bare
    # sqlite3 or psycopg error would slip past them as a 500.
    missing = select(table("no_such_table", column("id"))).where(
        column("id") == bindparam("wanted")
    )
    with get_engine().connect() as connection, pytest.raises(DBAPIError) as raised:
        read_rows(connection, missing, {"wanted": 1})
    assert "no_such_table" in str(raised.value.orig)


def test_a_statement_with_an_expanding_parameter_is_refused() -> None:
    expanding = select(Team.id).where(Team.id.in_(bindparam("ids", expanding=True)))  # type: ignore[attr-defined]
    with get_engine().connect() as connection, pytest.raises(ValueError, match="expanding"):
        read_rows(connection, expanding, {"ids": [1]})


def _sqlite_only() -> None:
    if get_engine().dialect.name != "sqlite":
        pytest.skip("SQLite only: its transactions begin with the statements sent here")


def test_a_read_before_the_write_holds_no_sqlite_transaction(crew: Any) -> None:
    _sqlite_only()
    token_hash = _token_hashes()[0]
    with get_engine().connect() as connection:
        assert read_rows(connection, _LOOKUP, {"token_hash": token_hash})
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        # No read snapshot kept open between the look-up and the rest of the request.
        assert not driver.in_transaction


def test_a_sqlite_writer_takes_the_write_lock_when_it_begins_and_a_reader_does_not() -> None:
    _sqlite_only()
    database = get_engine().url.database
    assert database
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        with open_session(write=False) as reader:
            reader.connection()  # BEGIN (deferred): no lock taken
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        with open_session(write=True) as writer:
            writer.connection()  # BEGIN IMMEDIATE: the write lock, before any statement
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            writer.rollback()
        other.execute("BEGIN IMMEDIATE")  # given back
        other.execute("ROLLBACK")
    finally:
        other.close()
