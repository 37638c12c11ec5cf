"""Rate limits counted in the database, so they hold across several app processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlmodel import Session

from schemas.accounts import ThrottleEvent
from schemas.timestamps import utcnow


def count_recent(session: Session, key: str, window: timedelta) -> int:
    since = utcnow() - window
    statement = select(func.count()).where(ThrottleEvent.key == key, ThrottleEvent.at >= since)
    return int(session.execute(statement).scalar_one())


def record(session: Session, *keys: str) -> None:
    now = utcnow()
    session.add_all(ThrottleEvent(key=key, at=now) for key in keys)


def forget(session: Session, key: str) -> None:
    session.execute(delete(ThrottleEvent).where(ThrottleEvent.key == key))


def prune(session: Session, older_than: timedelta) -> int:
    result = session.execute(delete(ThrottleEvent).where(ThrottleEvent.at < utcnow() - older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def count_and_last(session: Session, key: str, window: timedelta) -> tuple[int, datetime | None]:
    """How many events under ``key`` in the window, and when the latest was."""
    since = utcnow() - window
    statement = select(func.count(), func.max(ThrottleEvent.at)).where(
        ThrottleEvent.key == key, ThrottleEvent.at >= since
    )
    count, last = session.execute(statement).one()
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)  # SQLite hands back what it stored, naive UTC
    return int(count), last
