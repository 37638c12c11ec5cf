"""Notifications from a change to the browser: queued with the change, claimed once, sent with
pywebpush to a stand-in push service that checks the VAPID signature and decrypts what it gets."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError
from sqlalchemy import select, text, update

from api.db import open_session
from api.push import delivery, messages, service
from api.push.delivery import (
    BACKOFF_BASE,
    MAX_ATTEMPTS,
    TTL,
    deliver_due,
    prune,
    retry_after_delay,
    retry_delay,
    topic,
)
from api.push.repository import claim_due
from schemas.accounts import User
from schemas.enums import HandoverStatus, Harm, IdeaStatus, Role
from schemas.push import DeliveryStatus, PushDelivery, PushSubscription
from schemas.timestamps import utcnow
from tests.push.conftest import count, deliveries, queue, subscribe, subscriptions, user_id
from tests.push.stand_in import StandInPushService, b64url, unb64url
from tests.records import handover_data, idea_data, new_id

IDEA_TEXT = "Blue trolley keeps blocking bay four"


def test_a_status_change_reaches_the_browser_encrypted_and_names_only_what_changed(
    crew: Any, manager: Any, push_service: StandInPushService, engine: Any
) -> None:
    assert subscribe(crew, push_service.new_subscription("crew-phone")).status_code == 201
    idea_id = new_id()
    idea = {"id": idea_id, **idea_data(), "title": IDEA_TEXT, "problem": IDEA_TEXT + " again"}
    assert crew.post("/api/v1/ideas", json=idea).status_code == 201

    # What the triage code does on a move: the change and its notification in one transaction.
    with open_session(write=True) as session:
        message = messages.idea_status_changed(uuid.UUID(idea_id), IdeaStatus.accepted)
        queued = service.notify(session, user_id("crew@demo.nhs.uk"), **message.model_dump())
        assert queued == 1
        assert count(PushDelivery) == 0  # nothing is visible before the caller commits
        session.commit()

    assert deliver_due(engine) == 1
    assert push_service.delivered("crew-phone") == [
        {
            "title": "Update on your idea",
            "body": "Your idea has a new status: Accepted",
            "url": f"/mine#idea-{idea_id}",
            "tag": f"idea-{idea_id}",
        }
    ]
    [attempt] = push_service.attempts_for("crew-phone")
    assert IDEA_TEXT not in str(attempt.payload)
    assert attempt.headers["ttl"] == str(int(TTL.total_seconds()))
    assert attempt.headers["urgency"] == "normal"
    assert attempt.headers["topic"] == topic(f"idea-{idea_id}")
    [sent] = deliveries()
    assert (sent.status, sent.attempts, sent.last_error) == (DeliveryStatus.sent, 1, None)
    assert sent.sent_at is not None and sent.claim_token is None
    assert subscriptions()[0].last_success_at is not None
    assert deliver_due(engine) == 0  # sent is sent: never again


def test_a_rolled_back_change_notifies_nobody(
    crew: Any, push_service: StandInPushService, engine: Any
) -> None:
    subscribe(crew, push_service.new_subscription())
    with open_session(write=True) as session:
        service.notify(
            session,
            user_id("crew@demo.nhs.uk"),
            **messages.idea_commented(uuid.uuid4()).model_dump(),
        )
        session.rollback()
    assert count(PushDelivery) == 0
    assert deliver_due(engine) == 0
    assert push_service.attempts == []


def test_every_browser_of_the_user_is_notified_and_a_user_without_any_is_not(
    crew: Any, staff: Any, push_service: StandInPushService, engine: Any
) -> None:
    subscribe(crew, push_service.new_subscription("phone"))
    subscribe(crew, push_service.new_subscription("tablet"))
    assert queue("crew@demo.nhs.uk") == 2
    assert queue("staff@demo.nhs.uk") == 0
    assert deliver_due(engine) == 2
    assert len(push_service.delivered("phone")) == len(push_service.delivered("tablet")) == 1


def test_harm_alerts_go_to_managers_and_admins_but_not_reporters_or_the_one_who_caused_them(
    crew: Any, manager: Any, admin: Any, push_service: StandInPushService, engine: Any
) -> None:
    for client, name in ((crew, "crew"), (manager, "manager"), (admin, "admin")):
        subscribe(client, push_service.new_subscription(name))
    note_id = uuid.uuid4()
    message = messages.handover_harm_reported(note_id, Harm.severe)
    with open_session(write=True) as session:
        assert service.notify_role(session, Role.manager, **message.model_dump()) == 2
        assert (
            service.notify_role(
                session,
                Role.manager,
                **message.model_dump(),
                exclude_user_id=user_id("manager@demo.nhs.uk"),
            )
            == 1
        )
        session.commit()
    deliver_due(engine)
    assert push_service.delivered("crew") == []
    assert len(push_service.delivered("manager")) == 1
    assert len(push_service.delivered("admin")) == 2
    assert push_service.delivered("admin")[0] == {
        "title": "Handover note to review",
        "body": "A new handover note reports severe harm",
        "url": f"/handovers/{note_id}",
        "tag": f"handover-{note_id}",
    }


def test_a_deactivated_user_is_not_notified(crew: Any, push_service: StandInPushService) -> None:
    subscribe(crew, push_service.new_subscription())
    with open_session(write=True) as session:
        session.execute(update(User).where(User.email == "crew@demo.nhs.uk").values(active=False))  # type: ignore[arg-type]
        session.commit()
    assert queue("crew@demo.nhs.uk") == 0


@pytest.mark.parametrize(
    "change",
    [
        {"body": "Patient 943 476 5919 was delayed"},  # an NHS number: refused outright
        {"title": "x" * 61},
        {"body": "y" * 161},
        {"url": "https://elsewhere.example/phish"},
        {"url": "//elsewhere.example/phish"},
        {"url": "/mine\\evil"},
        {"tag": "Not A Tag"},
        {"title": ""},
    ],
)
def test_notify_refuses_what_a_notification_must_not_carry(change: dict[str, str]) -> None:
    fields = {"title": "Update on your idea", "body": "A new status", "url": "/mine", "tag": "t"}
    with open_session(write=True) as session, pytest.raises(ValidationError):
        service.notify(session, user_id("crew@demo.nhs.uk"), **{**fields, **change})


def test_every_message_names_what_changed_and_links_to_this_site() -> None:
    record = uuid.uuid4()
    built = [messages.idea_status_changed(record, status) for status in IdeaStatus] + [
        messages.idea_commented(record)
    ]
    built += [messages.handover_status_changed(record, status) for status in HandoverStatus]
    built += [messages.handover_harm_reported(record, harm) for harm in Harm]
    for message in built:
        payload = message.model_dump()
        assert set(payload) == {"title", "body", "url", "tag"}
        assert payload["url"].startswith("/") and str(record) in payload["url"]


@pytest.mark.parametrize("status", [404, 410])
def test_a_browser_the_push_service_says_is_gone_is_forgotten_with_its_queue(
    crew: Any, push_service: StandInPushService, engine: Any, status: int
) -> None:
    subscribe(crew, push_service.new_subscription("gone"))
    subscribe(crew, push_service.new_subscription("kept"))
    queue("crew@demo.nhs.uk", tag="first")
    queue("crew@demo.nhs.uk", tag="second")
    push_service.answer("gone", status)

    assert deliver_due(engine) == 4
    assert [s.endpoint.rsplit("/", 1)[1] for s in subscriptions()] == ["kept"]
    assert len(push_service.attempts_for("gone")) == 1  # its second notification was not tried
    assert [d.status for d in deliveries()] == [DeliveryStatus.sent, DeliveryStatus.sent]
    assert len(push_service.delivered("kept")) == 2


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_busy_or_failing_push_service_is_tried_again_later_and_the_message_arrives(
    crew: Any, push_service: StandInPushService, engine: Any, status: int
) -> None:
    subscribe(crew, push_service.new_subscription("phone"))
    queue("crew@demo.nhs.uk")
    push_service.answer("phone", status)
    now = utcnow()

    assert deliver_due(engine, now=now) == 1
    [waiting] = deliveries()
    assert waiting.status == DeliveryStatus.pending
    assert (waiting.attempts, waiting.last_error, waiting.claim_token) == (1, str(status), None)
    assert now + BACKOFF_BASE / 2 <= waiting.next_attempt_at <= now + BACKOFF_BASE

    assert deliver_due(engine, now=now + BACKOFF_BASE / 4) == 0  # not yet due
    assert deliver_due(engine, now=waiting.next_attempt_at) == 1
    [sent] = deliveries()
    assert (sent.status, sent.attempts, sent.last_error) == (DeliveryStatus.sent, 2, None)
    assert [a.status for a in push_service.attempts_for("phone")] == [status, 201]
    assert len(push_service.delivered("phone")) == 1


def test_retry_after_from_the_push_service_is_respected(
    crew: Any, push_service: StandInPushService, engine: Any
) -> None:
    subscribe(crew, push_service.new_subscription("phone"))
    queue("crew@demo.nhs.uk")
    push_service.answer("phone", 429, headers={"Retry-After": "600"})
    now = utcnow()
    deliver_due(engine, now=now)
    [waiting] = deliveries()
    assert waiting.next_attempt_at >= now + timedelta(seconds=600)


def test_the_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    now = utcnow()
    assert retry_delay(1, random=lambda: 0.0) == BACKOFF_BASE / 2
    assert retry_delay(1, random=lambda: 0.999) < BACKOFF_BASE
    assert retry_delay(3, random=lambda: 0.0) == BACKOFF_BASE * 2
    assert retry_delay(30, random=lambda: 0.999) <= delivery.BACKOFF_CAP
    assert retry_delay(1, "7200", now, random=lambda: 0.0) == delivery.BACKOFF_CAP
    assert retry_after_delay("120", now) == timedelta(seconds=120)
    later = (now + timedelta(minutes=5)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert timedelta(minutes=4) < retry_after_delay(later, now) <= timedelta(minutes=5)  # type: ignore[operator]
    assert retry_after_delay("soon", now) is None
    # Odd headers from a push service: digits int() cannot read, and a delay past timedelta's range.
    assert retry_after_delay("²", now) is None
    assert retry_after_delay("9" * 30, now) == timedelta(days=1)


def test_a_message_that_keeps_failing_stops_after_the_last_attempt(
    crew: Any, push_service: StandInPushService, engine: Any
) -> None:
    subscribe(crew, push_service.new_subscription("phone"))
    queue("crew@demo.nhs.uk")
    push_service.answer("phone", *([500] * MAX_ATTEMPTS))
    now = utcnow()
    for _ in range(MAX_ATTEMPTS):
        assert deliver_due(engine, now=now) == 1
        now = deliveries()[0].next_attempt_at
    [failed] = deliveries()
    assert (failed.status, failed.attempts, failed.last_error) == (
        DeliveryStatus.failed,
        MAX_ATTEMPTS,
        "500",
    )
    assert deliver_due(engine, now=now + timedelta(days=1)) == 0
    assert len(push_service.attempts_for("phone")) == MAX_ATTEMPTS


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_other_refusals_fail_at_once_without_retrying(
    crew: Any, push_service: StandInPushService, engine: Any, status: int
) -> None:
    subscribe(crew, push_service.new_subscription("phone"))
    queue("crew@demo.nhs.uk")
    push_service.answer("phone", status)
    deliver_due(engine)
    [failed] = deliveries()
    assert (failed.status, failed.attempts, failed.last_error) == (
        DeliveryStatus.failed,
        1,
        str(status),
    )
    assert count(PushSubscription) == 1  # only 404/410 mean the browser is gone


def test_a_redirect_is_not_followed(
    crew: Any, push_service: StandInPushService, engine: Any
) -> None:
    subscribe(crew, push_service.new_subscription("phone"))
    queue("crew@demo.nhs.uk")
    push_service.answer("phone", 307, headers={"Location": f"{push_service.origin}/push/elsewhere"})
    deliver_due(engine)
    assert push_service.unknown == []
    [failed] = deliveries()
    assert (failed.status, failed.last_error) == (DeliveryStatus.failed, "307")


def test_a_push_service_that_cannot_be_reached_is_tried_again_later(
    crew: Any, push_service: StandInPushService, engine: Any
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    subscription = push_service.new_subscription()
    subscription["endpoint"] = f"http://127.0.0.1:{closed_port}/push/nobody-listens"
    subscribe(crew, subscription)
    queue("crew@demo.nhs.uk")
    assert deliver_due(engine) == 1
    [waiting] = deliveries()
    assert (waiting.status, waiting.attempts, waiting.last_error) == (
        DeliveryStatus.pending,
        1,
        "network",
    )


def test_news_older_than_its_time_to_live_is_not_sent(
    crew: Any, push_service: StandInPushService, engine: Any
) -> None:
    subscribe(crew, push_service.new_subscription("phone"))
    queue("crew@demo.nhs.uk")
    assert deliver_due(engine, now=utcnow() + TTL + timedelta(minutes=1)) == 1
    [expired] = deliveries()
    assert (expired.status, expired.attempts, expired.last_error) == (
        DeliveryStatus.failed,
        0,
        "expired",
    )
    assert push_service.attempts == []


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_ends(
    crew: Any, push_service: StandInPushService, engine: Any
) -> None:
    subscribe(crew, push_service.new_subscription())
    queue("crew@demo.nhs.uk")
    now = utcnow()
    lease_until = now + timedelta(minutes=10)
    with engine.begin() as connection:
        first = claim_due(connection, token="a" * 32, now=now, lease_until=lease_until, limit=10)
    with engine.begin() as connection:
        second = claim_due(connection, token="b" * 32, now=now, lease_until=lease_until, limit=10)
    assert len(first) == 1 and second == []
    # The worker that claimed it died: once the lease is over, another worker sends it.
    assert deliver_due(engine, now=lease_until) == 1
    assert len(push_service.delivered()) == 1


def test_workers_running_at_once_never_send_a_message_twice(
    crew: Any, staff: Any, manager: Any, push_service: StandInPushService, engine: Any
) -> None:
    emails = ("crew@demo.nhs.uk", "staff@demo.nhs.uk", "manager@demo.nhs.uk")
    for client, email in zip((crew, staff, manager), emails, strict=True):
        subscribe(client, push_service.new_subscription(email.split("@")[0]))
    for number in range(20):
        for email in emails:
            queue(email, tag=f"n-{number}")
    push_service.delay = 0.005  # a real push service takes a moment; let the workers overlap
    start = threading.Barrier(4)
    handled: list[int] = []

    def worker() -> None:
        start.wait()
        total = 0
        while (batch := deliver_due(engine, limit=5)) > 0:
            total += batch
        handled.append(total)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    received = [(a.name, a.payload["tag"]) for a in push_service.attempts if a.payload]
    assert len(received) == 60
    assert len(set(received)) == 60
    assert sum(handled) == 60
    assert {d.status for d in deliveries()} == {DeliveryStatus.sent}


def test_a_worker_skips_rows_another_worker_holds_instead_of_waiting_for_them(
    crew: Any, push_service: StandInPushService, engine: Any
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(
            "PostgreSQL only: SQLite has no row locks to skip (its writers take turns under "
            "BEGIN IMMEDIATE, which test_workers_running_at_once_never_send_a_message_twice covers)"
        )
    subscribe(crew, push_service.new_subscription("phone"))
    for number in range(6):
        queue("crew@demo.nhs.uk", tag=f"n-{number}")
    ids = [d.id for d in deliveries()]
    held = ids[:3]
    with engine.connect() as other_worker:
        transaction = other_worker.begin()
        other_worker.execute(
            text("SELECT id FROM push_delivery WHERE id = ANY(:ids) FOR UPDATE"), {"ids": held}
        )
        done: list[int] = []
        sender = threading.Thread(target=lambda: done.append(deliver_due(engine)))
        sender.start()
        sender.join(timeout=30)
        assert done == [3], "deliver_due waited for locked rows instead of skipping them"
        transaction.rollback()
    with open_session(write=False) as session:
        pending = session.execute(
            select(PushDelivery.id).where(PushDelivery.status == DeliveryStatus.pending)  # type: ignore[arg-type]
        )
        assert sorted(pending.scalars()) == held
    assert deliver_due(engine) == 3
    assert len(push_service.delivered("phone")) == 6


def test_finished_deliveries_are_pruned_after_a_week(
    crew: Any, push_service: StandInPushService, engine: Any
) -> None:
    subscribe(crew, push_service.new_subscription())
    queue("crew@demo.nhs.uk", tag="old")
    deliver_due(engine)
    queue("crew@demo.nhs.uk", tag="waiting")
    assert prune(engine) == 0
    assert prune(engine, now=utcnow() + timedelta(days=8)) == 1
    assert [d.payload["tag"] for d in deliveries()] == ["waiting"]  # pending rows are never pruned


def test_the_in_process_worker_sends_as_soon_as_the_change_commits(
    crew: Any, push_service: StandInPushService, engine: Any
) -> None:
    subscribe(crew, push_service.new_subscription("phone"))
    # A long interval: only the wake-up on commit can make it send within the test's patience.
    loop = delivery.start_in_process_worker(engine=engine, interval=300)
    assert loop is not None
    try:
        time.sleep(0.5)  # its first round (nothing due) is over; it is waiting
        queue("crew@demo.nhs.uk")
        deadline = time.monotonic() + 10
        while not push_service.delivered("phone") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(push_service.delivered("phone")) == 1
    finally:
        loop.stop()
        loop.join(timeout=20)
    assert not loop.alive


def test_the_in_process_worker_can_be_switched_off_for_a_separate_worker(
    monkeypatch: pytest.MonkeyPatch, engine: Any
) -> None:
    monkeypatch.setenv("FRONTLINE_PUSH_WORKER", "off")
    from api.config import get_settings

    get_settings.cache_clear()
    try:
        assert delivery.start_in_process_worker(engine=engine) is None
    finally:
        monkeypatch.delenv("FRONTLINE_PUSH_WORKER")
        get_settings.cache_clear()


def test_the_lifespan_runs_the_worker_while_the_app_serves() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    application = FastAPI(lifespan=delivery.lifespan)
    with TestClient(application):
        loop = application.state.push_worker
        assert loop is not None and loop.alive
    assert not loop.alive


def test_the_stand_in_refuses_a_wrong_signing_key_and_a_body_it_cannot_decrypt(
    crew: Any, push_service: StandInPushService, engine: Any
) -> None:
    """The stand-in's checks are real: what passes above was signed and encrypted correctly."""
    from api.push.keys import VapidKeys, vapid_keys

    subscribe(crew, push_service.new_subscription("phone"))
    queue("crew@demo.nhs.uk")
    stranger = ec.generate_private_key(ec.SECP256R1())
    deliver_due(
        engine,
        keys=VapidKeys(stranger, vapid_keys().public_key, vapid_keys().subject),
    )
    assert push_service.problems == ["k is not the server's VAPID public key"]
    push_service.problems.clear()
    # The server's key in k, but a signature that does not match it.
    claims = {"sub": "mailto:a@b.nhs.uk", "aud": push_service.origin, "exp": int(time.time()) + 60}
    fields = dict(
        part.split("=", 1)
        for part in vapid_keys().signer().sign(claims)["Authorization"][6:].split(",")
    )
    signed, signature = fields["t"].rsplit(".", 1)
    flipped = bytearray(unb64url(signature))
    flipped[10] ^= 1
    forged = f"vapid t={signed}.{b64url(bytes(flipped))},k={fields['k']}"
    assert push_service._check_vapid(forged) == [
        "the JWT signature does not verify with the VAPID public key"
    ]

    other = push_service.new_subscription("other")
    mixed = push_service.new_subscription("mixed")
    mixed["keys"] = other["keys"]  # encrypted for another browser's keys
    subscribe(crew, mixed)
    queue("crew@demo.nhs.uk", tag="second")
    deliver_due(engine, now=utcnow() + timedelta(hours=2))
    assert [p.split(":")[0] for p in push_service.problems] == ["cannot decrypt"]
    push_service.problems.clear()
    assert push_service.delivered("mixed") == []


