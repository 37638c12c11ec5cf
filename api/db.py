"""The database engine, the per-request session (one request is one transaction) and SQLite pragmas."""

from __future__ import annotations

import select
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from typing import Annotated, Any, TypeVar

import anyio
from anyio.lowlevel import RunVar
from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel

from api.config import Settings, get_settings
from api.driver import on_cursor


def make_engine(settings: Settings) -> Engine:
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            # A pool of file connections keeps WAL readers cheap; SQLite serialises writers itself.
            pool_size=8,
            max_overflow=8,
        )
        _configure_sqlite(engine, settings.sqlite_synchronous)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=10)
    _check_on_checkout(engine)
    return engine


# A pooled PostgreSQL connection idle longer than this is pinged before a request uses it.
PING_AFTER_IDLE_SECONDS = 5.0
_IDLE_SINCE = "frontline_idle_since"


def _check_on_checkout(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, only when there is a reason to doubt the connection: one
    round trip to the server on every checkout was about 145 µs of wall time and 80 of CPU, a
    tenth of a single create's time in the database (issue 16, docs/performance.md "Sixth pass").

    A connection is pinged (the same `;` pre-ping sends, in autocommit) when it has been idle in
    the pool longer than PING_AFTER_IDLE_SECONDS (a firewall or the network may have dropped it
    silently), or when its socket has something to read: an idle connection is owed nothing, so
    data or end-of-file there means the server has spoken first, which it does when it ends the
    session (a restart, a fail-over's fencing, pg_terminate_backend, idle_session_timeout: it
    sends its FATAL message and closes). A connection that fails its ping is replaced and, as
    pre-ping does, every connection pooled before it is retired too (they likely share its fate).
    What this misses, a connection lost without a word within those seconds (the server's host
    gone), fails on its first statement instead: that request is answered 503 with Retry-After,
    nothing stored (its transaction never committed), the pool retired as above, and the phone
    sends the same items again under the same ids (tests/faults/test_connections_dropped.py)."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info.pop(_IDLE_SINCE, None)  # a fresh connection needs no ping

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None:
            return
        if time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS and not _spoken_to(
            dbapi_connection
        ):
            return
        # _do_ping_w_event is what pool_pre_ping calls: False for a lost connection, and the
        # error raised for any other failure; InvalidatePoolError is what pre-ping then raises.
        if not dialect._do_ping_w_event(dbapi_connection):
            raise exc.InvalidatePoolError()


def _spoken_to(dbapi_connection: Any) -> bool:
    """Whether an idle connection's socket has anything to read (a zero-timeout poll, no round
    trip): an error or end-of-file from the server. A closed connection counts as spoken to."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN)
    except Exception:  # no socket any more: let the ping find out
        return True
    return bool(poller.poll(0))


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN; take control so BEGIN IMMEDIATE is
        # ours and a write transaction never upgrades from a read lock (SQLITE_BUSY mid-request).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (IMMEDIATE) so a transaction that read first never
        # fails to upgrade; readers stay DEFERRED and run beside a writer under WAL.
        # On the driver's cursor: SQLAlchemy's execution of the one word cost more than the
        # rest of beginning (issue 16, docs/performance.md "Seventh pass").
        options = conn.get_execution_options()
        if not options.get(WRITE_OPTION):
            on_cursor(conn, "BEGIN", ())
            return
        turn: WriterTurn | None = options.get(TURN_OPTION)
        if turn is not None:
            turn.take()
        on_cursor(conn, "BEGIN IMMEDIATE", ())


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings())


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


_Model = TypeVar("_Model", bound=SQLModel)


def detached(model: type[_Model], columns: Mapping[str, Any]) -> _Model:
    """An instance of a table model as the ORM would load it from these column values (every
    column given), detached from any session: for a row this request already holds (one it
    inserted, a Core row), without the ORM's per-query work or the model's validation, which is
    what loading does too (SQLAlchemy builds loaded instances with `new_instance`, not __init__)."""
    instance: _Model = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(columns)
    make_transient_to_detached(instance)
    return instance


WRITE_OPTION = "frontline_write"
TURN_OPTION = "frontline_writer_turn"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def open_session(*, write: bool, turn: WriterTurn | None = None) -> Session:
    """A session whose transactions are a writer's (IMMEDIATE on SQLite) when `write` is set. The
    transaction begins at the first statement, not here: a request does its reading and checking
    first, and holds SQLite's single write lock only for the statements that need it."""
    engine = get_engine()
    if not write:
        bind = engine
    elif turn is None:
        bind = _writer_bind(engine)
    else:
        bind = engine.execution_options(**{WRITE_OPTION: True, TURN_OPTION: turn})
    session = Session(bind, expire_on_commit=False)
    session.info[WRITE_OPTION] = write
    return session


@lru_cache(maxsize=4)
def _writer_bind(engine: Engine) -> Engine:
    """The engine with the writer's options and no turn (every PostgreSQL write; SQLite's outside
    a request), made once: a new option engine for every request cost 8–16 µs of CPU more
    (issue 16, docs/performance.md "Sixth pass"). A turn is a request's own, so a SQLite request's
    writer bind is still made for it."""
    return engine.execution_options(**{WRITE_OPTION: True, TURN_OPTION: None})


def is_writer(session: Session) -> bool:
    return bool(session.info.get(WRITE_OPTION))


@contextmanager
def reading_for(session: Session) -> Iterator[Session]:
    """Where a writing request reads what it checks before it writes: on SQLite a short reader
    session of its own, so the request does not take the single write lock (and this process's
    writer turn) for its reads and its Python work between them; on PostgreSQL, or when the
    request's write transaction has already begun, the request's own session (one connection).
    Only for reads whose answer cannot be undone before the write: rows that are never deleted
    (a session row is checked again on every request; teams, aims and partners are deactivated,
    never deleted)."""
    if not is_writer(session) or not is_sqlite(get_engine()) or session.in_transaction():
        yield session
        return
    with open_session(write=False) as reader:
        yield reader


@contextmanager
def reading_connection(session: Session) -> Iterator[Connection]:
    """reading_for's rule for a Core statement, without an ORM session: on SQLite, for a writing
    request whose write has not begun, a pooled connection of its own (a deferred read
    transaction, given back at once); otherwise the request's own connection. A Core row read
    this way costs a third of an ORM session's query (issue 16, docs/performance.md)."""
    if not is_writer(session) or not is_sqlite(get_engine()) or session.in_transaction():
        yield session.connection()
        return
    with get_engine().connect() as connection:
        yield connection


# SQLite lets one writer in at a time and makes the others poll with growing sleeps (up to 100 ms
# each); queueing this process's writers on a fair lock instead keeps the database busy and the
# waits short (bench/sync_ingest.py). PostgreSQL needs no such thing.
_SQLITE_WRITERS = threading.Lock()


class WriterTurn:
    """A request's place in the queue of this process's SQLite writers: taken when its write
    transaction begins (see _on_begin), given back when the request's session is done."""

    def __init__(self) -> None:
        self.held = False

    def take(self) -> None:
        if not self.held:
            _SQLITE_WRITERS.acquire()
            self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            _SQLITE_WRITERS.release()


_SLOTS: RunVar[anyio.Semaphore] = RunVar("frontline_database_slots")


def pool_capacity(engine: Engine) -> int:
    size = getattr(engine.pool, "size", None)
    overflow = getattr(engine.pool, "_max_overflow", 0)
    return max(1, size() + max(overflow, 0)) if callable(size) else 1


async def database_slot() -> AsyncIterator[None]:
    """A place among the requests using the database, as many as the pool has connections; the
    others wait here, on the event loop, holding neither a connection nor a thread.

    Without it a crowd could deadlock: a request holds its connection between thread hops (the
    sign-in check, the route, the serialisation of its answer each run in a worker thread), and
    when every worker thread was taken by requests waiting for a connection, the requests holding
    the connections waited for a thread until the pool gave up (500s for everyone; found by
    bench/load.py, tests/api/test_connection_use.py). With no more requests in this stage than
    connections (16 or 20, under anyio's 40 threads), a thread never waits for a connection."""
    try:
        slots = _SLOTS.get()
    except LookupError:
        slots = anyio.Semaphore(pool_capacity(get_engine()))
        _SLOTS.set(slots)
    async with slots:
        yield


@contextmanager
def request_transaction(request: Request) -> Iterator[Session]:
    """One request, one transaction: commit when the work returns, roll back when it raises. The
    session dependency below and the one-hop write routes (api/one_hop.py) both run this."""
    write = request.method not in SAFE_METHODS
    turn = WriterTurn() if write and is_sqlite(get_engine()) else None
    session = open_session(write=write, turn=turn)
    try:
        yield session
        session.commit()
    except BaseException:
        # Detach first: a rollback would expire the signed-in user that the error page reads.
        session.expunge_all()
        session.rollback()
        raise
    finally:
        session.close()
        if turn is not None:
            turn.give_back()


# database_slot as a context manager, for a route that takes its place itself (api/one_hop.py).
database_place = asynccontextmanager(database_slot)


def get_session(
    request: Request, _slot: Annotated[None, Depends(database_slot, scope="function")]
) -> Iterator[Session]:
    """One request, one transaction (request_transaction), as a dependency."""
    with request_transaction(request) as session:
        yield session


# scope="function": the commit runs when the route returns, before the response is sent. With the
# default ("request") FastAPI sends the response first, so a client could be told "created" (and
# delete its copy) for a record whose commit then failed, or follow a redirect before its session
# row was committed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
