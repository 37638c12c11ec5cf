"""Attack: one reporter's batch of 100 severe-harm notes sends every manager 100 pushes (issue #10,
finding 5). Pushes to one browser are coalesced: the first goes at once, what follows within
FRONTLINE_PUSH_COALESCE_SECONDS waits and goes as one summary with counts, and nothing is lost.
Time is moved by making the held summary due in the database, never by sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from api.db import get_engine, open_session
from api.push.delivery import deliver_due
from api.push.keys import vapid_keys
from schemas.push import DeliveryStatus, PushDelivery
from schemas.timestamps import utcnow
from tests.push.conftest import subscribe
from tests.push.stand_in import StandInPushService
from tests.records import handover_data, new_id

NARRATIVE = "Patient left on the trolley in bay four for two hours"


@pytest.fixture
def push_service() -> Iterator[StandInPushService]:
    """The stand-in push service of tests/push/, which decrypts what it receives."""
    with StandInPushService(vapid_keys().public_key) as stand_in:
        yield stand_in
    assert stand_in.problems == []


@pytest.fixture
def engine() -> Any:
    return get_engine()


def pending() -> list[PushDelivery]:
    with open_session(write=False) as session:
        return list(
            session.execute(
                select(PushDelivery).where(PushDelivery.status == DeliveryStatus.pending)
            ).scalars()
        )


def make_held_due() -> None:
    with open_session(write=True) as session:
        for delivery in session.execute(select(PushDelivery)).scalars():
            if delivery.status == DeliveryStatus.pending:
                delivery.next_attempt_at = utcnow()
        session.commit()


def severe_batch(crew: Any, n: int) -> None:
    items = [
        {"kind": "handover", "id": new_id(),
         "data": handover_data(harm="severe", narrative=f"{NARRATIVE} ({i})")}
        for i in range(n)
    ]  # fmt: skip
    response = crew.post("/api/v1/sync", json={"items": items})
    assert response.status_code == 200
    assert {r["outcome"] for r in response.json()["results"]} == {"created"}


def test_a_batch_of_100_severe_notes_is_one_push_and_one_summary_per_manager(
    crew: Any, manager: Any, push_service: StandInPushService, engine: Any
) -> None:
    assert subscribe(manager, push_service.new_subscription("manager-phone")).status_code == 201
    severe_batch(crew, 100)
    assert len(pending()) == 2  # one now, one summary held for the window
    assert deliver_due(engine) == 1
    [first] = push_service.delivered("manager-phone")
    assert first["body"] == "A new handover note reports severe harm"
    # Before the window ends nothing more goes, however many notes arrive.
    severe_batch(crew, 5)
    assert deliver_due(engine) == 0
    assert len(push_service.delivered("manager-phone")) == 1
    make_held_due()
    assert deliver_due(engine) == 1
    first, summary = push_service.delivered("manager-phone")
    assert summary["body"] == "104 new handover notes with moderate harm or worse"
    assert summary["url"] == "/handovers"
    assert set(summary) == {"title", "body", "url", "tag"}
    assert NARRATIVE not in str(summary)
    assert pending() == []


def test_a_summary_is_not_lost_when_the_push_service_fails_first(
    crew: Any, manager: Any, push_service: StandInPushService, engine: Any
) -> None:
    assert subscribe(manager, push_service.new_subscription("manager-phone")).status_code == 201
    severe_batch(crew, 3)
    assert deliver_due(engine) == 1
    push_service.answer("manager-phone", 503)
    make_held_due()
    assert deliver_due(engine) == 1  # tried, refused, rescheduled
    assert len(push_service.delivered("manager-phone")) == 1
    make_held_due()
    assert deliver_due(engine) == 1
    assert push_service.delivered("manager-phone")[-1]["body"] == (
        "2 new handover notes with moderate harm or worse"
    )


def test_after_a_quiet_window_the_next_push_goes_at_once(
    crew: Any, manager: Any, push_service: StandInPushService, engine: Any
) -> None:
    assert subscribe(manager, push_service.new_subscription("manager-phone")).status_code == 201
    severe_batch(crew, 1)
    assert deliver_due(engine) == 1
    with open_session(write=True) as session:
        for delivery in session.execute(select(PushDelivery)).scalars():
            delivery.sent_at = utcnow().replace(year=2020)
            delivery.next_attempt_at = utcnow().replace(year=2020)
        session.commit()
    severe_batch(crew, 1)
    assert deliver_due(engine) == 1
    assert len(push_service.delivered("manager-phone")) == 2


def test_severe_batches_at_once_lose_no_count_in_the_held_summary(
    app: Any, crew: Any, manager: Any, push_service: StandInPushService
) -> None:
    """Storing batches no longer queue on one lock (issue 16, decision 0012): batches counting
    into the same held summary at once count one after the other (the summary is locked while
    counted into), so what the manager is told adds up to every note."""
    import threading

    from tests.conftest import Client

    assert subscribe(manager, push_service.new_subscription("manager-phone")).status_code == 201
    severe_batch(crew, 2)  # one push now, one summary held
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def reporter() -> None:
        try:
            client = Client(app).sign_in("crew@demo.nhs.uk")
            start.wait()
            for _ in range(5):
                severe_batch(client, 3)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=reporter) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)  # a liveness guard, not a timing
    assert failures == [] and not any(t.is_alive() for t in threads)
    told = sum(
        sum(d.payload["counts"].values()) if "counts" in d.payload else 1  # type: ignore[union-attr]
        for d in pending()
    )
    assert told == 2 + 4 * 5 * 3
