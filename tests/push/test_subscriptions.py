"""Turning notifications on and off: the public key, POST and DELETE /api/v1/push/subscriptions."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from api.push.keys import vapid_keys
from api.push.service import MAX_SUBSCRIPTIONS_PER_USER, device_label
from schemas.push import DeliveryStatus, PushDelivery, PushSubscription, endpoint_problem
from tests.push.conftest import (
    PUBLIC_KEY,
    SUBSCRIPTIONS,
    count,
    deliveries,
    queue,
    subscribe,
    subscriptions,
    unsubscribe,
    user_id,
)
from tests.push.stand_in import StandInPushService, b64url


def fields(response: Any) -> dict[str, str]:
    return {error["field"]: error["message"] for error in response.json()["detail"]}


def test_a_signed_in_user_gets_the_public_key_browsers_subscribe_with(crew: Any) -> None:
    response = crew.get(PUBLIC_KEY)
    assert response.status_code == 200
    key = response.json()["public_key"]
    assert key == vapid_keys().public_key
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4  # an uncompressed P-256 point
    assert "=" not in key and set(response.json()) == {"public_key"}
    assert response.headers["Cache-Control"] == "no-store"


def test_without_a_session_every_push_endpoint_answers_401(
    client: Any, push_service: StandInPushService
) -> None:
    subscription = push_service.new_subscription()
    assert client.get(PUBLIC_KEY).status_code == 401
    assert client.http.post(SUBSCRIPTIONS, json=subscription).status_code == 401
    assert client.http.request("DELETE", SUBSCRIPTIONS, json=subscription).status_code == 401
    assert count(PushSubscription) == 0


def test_without_the_csrf_token_subscribing_and_unsubscribing_are_refused(
    crew: Any, push_service: StandInPushService
) -> None:
    subscription = push_service.new_subscription()
    assert crew.http.post(SUBSCRIPTIONS, json=subscription).status_code == 403
    assert count(PushSubscription) == 0
    assert subscribe(crew, subscription).status_code == 201
    assert unsubscribe(crew, subscription, csrf=False).status_code == 403
    assert count(PushSubscription) == 1


def test_a_browser_subscribes_once_and_subscribing_again_answers_200(
    crew: Any, push_service: StandInPushService
) -> None:
    subscription = push_service.new_subscription()
    first = subscribe(crew, subscription)
    assert first.status_code == 201
    assert first.json()["endpoint"] == subscription["endpoint"]
    assert first.json()["device"] == "Chrome on Android"
    assert "keys" not in first.json()
    again = subscribe(crew, subscription)
    assert again.status_code == 200
    assert again.json()["endpoint"] == subscription["endpoint"]
    [stored] = subscriptions()
    assert stored.user_id == user_id("crew@demo.nhs.uk")
    assert stored.p256dh == subscription["keys"]["p256dh"]
    assert stored.auth == subscription["keys"]["auth"]
    assert stored.user_agent == "Chrome on Android"  # never the whole User-Agent string


def test_subscribing_again_with_new_keys_keeps_one_row_with_the_new_keys(
    crew: Any, push_service: StandInPushService
) -> None:
    old = push_service.new_subscription("phone")
    subscribe(crew, old)
    renewed = push_service.new_subscription("phone")  # same endpoint, the browser's new keys
    assert subscribe(crew, renewed).status_code == 200
    [stored] = subscriptions()
    assert stored.p256dh == renewed["keys"]["p256dh"] != old["keys"]["p256dh"]


def _long_endpoint() -> str:
    return "https://fcm.googleapis.com/fcm/send/" + "a" * 2100


NOT_ON_CURVE = b64url(b"\x04" + b"\x01" * 64)


@pytest.mark.parametrize(
    ("change", "field", "message_part"),
    [
        ({"endpoint": "http://push.example.com/x"}, "endpoint", "https"),
        ({"endpoint": "ftp://push.example.com/x"}, "endpoint", "https"),
        ({"endpoint": "https://10.1.2.3/push"}, "endpoint", "not an IP address"),
        ({"endpoint": "https://[::1]/push"}, "endpoint", "not an IP address"),
        ({"endpoint": "https://localhost/push"}, "endpoint", "public push service host"),
        ({"endpoint": "https://intranet/push"}, "endpoint", "public push service host"),
        ({"endpoint": "https://push.example.com:8443/x"}, "endpoint", "standard https port"),
        ({"endpoint": "https://user:pw@push.example.com/x"}, "endpoint", "credentials"),
        ({"endpoint": "https://push.example.com/x y"}, "endpoint", "without spaces"),
        ({"endpoint": "https://pùsh.example.com/x"}, "endpoint", "non-ASCII"),
        ({"endpoint": "http://127.0.0.1/push"}, "endpoint", "127.0.0.1:<port>"),
        ({"endpoint": "http://192.168.0.1:8080/push"}, "endpoint", "https"),
        ({"endpoint": _long_endpoint()}, "endpoint", "2048 characters or fewer"),
        ({"endpoint": ""}, "endpoint", ""),
        (
            {"keys": {"p256dh": b64url(b"\x04" + b"\x01" * 10), "auth": b64url(b"a" * 16)}},
            "keys",
            "p256dh",
        ),
        ({"keys": {"p256dh": NOT_ON_CURVE, "auth": b64url(b"a" * 16)}}, "keys", "p256dh"),
        ({"keys": {"p256dh": "not base64!", "auth": b64url(b"a" * 16)}}, "keys", "p256dh"),
        ({"keys": {"p256dh": None, "auth": b64url(b"a" * 16)}}, "keys", ""),
        ("auth15", "keys", "auth"),
        ("no-keys", "keys", ""),
        ("no-endpoint", "endpoint", ""),
    ],
)
def test_a_bad_subscription_gets_a_field_level_422_and_stores_nothing(
    crew: Any, push_service: StandInPushService, change: Any, field: str, message_part: str
) -> None:
    body = push_service.new_subscription()
    if change == "auth15":
        body["keys"]["auth"] = b64url(b"a" * 15)
    elif change == "no-keys":
        del body["keys"]
    elif change == "no-endpoint":
        del body["endpoint"]
    else:
        body.update(change)
    response = subscribe(crew, body)
    assert response.status_code == 422, response.text
    assert field in fields(response)
    assert message_part in fields(response)[field]
    assert count(PushSubscription) == 0


def test_a_body_that_is_not_json_gets_a_422(crew: Any) -> None:
    response = crew.post(
        SUBSCRIPTIONS, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "body" in fields(response)


def test_plain_http_to_a_test_push_service_is_refused_outside_development_and_test() -> None:
    endpoint = "http://127.0.0.1:8089/push/abc"
    assert endpoint_problem(endpoint, allow_loopback_http=True) is None
    assert "https" in (endpoint_problem(endpoint, allow_loopback_http=False) or "")
    assert (
        endpoint_problem("https://fcm.googleapis.com/fcm/send/abc", allow_loopback_http=False)
        is None
    )
    assert endpoint_problem("https://web.push.apple.com/QGx:443", allow_loopback_http=False) is None


def test_another_users_browser_moves_to_the_caller_and_their_queued_news_is_dropped(
    crew: Any, staff: Any, push_service: StandInPushService, engine: Any
) -> None:
    shared_phone = push_service.new_subscription("shared-phone")
    assert subscribe(crew, shared_phone).status_code == 201
    queue("crew@demo.nhs.uk", tag="idea-crew")
    assert count(PushDelivery) == 1

    moved = subscribe(staff, shared_phone)
    assert moved.status_code == 200
    [stored] = subscriptions()
    assert stored.user_id == user_id("staff@demo.nhs.uk")
    assert count(PushDelivery) == 0  # the crew member's notification never reaches staff's phone

    # The previous owner cannot take it back by deleting it: it is no longer theirs.
    assert unsubscribe(crew, {"endpoint": shared_phone["endpoint"]}).status_code == 204
    assert count(PushSubscription) == 1


def test_turning_off_removes_only_the_callers_browser_and_can_be_repeated(
    crew: Any, staff: Any, push_service: StandInPushService
) -> None:
    phone, tablet = push_service.new_subscription(), push_service.new_subscription()
    staff_phone = push_service.new_subscription()
    subscribe(crew, phone)
    subscribe(crew, tablet)
    subscribe(staff, staff_phone)
    queue("crew@demo.nhs.uk")
    assert count(PushDelivery) == 2

    assert unsubscribe(crew, phone).status_code == 204  # the whole subscription JSON is fine
    assert [s.endpoint for s in subscriptions()] == [tablet["endpoint"], staff_phone["endpoint"]]
    assert [d.status for d in deliveries()] == [DeliveryStatus.pending]  # the tablet's only
    assert unsubscribe(crew, {"endpoint": phone["endpoint"]}).status_code == 204
    assert unsubscribe(crew, {"endpoint": staff_phone["endpoint"]}).status_code == 204
    assert count(PushSubscription) == 2


@pytest.mark.parametrize("body", [{}, {"endpoint": ""}, {"endpoint": "x" * 2049}, {"endpoint": 5}])
def test_turning_off_with_a_bad_body_gets_a_422(crew: Any, body: dict[str, Any]) -> None:
    response = unsubscribe(crew, body)
    assert response.status_code == 422
    assert "endpoint" in fields(response)


def test_a_user_keeps_the_most_recent_browsers_only(
    crew: Any, push_service: StandInPushService
) -> None:
    made = [push_service.new_subscription() for _ in range(MAX_SUBSCRIPTIONS_PER_USER + 2)]
    for subscription in made:
        assert subscribe(crew, subscription).status_code == 201
    kept = {s.endpoint for s in subscriptions()}
    assert kept == {s["endpoint"] for s in made[2:]}


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iPhone",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
            "Samsung Internet on Android",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
            "Firefox on Android",
        ),
        ("", "Unknown browser"),
    ],
)
def test_a_subscription_remembers_a_short_device_name_not_the_user_agent(
    user_agent: str, label: str
) -> None:
    assert device_label(user_agent) == label
