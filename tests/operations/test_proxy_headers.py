"""Trusted proxy headers: X-Forwarded-For counts only on a connection from a configured proxy, so a
client that reaches the app directly cannot pick a new address per attempt to dodge the limits."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

WRONG = "not-the-password-at-all"


def failed_sign_in(http: TestClient, email: str, forwarded_for: str) -> int:
    page = http.get("/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    return http.post(
        "/login",
        data={"email": email, "password": WRONG, "csrf_token": token.group(1)},
        headers={"X-Forwarded-For": forwarded_for},
    ).status_code


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    configure: Callable[..., Any],
) -> None:
    app = configure(
        trusted_proxy_count=1, forwarded_allow_ips="10.0.0.5", login_max_failures_per_client=3
    )
    stranger = TestClient(app, client=("203.0.113.7", 50000), follow_redirects=False)
    # Each attempt claims another address and another account: only the per-client limit can
    # catch it, and it does, because the claimed addresses are not believed.
    answers = [failed_sign_in(stranger, f"guess{n}@nhs.net", f"198.51.100.{n}") for n in range(4)]
    assert answers == [422, 422, 422, 429]


def test_the_proxys_forwarded_for_is_believed(configure: Callable[..., Any]) -> None:
    app = configure(
        trusted_proxy_count=1, forwarded_allow_ips="10.0.0.0/24", login_max_failures_per_client=3
    )
    proxy = TestClient(app, client=("10.0.0.5", 50000), follow_redirects=False)
    # Behind the proxy, these are four different people: none is held back by another's failures.
    answers = [failed_sign_in(proxy, f"guess{n}@nhs.net", f"198.51.100.{n}") for n in range(4)]
    assert answers == [422, 422, 422, 422]
    assert failed_sign_in(proxy, "guess9@nhs.net", "198.51.100.1") == 422
    # The same person again and again is.
    same = [failed_sign_in(proxy, f"again{n}@nhs.net", "198.51.100.200") for n in range(4)]
    assert same == [422, 422, 422, 429]
