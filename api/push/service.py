"""Push subscriptions and notifications as plain functions over the caller's session.

Nothing here commits: `notify` queues its deliveries in the caller's transaction, so a status change
and the notification about it are stored together or not at all (and a rolled-back change never
notifies anyone)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from api.auth.identity import ROLE_RANK
from api.config import get_settings
from api.errors import Invalid
from api.push import messages, repository
from api.push.delivery import wake_after_commit
from schemas.enums import Role
from schemas.field_errors import FieldError
from schemas.push import (
    PushDelivery,
    PushMessage,
    PushSubscriptionIn,
    PushSubscriptionRead,
    endpoint_problem,
)
from schemas.timestamps import utcnow

# One per device someone uses; a new one past this replaces the least recently used. It also caps
# how many requests one account can make the worker send for each notification.
MAX_SUBSCRIPTIONS_PER_USER = 10


@dataclass(frozen=True)
class Subscribed:
    subscription: PushSubscriptionRead
    created: bool


def subscribe(
    session: Session, user_id: int, body: PushSubscriptionIn, *, device: str
) -> Subscribed:
    """Store (or refresh) this browser's subscription for the user. A browser has one owner: when
    it was someone else's (a shared phone), it moves to this user and the notifications still
    queued for the previous owner are dropped, never shown to the new one."""
    settings = get_settings()
    problem = endpoint_problem(
        body.endpoint,
        allow_loopback_http=not settings.is_production,
        allowed_hosts=settings.push_host_patterns if settings.is_production else None,
    )
    if problem:
        raise Invalid([FieldError(field="endpoint", message=problem)])
    now = utcnow()
    existing = repository.subscription_by_endpoint(session, body.endpoint)
    if existing is None:
        new_id = repository.insert_subscription(
            session,
            {
                "user_id": user_id,
                "endpoint": body.endpoint,
                "p256dh": body.keys.p256dh,
                "auth": body.keys.auth,
                "user_agent": device,
                "created_at": now,
            },
        )
        if new_id is not None:
            repository.trim_subscriptions(session, user_id, MAX_SUBSCRIPTIONS_PER_USER)
            return Subscribed(
                PushSubscriptionRead(endpoint=body.endpoint, device=device, created_at=now), True
            )
        # The same browser subscribed in a parallel request a moment ago: refresh that row.
        existing = repository.subscription_by_endpoint(session, body.endpoint)
        assert existing is not None
    if existing.user_id != user_id:
        repository.drop_pending_deliveries(session, existing.id)  # type: ignore[arg-type]
        existing.user_id = user_id
    existing.p256dh = body.keys.p256dh
    existing.auth = body.keys.auth
    existing.user_agent = device
    session.add(existing)
    session.flush()
    repository.trim_subscriptions(session, user_id, MAX_SUBSCRIPTIONS_PER_USER)
    read = PushSubscriptionRead(
        endpoint=existing.endpoint, device=existing.user_agent, created_at=existing.created_at
    )
    return Subscribed(read, False)


def unsubscribe(session: Session, user_id: int, endpoint: str) -> bool:
    """Forget this browser if it is the caller's; someone else's subscription is left alone."""
    return repository.delete_subscription_of(session, user_id, endpoint) > 0


def notify(session: Session, user_id: int, *, title: str, body: str, url: str, tag: str) -> int:
    """Queue one notification for every browser of this (active) user, in the caller's
    transaction. Wording comes from `api.push.messages`: never text from a record. Returns how
    many deliveries were queued (0 when the user has not turned notifications on)."""
    message = PushMessage(title=title, body=body, url=url, tag=tag)
    return _queue(session, repository.subscription_ids_of_user(session, user_id), message)


def notify_role(
    session: Session,
    role_minimum: Role,
    *,
    title: str,
    body: str,
    url: str,
    tag: str,
    exclude_user_id: int | None = None,
) -> int:
    """The same for every active user with at least this role (Role.manager: managers and admins),
    except `exclude_user_id` (the person who caused it)."""
    message = PushMessage(title=title, body=body, url=url, tag=tag)
    roles = [role for role in ROLE_RANK if ROLE_RANK[role] >= ROLE_RANK[role_minimum]]
    ids = repository.subscription_ids_of_roles(session, roles, exclude_user_id)
    return _queue(session, ids, message)


def _queue(session: Session, subscription_ids: list[int], message: PushMessage) -> int:
    if not subscription_ids:
        return 0
    now = utcnow()
    window = timedelta(seconds=get_settings().push_coalesce_seconds)
    payload = message.model_dump()
    for subscription_id in subscription_ids:
        if window and _coalesced(session, subscription_id, message, now, window):
            continue
        session.add(
            PushDelivery(
                subscription_id=subscription_id,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
        )
    wake_after_commit(session)
    return len(subscription_ids)


def _coalesced(
    session: Session,
    subscription_id: int,
    message: PushMessage,
    now: datetime,
    window: timedelta,
) -> bool:
    """At most one notification per browser per window (issue #10: one reporter's batch of 100
    severe-harm notes was 100 pushes to each manager). Within the window of the last one, the
    message is counted into a summary that waits for the window's end; nothing is dropped, the
    summary is an ordinary pending delivery, sent and retried like any other. True when the
    message was counted into a summary (queued for later), False when it should go now."""
    held = repository.held_summary(session, subscription_id)
    if held is not None:
        counts: dict[str, int] = dict(held.payload.get("counts", {}))  # type: ignore[arg-type]
        counts[message.title] = int(counts.get(message.title, 0)) + 1
        if repository.update_held_summary(session, held.id, _summary_payload(counts)):  # type: ignore[arg-type]
            return True
    last = repository.last_scheduled_at(session, subscription_id, since=now - window)
    if last is None:
        return False
    session.add(
        PushDelivery(
            subscription_id=subscription_id,
            payload=_summary_payload({message.title: 1}),
            next_attempt_at=max(now, last + window),
            created_at=now,
        )
    )
    session.flush()
    return True


def _summary_payload(counts: dict[str, int]) -> dict[str, Any]:
    return {**messages.summary(counts).model_dump(), "counts": counts}


_BROWSERS = (
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Samsung Internet", r"SamsungBrowser/"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/"),
    ("Safari", r"Safari/"),
)
_PLATFORMS = (
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Android", r"Android"),
    ("Windows", r"Windows"),
    ("Mac", r"Macintosh"),
    ("Linux", r"Linux|X11"),
)


def device_label(user_agent: str) -> str:
    """A short name such as "Chrome on Android": enough to recognise a device, and no more."""
    user_agent = user_agent[:512]
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent)), "")
    platform = next((name for name, pattern in _PLATFORMS if re.search(pattern, user_agent)), "")
    if browser and platform:
        return f"{browser} on {platform}"
    return browser or platform or "Unknown browser"
