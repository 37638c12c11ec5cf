"""Issue #10, finding 3 (medium): a push subscription's endpoint is a URL anyone with a session
chooses, and the delivery worker POSTs to it. In production only https endpoints on the push
services in FRONTLINE_PUSH_HOSTS are accepted (schemas/push.py), and the worker's connection refuses
loopback, private, link-local and other non-global addresses after resolution, connecting to the
address it checked (api/push/outbound.py). Development and test keep loopback for the stand-in."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select

from api.config import get_settings
from api.db import get_engine, open_session
from api.errors import Invalid
from api.push import service
from api.push.delivery import deliver_due
from api.push.keys import vapid_keys
from api.push.outbound import address_allowed, refused, use_checked_connections
from schemas.push import PushDelivery, PushSubscription, PushSubscriptionIn
from tests.push.conftest import queue, user_id
from tests.push.stand_in import StandInPushService

KEYS: dict[str, str] = {}

# What the old check let through in production, and more of the same kind.
ADDRESS_FORMS = [
    "https://127.1/push",
    "https://0x7f.0.0.1/push",
    "https://0x7f000001/push",
    "https://2130706433/push",
    "https://017700000001/push",
    "https://10.1/push",
    "https://192.168.1/push",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/push",
    "https://[::ffff:127.0.0.1]/push",
    "https://[::ffff:7f00:1]/push",
    "https://[fe80::1%25eth0]/push",
    "https://[fd00::1]/push",
]
INTERNAL_NAMES = [
    "https://intranet/push",
    "https://push.intranet.trust.nhs.uk/push",
    "https://fcm.googleapis.com.attacker.example/push",
    "https://notfcm.googleapis.com/push",
    "https://push.apple.com/push",  # the bare domain of a `*.` pattern is not a subdomain
    "https://fcm.googleapis.com:8443/push",
    "http://fcm.googleapis.com/push",
    "http://127.0.0.1:8080/push",
]
PUSH_SERVICES = [
    "https://fcm.googleapis.com/fcm/send/abc:def",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
    "https://web.push.apple.com/QGx-abc",
    "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB",
]


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FRONTLINE_ENVIRONMENT", "production")
    monkeypatch.setenv("FRONTLINE_SECRET_KEY", "security-tests-production-key-0123456789")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def browser_keys() -> dict[str, str]:
    if not KEYS:
        with StandInPushService(vapid_keys().public_key) as stand_in:
            KEYS.update(stand_in.new_subscription()["keys"])
    return KEYS


def subscribe(endpoint: str) -> Any:
    body = PushSubscriptionIn.model_validate({"endpoint": endpoint, "keys": browser_keys()})
    with open_session(write=True) as session:
        result = service.subscribe(session, user_id("crew@demo.nhs.uk"), body, device="Chrome")
        session.commit()
    return result


def stored_endpoints() -> list[str]:
    with open_session(write=False) as session:
        return list(session.execute(select(PushSubscription.endpoint)).scalars())


@pytest.mark.parametrize("endpoint", ADDRESS_FORMS + INTERNAL_NAMES)
def test_production_refuses_endpoints_off_the_push_services(
    production: None, endpoint: str
) -> None:
    with pytest.raises(Invalid) as refusal:
        subscribe(endpoint)
    assert refusal.value.errors[0].field == "endpoint"
    assert stored_endpoints() == []


@pytest.mark.parametrize("endpoint", PUSH_SERVICES)
def test_production_accepts_the_browsers_push_services(production: None, endpoint: str) -> None:
    subscribe(endpoint)
    assert stored_endpoints() == [endpoint]


@pytest.mark.parametrize("endpoint", ADDRESS_FORMS)
def test_address_forms_are_refused_in_development_too(endpoint: str) -> None:
    with pytest.raises(Invalid):
        subscribe(endpoint)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2a00:1450:4009:81f::200a", True),
        ("127.0.0.1", False),
        ("127.1.2.3", False),
        ("0.0.0.0", False),  # noqa: S104 - an address to refuse, not one to bind
        ("10.0.0.5", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),  # link-local: cloud metadata
        ("224.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:0a00:0001::1", False),  # 6to4 of 10.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
    ],
)
def test_only_global_addresses_may_be_reached_in_production(address: str, allowed: bool) -> None:
    assert address_allowed(address, allow_loopback=False) is allowed


def post_through_checked_session(url: str) -> requests.Response:
    with requests.Session() as http:
        http.trust_env = False  # direct, whatever proxy this machine names: the path under test
        use_checked_connections(http)
        return http.post(url, data=b"{}", timeout=5)


def test_the_delivery_connection_refuses_loopback_in_production(production: None) -> None:
    with StandInPushService(vapid_keys().public_key) as stand_in:
        for host in ("127.0.0.1", "localhost"):
            with pytest.raises(requests.ConnectionError) as failure:
                post_through_checked_session(f"http://{host}:{stand_in.port}/push/anyone")
            assert refused(failure.value)
        assert stand_in.attempts == [] and stand_in.unknown == []


def test_the_delivery_connection_reaches_the_stand_in_on_loopback_in_test() -> None:
    with StandInPushService(vapid_keys().public_key) as stand_in:
        answer = post_through_checked_session(f"{stand_in.origin}/push/anyone")
        assert answer.status_code < 500
        assert stand_in.unknown or stand_in.attempts  # it arrived


def resolving_to(monkeypatch: pytest.MonkeyPatch, name: str, address: str) -> None:
    """The trust's DNS: `name` is an internal host (or a rebinding attacker's record)."""
    real = socket.getaddrinfo

    def lookup(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == name:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)


@pytest.mark.parametrize("address", ["10.20.30.40", "192.168.0.10", "169.254.169.254", "fd12::1"])
def test_a_name_that_resolves_into_the_network_is_refused_even_in_test(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    resolving_to(monkeypatch, "push.intranet.example", address)
    with pytest.raises(requests.ConnectionError) as failure:
        post_through_checked_session("http://push.intranet.example:8080/push/anyone")
    assert refused(failure.value)


def test_a_push_service_name_answering_with_loopback_is_not_sent_to_in_production(
    production: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The endpoint passes the host list; its name resolves to loopback (DNS rebinding, or a
    poisoned resolver): the worker records the refusal and does not try again."""
    endpoint = "https://fcm.googleapis.com/fcm/send/rebound"
    subscribe(endpoint)
    queue("crew@demo.nhs.uk")
    resolving_to(monkeypatch, "fcm.googleapis.com", "127.0.0.1")

    assert deliver_due(get_engine()) == 1

    with open_session(write=False) as session:
        delivery = session.execute(select(PushDelivery)).scalar_one()
    assert (delivery.status, delivery.last_error) == ("failed", "refused")
