"""Attack: lock a user out of their account by failing to sign in from many addresses, and step
round the per-client limits with the many addresses of one IPv6 /64 (issue #10, finding 5).

The owner's browser carries a device cookie from an earlier sign-in, so failures elsewhere never
stand in its way; unrecognised browsers wait longer after each failure (429 with Retry-After), so
a distributed attacker is slowed, not the owner stopped. Time is moved by ageing the throttle's
rows in the database, never by sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.config import get_settings
from api.db import open_session
from api.main import create_app
from api.sync import guard
from schemas.accounts import ThrottleEvent
from tests.conftest import DEMO_PASSWORDS, Client

CREW = "crew@demo.nhs.uk"
STAFF = "staff@demo.nhs.uk"
WRONG = "not the right password"


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    def apply(**values: Any) -> Any:
        for name, value in values.items():
            monkeypatch.setenv(f"FRONTLINE_{name.upper()}", str(value))
        get_settings.cache_clear()
        guard._limiter.cache_clear()
        return create_app()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()
    guard._limiter.cache_clear()


def browser_at(app: Any, address: str, device_of: Client | None = None) -> Client:
    """A browser at its own address; with ``device_of``, carrying that browser's device cookie
    (and nothing else of it: no session)."""
    client = Client(app)
    client.http = TestClient(app, follow_redirects=False, headers={"X-Forwarded-For": address})
    if device_of is not None:
        client.http.cookies.set("frontline_device", device_of.http.cookies["frontline_device"])
    return client


def attempt(client: Client, email: str, password: str) -> Any:
    token = client.page_token("/login")
    return client.http.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )


def age_failures(seconds: float) -> None:
    """As if the recorded failures happened ``seconds`` earlier."""
    with open_session(write=True) as session:
        for event in session.execute(select(ThrottleEvent)).scalars():
            event.at = event.at - timedelta(seconds=seconds)
        session.commit()


def test_failures_from_many_addresses_do_not_lock_the_owner_out(
    configure: Callable[..., Any],
) -> None:
    app = configure(trusted_proxy_count=1, forwarded_allow_ips="testclient")
    owner = browser_at(app, "198.51.100.7")
    assert attempt(owner, CREW, DEMO_PASSWORDS[CREW]).status_code == 303
    settings = get_settings()
    per_pair = settings.login_max_failures_per_account_client
    # The attack of the review: five failures from each of more addresses than the allowance needs.
    addresses = [f"203.0.113.{n}" for n in range(1, 20)]
    refused = 0
    for address in addresses:
        attacker = browser_at(app, address)
        for _ in range(per_pair):
            status = attempt(attacker, CREW, WRONG).status_code
            refused += status == 429
    assert refused > 0, "the attacker was never slowed down"
    late = attempt(browser_at(app, "203.0.113.200"), CREW, WRONG)
    assert late.status_code == 429 and int(late.headers["retry-after"]) > 0
    # The owner, on mobile data now (a new address), with the browser they signed in on before.
    moved = browser_at(app, "192.0.2.44", device_of=owner)
    response = attempt(moved, CREW, DEMO_PASSWORDS[CREW])
    assert response.status_code == 303
    assert moved.get("/api/v1/me").json()["email"] == CREW


def test_an_unrecognised_browser_waits_longer_after_each_failure(
    configure: Callable[..., Any],
) -> None:
    app = configure(
        trusted_proxy_count=1, forwarded_allow_ips="testclient", login_max_failures_per_account=3
    )
    for n in range(3):
        assert attempt(browser_at(app, f"203.0.113.{n + 1}"), CREW, WRONG).status_code == 422
    waits = []
    for n in range(4):
        blocked = attempt(browser_at(app, f"203.0.113.{n + 50}"), CREW, DEMO_PASSWORDS[CREW])
        assert blocked.status_code == 429  # even the right password: no guess is checked
        wait = int(blocked.headers["retry-after"])
        waits.append(wait)
        age_failures(wait + 1)
        assert attempt(browser_at(app, f"203.0.113.{n + 80}"), CREW, WRONG).status_code == 422
    assert waits == sorted(waits) and waits[-1] >= 4 * waits[0], waits
    assert waits[-1] <= get_settings().login_window_minutes * 60
    # Once the wait is over, the owner on a new browser gets in.
    age_failures(get_settings().login_window_minutes * 60 + 1)
    assert attempt(browser_at(app, "192.0.2.9"), CREW, DEMO_PASSWORDS[CREW]).status_code == 303


def test_a_forged_or_borrowed_device_cookie_does_not_skip_the_wait(
    configure: Callable[..., Any],
) -> None:
    app = configure(
        trusted_proxy_count=1, forwarded_allow_ips="testclient", login_max_failures_per_account=2
    )
    staffs_browser = browser_at(app, "198.51.100.8")
    assert attempt(staffs_browser, STAFF, DEMO_PASSWORDS[STAFF]).status_code == 303
    for n in range(2):
        assert attempt(browser_at(app, f"203.0.113.{n + 1}"), CREW, WRONG).status_code == 422
    borrowed = browser_at(app, "203.0.113.99", device_of=staffs_browser)
    assert attempt(borrowed, CREW, WRONG).status_code == 429
    forged = browser_at(app, "203.0.113.98")
    forged.http.cookies.set("frontline_device", "3.abc.0000")
    assert attempt(forged, CREW, WRONG).status_code == 429


def test_the_addresses_of_one_ipv6_64_share_one_client_limit(
    configure: Callable[..., Any],
) -> None:
    app = configure(
        trusted_proxy_count=1, forwarded_allow_ips="testclient", login_max_failures_per_client=4
    )
    for n in range(4):
        sprayer = browser_at(app, f"2001:db8:1:2::{n + 1:x}")
        assert attempt(sprayer, f"guess{n}@demo.nhs.uk", WRONG).status_code == 422
    next_address = browser_at(app, "2001:db8:1:2:ffff:ffff:ffff:fffe")
    assert attempt(next_address, "guess9@demo.nhs.uk", WRONG).status_code == 429
    # Another /64 is another client.
    elsewhere = browser_at(app, "2001:db8:1:3::1")
    assert attempt(elsewhere, "guess9@demo.nhs.uk", WRONG).status_code == 422


def test_hopping_addresses_in_one_64_does_not_reset_the_per_account_limit(
    configure: Callable[..., Any],
) -> None:
    app = configure(trusted_proxy_count=1, forwarded_allow_ips="testclient")
    per_pair = get_settings().login_max_failures_per_account_client
    for n in range(per_pair):
        hopper = browser_at(app, f"2001:db8:aa:bb:{n:x}::1")
        assert attempt(hopper, CREW, WRONG).status_code == 422
    assert attempt(browser_at(app, "2001:db8:aa:bb:ff::1"), CREW, WRONG).status_code == 429
