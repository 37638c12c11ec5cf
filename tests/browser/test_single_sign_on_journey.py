"""A person signs in with NHSmail in a real browser: presses "Sign in with NHSmail" on /login,
types their address at the (local, real) OpenID provider, and arrives signed in; someone from a
domain the trust does not allow is told so. At phone and laptop sizes, with axe on both pages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, wait_until
from tests.browser.test_accessibility import assert_no_serious_violations
from tests.support.live_server import LiveServer
from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 900}
SHOTS = Path(os.environ.get("FRONTLINE_SHOTS_DIR", "/work/helpers/shots/t17"))
BASE_READY = "document.body.classList.contains('app-outbox-ready')"


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Provider]]:
    provider = Provider(interactive=True)
    server = LiveServer(tmp_path_factory.mktemp("sso-live"))
    provider.redirect_uris = {f"{server.url}/login/nhsmail/callback"}
    server.env.update(
        {
            "FRONTLINE_OIDC_ISSUER": provider.issuer,
            "FRONTLINE_OIDC_CLIENT_ID": CLIENT_ID,
            "FRONTLINE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "FRONTLINE_OIDC_ALLOWED_DOMAINS": "nhs.net",
            "FRONTLINE_PUSH_WORKER": "off",
        }
    )
    provider.start()
    server.cli("migrate")
    server.cli("demo")
    server.start()
    yield server, provider
    server.stop()
    provider.stop()


def screenshot(page: Any, name: str) -> None:
    if SHOTS.parent.exists():
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_a_new_starter_signs_in_with_nhsmail(
    browser: Any, sso_server: tuple[LiveServer, Provider], viewport: dict[str, int]
) -> None:
    server, provider = sso_server
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    size = "phone" if viewport == PHONE else "laptop"
    try:
        page.goto(f"{server.url}/login")
        wait_until(page, BASE_READY)
        button = page.get_by_role("button", name="Sign in with NHSmail")
        if not button.count():
            button = page.get_by_role("link", name="Sign in with NHSmail")
        assert button.is_visible()
        screenshot(page, f"login-sso-{size}.png")
        assert_no_serious_violations(page, f"/login with single sign-on ({size})")

        button.click()
        page.wait_for_url(f"{provider.issuer}/authorize*")
        address = f"alex.{size}@nhs.net"
        page.get_by_label("NHSmail address").fill(address)
        page.get_by_role("button", name="Sign in").click()

        page.wait_for_url(f"{server.url}/")
        wait_until(page, BASE_READY)
        assert page.get_by_role("heading", level=1).first.is_visible()
        me = page.evaluate("fetch('/api/v1/me').then(r => r.json())")
        assert (me["email"], me["role"]) == (address, "reporter")
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_someone_outside_the_allowed_domains_is_told_why(
    browser: Any, sso_server: tuple[LiveServer, Provider], viewport: dict[str, int]
) -> None:
    server, provider = sso_server
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    size = "phone" if viewport == PHONE else "laptop"
    try:
        page.goto(f"{server.url}/login")
        page.get_by_text("Sign in with NHSmail").click()
        page.wait_for_url(f"{provider.issuer}/authorize*")
        page.get_by_label("NHSmail address").fill("visitor@example.com")
        page.get_by_role("button", name="Sign in").click()

        heading = page.get_by_role("heading", level=1)
        heading.wait_for()
        assert heading.text_content() == "Sign in with NHSmail did not work"
        message = page.text_content("main") or ""
        assert "email addresses ending in nhs.net" in message
        assert "The address visitor@example.com is not one of them" in message
        wait_until(page, BASE_READY)
        screenshot(page, f"sso-refused-{size}.png")
        assert_no_serious_violations(page, f"single sign-on refused ({size})")
        me = page.evaluate("fetch('/api/v1/me').then(r => r.status)")
        assert me == 401
    finally:
        context.close()
