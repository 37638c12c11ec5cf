"""An answer is sent only after its transaction has committed: a phone deletes its copy on "created",
and a browser follows the sign-in redirect at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

from tests.conftest import DEMO_PASSWORDS, Client
from tests.records import handover_data, new_id


class Order:
    def __init__(self) -> None:
        self.events: list[str] = []


def recording(app: Any, order: Order) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                order.events.append("response")
            await send(message)

        await app(scope, receive, watch)

    return wrapped


@pytest.fixture
def order(monkeypatch: pytest.MonkeyPatch) -> Any:
    seen = Order()

    def after_commit(_session: Any) -> None:
        seen.events.append("commit")

    event.listen(OrmSession, "after_commit", after_commit)
    yield seen
    event.remove(OrmSession, "after_commit", after_commit)


def test_a_sync_answer_follows_its_commit(app: Any, crew: Any, order: Order) -> None:
    client = Client(recording(app, order))
    client.http.cookies = crew.http.cookies
    client.csrf = crew.csrf
    order.events.clear()
    body = {"items": [{"kind": "handover", "id": new_id(), "data": handover_data()}]}
    assert client.post("/api/v1/sync", json=body).status_code == 200
    assert order.events.index("commit") < order.events.index("response")


def test_the_sign_in_redirect_follows_the_new_session_commit(app: Any, order: Order) -> None:
    client = Client(recording(app, order))
    token = client.page_token("/login")
    order.events.clear()
    email = "crew@demo.nhs.uk"
    response = client.http.post(
        "/login", data={"email": email, "password": DEMO_PASSWORDS[email], "csrf_token": token}
    )
    assert response.status_code == 303
    assert order.events.index("commit") < order.events.index("response")
