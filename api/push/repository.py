"""The push queries: subscriptions (over the request's session) and the delivery queue (over a
connection of the worker's own, one short transaction per step)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from schemas.accounts import User
from schemas.enums import Role
from schemas.push import DeliveryStatus, PushDelivery, PushSubscription

SUBSCRIPTION: Table = PushSubscription.__table__  # type: ignore[attr-defined]
DELIVERY: Table = PushDelivery.__table__  # type: ignore[attr-defined]
USER: Table = User.__table__  # type: ignore[attr-defined]


# Coalescing (api/push/service.py::_coalesced)


def held_summary(session: Session, subscription_id: int) -> PushDelivery | None:
    """The summary waiting for this browser's window to end, if there is one (not yet claimed).
    Locked until the caller's commit (PostgreSQL; SQLite's writers are one at a time): two
    requests counting into the same summary at once count one after the other, the second from
    the first's payload, so neither count is lost (storing batches no longer queue on one lock
    as a whole, issue 16)."""
    rows = session.execute(
        select(PushDelivery)
        .where(
            PushDelivery.subscription_id == subscription_id,
            PushDelivery.status == DeliveryStatus.pending,
            PushDelivery.claim_token.is_(None),  # type: ignore[union-attr]
            PushDelivery.attempts == 0,
        )
        .order_by(PushDelivery.id.desc())  # type: ignore[union-attr]
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars()
    return next((row for row in rows if "counts" in row.payload), None)


def update_held_summary(session: Session, delivery_id: int, payload: dict[str, Any]) -> bool:
    """Count one more into a held summary, unless a worker claimed it meanwhile (then False, and
    the caller holds a new one): the condition is repeated in the UPDATE, so no count is lost."""
    result = session.execute(
        update(DELIVERY)
        .where(
            DELIVERY.c.id == delivery_id,
            DELIVERY.c.status == DeliveryStatus.pending,
            DELIVERY.c.claim_token.is_(None),
        )
        .values(payload=payload)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def last_scheduled_at(
    session: Session, subscription_id: int, *, since: datetime
) -> datetime | None:
    """When this browser was last sent (or is due to be sent) a notification, if after ``since``."""
    when = func.coalesce(DELIVERY.c.sent_at, DELIVERY.c.next_attempt_at)
    value = session.execute(
        select(func.max(when)).where(
            DELIVERY.c.subscription_id == subscription_id,
            DELIVERY.c.status != DeliveryStatus.failed,
            when >= since,
        )
    ).scalar_one_or_none()
    if isinstance(value, str):  # SQLite hands back a COALESCE of datetimes as text
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


# Subscriptions


def subscription_by_endpoint(session: Session, endpoint: str) -> PushSubscription | None:
    # FOR UPDATE on PostgreSQL: a concurrent subscribe of the same browser waits for this one.
    # SQLite ignores it; its writers are already serialised (BEGIN IMMEDIATE).
    statement = (
        select(PushSubscription).where(SUBSCRIPTION.c.endpoint == endpoint).with_for_update()
    )
    return session.execute(statement).scalars().first()


def insert_subscription(session: Session, values: dict[str, Any]) -> int | None:
    """The new row's id, or None when the endpoint arrived meanwhile (the unique key decides)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(SUBSCRIPTION)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["endpoint"])
        .returning(SUBSCRIPTION.c.id)
    )
    return session.execute(statement).scalar_one_or_none()


def drop_pending_deliveries(session: Session, subscription_id: int) -> None:
    session.execute(
        delete(DELIVERY).where(
            DELIVERY.c.subscription_id == subscription_id,
            DELIVERY.c.status == DeliveryStatus.pending,
        )
    )


