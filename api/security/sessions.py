"""Server-side sessions: a random token in an HttpOnly cookie, its SHA-256 in the database.

Idle and absolute timeouts are enforced here on every lookup; sign-out and deactivation revoke.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from api.config import Settings
from api.db import detached, is_writer, open_session, reading_connection
from api.driver import read_rows
from schemas.accounts import User, UserSession
from schemas.timestamps import utcnow

# Writing last_seen_at on every request would make every read a write; a minute's slack is harmless
# against an idle timeout measured in hours.
LAST_SEEN_GRANULARITY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ActiveSession:
    token: str
    user: User


def start_session(session: Session, user: User, settings: Settings) -> str:
    """A fresh token for every sign-in (no fixation): the caller sets it as the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserSession(
            token_hash=_hash(token),
            user_id=user.id,  # type: ignore[arg-type]
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_max_hours),
        )
    )
    return token


def find_session(session: Session, token: str, settings: Settings) -> ActiveSession | None:
    """Looked up in the database on every request (nothing cached between requests), so a
    sign-out, an expiry or a deactivation takes effect on the very next request."""
    row = _lookup(session, token)
    if row is None:
        return None
    revoked_at, expires_at, last_seen_at, user = row
    now = utcnow()
    idle_limit = timedelta(minutes=settings.session_idle_minutes)
    if (
        revoked_at is not None
        or not user.active
        or now >= expires_at
        or now - last_seen_at >= idle_limit
    ):
        return None
    if now - last_seen_at >= LAST_SEEN_GRANULARITY:
        _touch(session, token)
    return ActiveSession(token=token, user=user)


Found = tuple[datetime | None, datetime, datetime, User]

_USER_COLUMNS = tuple(User.__table__.columns)  # type: ignore[attr-defined]
_USER_NAMES = tuple(column.name for column in _USER_COLUMNS)

# Built once: every request of every route runs it, and building it (and its cache key) again
# each time was a tenth of a one-item sync's CPU (issue 16). The token's hash is bound per request.
# The user's columns as a Core row, not an ORM entity: loading the entity through a session cost
# more than the query (issue 16, docs/performance.md "Fifth pass").
_LOOKUP = (
    select(UserSession.revoked_at, UserSession.expires_at, UserSession.last_seen_at, *_USER_COLUMNS)
    .join(User, User.id == UserSession.user_id)  # type: ignore[arg-type]
    .where(UserSession.token_hash == bindparam("token_hash"))  # type: ignore[arg-type]
)


def _lookup(session: Session, token: str) -> Found | None:
    """The session's times (revoked, expires, last seen) and its user, in one query: the user is
    the one model instance a request needs, built detached from its columns (as the ORM would
    load it), the session row is read as plain columns.

    On SQLite a writing request looks them up outside its own transaction, so that it queues for
    the write lock only when it has something to write. PostgreSQL has no such lock: there the
    request's own transaction reads them, which saves a second connection (and its ping and round
    trips) on every write (issue 16). On the driver's cursor (api/driver.py): on SQLite that
    connection then begins no transaction for the one statement either (issue 16, "Seventh
    pass"). Either way the user is in no session: a writing request
    that rolls back (a refused move) must not expire the user its error page still names."""
    with reading_connection(session) as connection:
        rows = read_rows(connection, _LOOKUP, {"token_hash": _hash(token)})
    if not rows:
        return None
    row = rows[0]
    user = detached(User, dict(zip(_USER_NAMES, row[3:], strict=True)))
    return (row[0], row[1], row[2], user)


def _touch(session: Session, token: str) -> None:
    """Record activity. A writing request does it in its own transaction; a reading one in a short
    transaction of its own, so that it never has to upgrade a read snapshot to a write (which
    SQLite refuses when another writer committed meanwhile)."""
    statement = (
        update(UserSession)
        .where(UserSession.token_hash == _hash(token))
        .values(last_seen_at=utcnow())
    )
    if is_writer(session):
        session.execute(statement)
        return
    # Give the read connection back first (nothing read is lost: expire_on_commit is off). Holding
    # it while waiting for a writer's connection let a crowd of such requests take the whole pool
    # and wait on each other until it timed out (tests/api/test_connection_use.py).
    session.commit()
    with open_session(write=True) as own:
        own.execute(statement)
        own.commit()


def end_session(session: Session, token: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _hash(token))
        .values(revoked_at=utcnow())
    )


def end_all_sessions_of(session: Session, user_id: int) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=utcnow())
    )


def session_token(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(settings.session_cookie_name)


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=settings.session_max_hours * 3600,
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        settings.session_cookie_name,
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )
