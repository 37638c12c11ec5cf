"""Push fixtures: the app with the push routes, the stand-in push service, and small helpers that
subscribe a signed-in client and queue notifications the way the triage code will."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from api.config import get_settings
from api.db import get_engine, open_session
from api.push import service
from api.push.keys import vapid_keys
from schemas.accounts import User
from schemas.push import PushDelivery, PushSubscription
from tests.push.stand_in import StandInPushService

SUBSCRIPTIONS = "/api/v1/push/subscriptions"
PUBLIC_KEY = "/api/v1/push/vapid-public-key"
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture(autouse=True)
def every_push_at_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """These tests follow each message through the queue, so nothing is coalesced here; coalescing
    has its own tests (tests/security/test_push_flood.py)."""
    monkeypatch.setenv("FRONTLINE_PUSH_COALESCE_SECONDS", "0")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def push_service() -> Iterator[StandInPushService]:
    with StandInPushService(vapid_keys().public_key) as stand_in:
        yield stand_in
    assert stand_in.problems == [], "the stand-in push service refused what it was sent"


@pytest.fixture
def engine() -> Any:
    return get_engine()


def user_id(email: str) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(User.id).where(User.email == email)).scalar_one())


def subscribe(client: Any, subscription: dict[str, Any]) -> Any:
    return client.post(SUBSCRIPTIONS, json=subscription, headers={"User-Agent": ANDROID_CHROME})


def unsubscribe(client: Any, body: dict[str, Any], *, csrf: bool = True) -> Any:
    headers = {"X-CSRF-Token": client.csrf} if csrf else {}
    return client.http.request("DELETE", SUBSCRIPTIONS, json=body, headers=headers)


def queue(email: str, *, tag: str = "idea-1", body: str = "Your idea has a new status") -> int:
    """notify() in a transaction of its own, committed, as a status change would."""
    with open_session(write=True) as session:
        queued = service.notify(
            session, user_id(email), title="Update on your idea", body=body, url="/mine", tag=tag
        )
        session.commit()
    return queued


def count(model: Any, *conditions: Any) -> int:
    with open_session(write=False) as session:
        statement = select(func.count()).select_from(model)
        for condition in conditions:
            statement = statement.where(condition)
        return int(session.execute(statement).scalar_one())


def deliveries() -> list[PushDelivery]:
    with open_session(write=False) as session:
        return list(session.execute(select(PushDelivery).order_by(PushDelivery.id)).scalars())  # type: ignore[arg-type]


def subscriptions() -> list[PushSubscription]:
    with open_session(write=False) as session:
        statement = select(PushSubscription).order_by(PushSubscription.id)  # type: ignore[arg-type]
        return list(session.execute(statement).scalars())