def delete_subscription_of(session: Session, user_id: int, endpoint: str) -> int:
    result = session.execute(
        delete(SUBSCRIPTION).where(
            SUBSCRIPTION.c.user_id == user_id, SUBSCRIPTION.c.endpoint == endpoint
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def trim_subscriptions(session: Session, user_id: int, keep: int) -> None:
    """Only the `keep` most recently used subscriptions of a user stay (one per device in use)."""
    last_used = func.coalesce(SUBSCRIPTION.c.last_success_at, SUBSCRIPTION.c.created_at)
    surplus = (
        select(SUBSCRIPTION.c.id)
        .where(SUBSCRIPTION.c.user_id == user_id)
        .order_by(last_used.desc(), SUBSCRIPTION.c.id.desc())
        .offset(keep)
    )
    ids = list(session.execute(surplus).scalars())
    if ids:
        session.execute(delete(SUBSCRIPTION).where(SUBSCRIPTION.c.id.in_(ids)))


def subscription_ids_of_user(session: Session, user_id: int) -> list[int]:
    statement = (
        select(SUBSCRIPTION.c.id)
        .join(USER, USER.c.id == SUBSCRIPTION.c.user_id)
        .where(SUBSCRIPTION.c.user_id == user_id, USER.c.active.is_(True))
        .order_by(SUBSCRIPTION.c.id)
    )
    return list(session.execute(statement).scalars())


def subscription_ids_of_roles(
    session: Session, roles: Sequence[Role], exclude_user_id: int | None
) -> list[int]:
    statement = (
        select(SUBSCRIPTION.c.id)
        .join(USER, USER.c.id == SUBSCRIPTION.c.user_id)
        .where(USER.c.role.in_([str(r) for r in roles]), USER.c.active.is_(True))
        .order_by(SUBSCRIPTION.c.id)
    )
    if exclude_user_id is not None:
        statement = statement.where(USER.c.id != exclude_user_id)
    return list(session.execute(statement).scalars())


# The delivery queue


@dataclass(frozen=True)
class DueDelivery:
    id: int
    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str
    payload: dict[str, str]
    attempts: int
    created_at: datetime


def claim_due(
    connection: Connection, *, token: str, now: datetime, lease_until: datetime, limit: int
) -> list[DueDelivery]:
    """Mark up to `limit` due deliveries as this worker's until `lease_until`, and read them.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent workers take different rows without waiting.
    SQLite: the caller's BEGIN IMMEDIATE makes this transaction the only writer. Either way the
    UPDATE repeats the due condition, so a row another worker claimed first is never taken twice."""
    due = (
        DELIVERY.c.status == DeliveryStatus.pending,
        DELIVERY.c.next_attempt_at <= now,
    )
    candidates = list(
        connection.execute(
            select(DELIVERY.c.id)
            .where(*due)
            .order_by(DELIVERY.c.next_attempt_at, DELIVERY.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    if not candidates:
        return []
    claimed = list(
        connection.execute(
            update(DELIVERY)
            .where(DELIVERY.c.id.in_(candidates), *due)
            .values(claim_token=token, next_attempt_at=lease_until)
            .returning(DELIVERY.c.id)
        ).scalars()
    )
    if not claimed:
        return []
    rows = connection.execute(
        select(
            DELIVERY.c.id,
            DELIVERY.c.subscription_id,
            SUBSCRIPTION.c.endpoint,
            SUBSCRIPTION.c.p256dh,
            SUBSCRIPTION.c.auth,
            DELIVERY.c.payload,
            DELIVERY.c.attempts,
            DELIVERY.c.created_at,
        )
        .join(SUBSCRIPTION, SUBSCRIPTION.c.id == DELIVERY.c.subscription_id)
        .where(DELIVERY.c.id.in_(claimed))
        .order_by(DELIVERY.c.id)
    )
    return [DueDelivery(*row) for row in rows]


def _claimed(delivery_id: int, token: str) -> tuple[Any, ...]:
    # Every change a worker makes is to a row it still holds; a lapsed claim changes nothing.
    return (DELIVERY.c.id == delivery_id, DELIVERY.c.claim_token == token)


def mark_sent(connection: Connection, delivery: DueDelivery, token: str, now: datetime) -> None:
    result = connection.execute(
        update(DELIVERY)
        .where(*_claimed(delivery.id, token))
        .values(
            status=DeliveryStatus.sent,
            sent_at=now,
            attempts=delivery.attempts + 1,
            last_error=None,
            claim_token=None,
        )
    )
    if result.rowcount:  # type: ignore[attr-defined]
        connection.execute(
            update(SUBSCRIPTION)
            .where(SUBSCRIPTION.c.id == delivery.subscription_id)
            .values(last_success_at=now)
        )


def reschedule(
    connection: Connection,
    delivery: DueDelivery,
    token: str,
    *,
    next_attempt_at: datetime,
    error: str,
) -> None:
    connection.execute(
        update(DELIVERY)
        .where(*_claimed(delivery.id, token))
        .values(
            attempts=delivery.attempts + 1,
            next_attempt_at=next_attempt_at,
            last_error=error,
            claim_token=None,
        )
    )


def mark_failed(
    connection: Connection, delivery: DueDelivery, token: str, *, error: str, attempted: bool
) -> None:
    connection.execute(
        update(DELIVERY)
        .where(*_claimed(delivery.id, token))
        .values(
            status=DeliveryStatus.failed,
            attempts=delivery.attempts + (1 if attempted else 0),
            last_error=error,
            claim_token=None,
        )
    )


def delete_subscription(connection: Connection, subscription_id: int) -> None:
    """The push service says this browser is gone; its deliveries go with it (ON DELETE CASCADE)."""
    connection.execute(delete(SUBSCRIPTION).where(SUBSCRIPTION.c.id == subscription_id))


def release(connection: Connection, token: str, now: datetime) -> None:
    """Hand back what this worker claimed but did not get to: due again at once."""
    connection.execute(
        update(DELIVERY)
        .where(DELIVERY.c.claim_token == token, DELIVERY.c.status == DeliveryStatus.pending)
        .values(claim_token=None, next_attempt_at=now)
    )


def prune_finished(connection: Connection, before: datetime) -> int:
    result = connection.execute(
        delete(DELIVERY).where(
            or_(
                DELIVERY.c.status == DeliveryStatus.sent,
                DELIVERY.c.status == DeliveryStatus.failed,
            ),
            DELIVERY.c.created_at < before,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