def test_a_managers_move_and_comment_reach_the_submitters_phone(
    crew: Any, manager: Any, push_service: StandInPushService, engine: Any
) -> None:
    assert subscribe(crew, push_service.new_subscription("crew-phone-2")).status_code == 201
    idea_id = new_id()
    assert (
        crew.post("/api/v1/ideas", json={"id": idea_id, **idea_data(title=IDEA_TEXT)}).status_code
        == 201
    )
    assert (
        manager.post(
            f"/api/v1/ideas/{idea_id}/transitions", json={"to": "under_review"}
        ).status_code
        == 200
    )
    assert (
        manager.post(f"/api/v1/ideas/{idea_id}/comments", json={"body": IDEA_TEXT}).status_code
        == 201
    )
    assert deliver_due(engine) == 2
    bodies = [m["body"] for m in push_service.delivered("crew-phone-2")]
    assert sorted(bodies) == sorted(
        ["Your idea has a new status: Under review", "A manager has commented on your idea"]
    )
    assert IDEA_TEXT not in str(push_service.delivered("crew-phone-2"))


def test_a_handover_with_moderate_harm_alerts_the_managers_phones(
    crew: Any, manager: Any, push_service: StandInPushService, engine: Any
) -> None:
    assert subscribe(manager, push_service.new_subscription("manager-phone")).status_code == 201
    note_id = new_id()
    body = {"id": note_id, **handover_data(harm="moderate")}
    assert crew.post("/api/v1/handovers", json=body).status_code == 201
    assert (
        crew.post("/api/v1/handovers", json=body).status_code == 200
    )  # a replay alerts nobody again
    assert deliver_due(engine) == 1
    [alert] = push_service.delivered("manager-phone")
    assert alert["body"] == "A new handover note reports moderate harm"
    assert alert["url"] == f"/handovers/{note_id}"
