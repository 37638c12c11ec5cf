"""Single sign-on against a real OpenID provider on 127.0.0.1 (tests/support/oidc_provider.py):
the good path makes a session like password sign-in does; every way the answer can be wrong is
refused with a page that says why, and signs nobody in."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.auth import single_sign_on
from api.auth.users import create_user, find_by_email
from api.db import open_session
from schemas.accounts import User, UserSession
from schemas.enums import Role
from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider

CALLBACK = "http://testserver/login/nhsmail/callback"


@pytest.fixture
def provider() -> Iterator[Provider]:
    running = Provider(redirect_uris={CALLBACK}).start()
    single_sign_on._cache.clear()
    yield running
    running.stop()
    single_sign_on._cache.clear()


@pytest.fixture
def sso_app(configure: Callable[..., Any], provider: Provider) -> Any:
    return configure(
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_allowed_domains="nhs.net",
    )


def begin(browser: TestClient, next_path: str = "/") -> str:
    """Press "Sign in with NHSmail": the issuer's authorisation URL the browser is sent to."""
    response = browser.get("/login/nhsmail", params={"next": next_path})
    assert response.status_code == 303
    return response.headers["location"]


def issuer_answer(authorise_url: str) -> str:
    """What the issuer sends the browser back to (a path on our site with code and state)."""
    response = httpx.get(authorise_url, follow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK)
    return location.removeprefix("http://testserver")


def signed_in_email(browser: TestClient) -> str | None:
    me = browser.get("/api/v1/me")
    return me.json()["email"] if me.status_code == 200 else None


def refusal(response: Any) -> str:
    """The refusal page's message, as a person reads it."""
    assert "Sign in with NHSmail did not work" in response.text
    callout = response.text.split("nhsuk-card--warning", 1)[1].split("</div>", 1)[0]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", callout)))


def test_the_login_page_offers_sign_in_with_nhsmail(sso_app: Any) -> None:
    page = TestClient(sso_app).get("/login?next=/mine")
    assert "Sign in with NHSmail" in page.text
    assert (
        'href="/login/nhsmail?next=/mine"' in page.text
        or "/login/nhsmail?next=%2Fmine" in page.text
    )
    assert 'name="password"' in page.text  # password sign-in still on


def test_the_button_sends_the_browser_to_the_issuer_with_pkce_state_and_nonce(
    sso_app: Any, provider: Provider
) -> None:
    url = urlsplit(begin(TestClient(sso_app, follow_redirects=False)))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/authorize"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert query["response_type"] == "code"
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32


def test_a_first_sign_in_from_an_allowed_domain_creates_a_reporter_and_a_session(
    sso_app: Any, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    browser = TestClient(sso_app, follow_redirects=False)
    answer = issuer_answer(begin(browser, "/mine"))
    with caplog.at_level(logging.INFO, logger="frontline.auth"):
        done = browser.get(answer)

    assert done.status_code == 303
    assert done.headers["location"] == "/mine"
    assert signed_in_email(browser) == "sam.newstarter@nhs.net"
    with open_session(write=False) as session:
        user = find_by_email(session, "sam.newstarter@nhs.net")
        assert user is not None
        assert (user.role, user.team_id, user.name) == (Role.reporter, None, "Sam Newstarter")
        sessions = (
            session.execute(
                select(UserSession).where(UserSession.user_id == user.id)  # type: ignore[arg-type]
            )
            .scalars()
            .all()
        )
        assert len(sessions) == 1
    # The same session mechanism as a password sign-in: HttpOnly, SameSite=Lax, the usual name.
    cookie = done.headers["set-cookie"]
    assert (
        "frontline_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    )
    assert any(
        getattr(r, "event", None) == "login" and getattr(r, "scope", None) == "oidc"
        for r in caplog.records
    )
    # The sign-in cookie of the flow is gone: one flow, one use.
    assert browser.cookies.get("frontline_sso") is None


def test_a_sign_in_links_the_account_an_admin_made_for_that_email(
    sso_app: Any, provider: Provider
) -> None:
    with open_session(write=True) as session:
        made = create_user(
            session,
            email="Morgan.Manager@NHS.net",
            name="Morgan Manager",
            password="a-long-enough-password",
            role=Role.manager,
            team_id=None,
        )
        session.commit()
        made_id = made.id
    provider.user = {"sub": "entra-2", "email": "morgan.manager@nhs.net", "name": "M. Manager"}
    browser = TestClient(sso_app, follow_redirects=False)

    assert browser.get(issuer_answer(begin(browser))).status_code == 303

    me = browser.get("/api/v1/me").json()
    assert (me["id"], me["role"]) == (made_id, "manager")
    with open_session(write=False) as session:
        assert (
            session.execute(select(User).where(User.email.ilike("morgan.manager@nhs.net")))
            .scalars()
            .all()[0]
            .id
            == made_id
        )  # type: ignore[attr-defined]


def test_an_account_made_by_single_sign_on_cannot_sign_in_with_a_password(
    sso_app: Any, provider: Provider
) -> None:
    browser = TestClient(sso_app, follow_redirects=False)
    browser.get(issuer_answer(begin(browser)))
    other = TestClient(sso_app, follow_redirects=False)
    token = other.get("/login").text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    answer = other.post(
        "/login",
        data={
            "email": "sam.newstarter@nhs.net",
            "password": "!single-sign-on",
            "csrf_token": token,
        },
    )
    assert answer.status_code == 422


@pytest.mark.parametrize(
    ("tamper", "reason", "words"),
    [
        ({"aud": "some-other-app"}, "wrong_audience", "meant for another application"),
        (
            {"exp": 1_000_000_000, "iat": 999_999_000, "nbf": 999_999_000},
            "expired_token",
            "expired",
        ),
        ({"nonce": "a-nonce-from-another-sign-in"}, "wrong_nonce", "belongs to another sign-in"),
        ({"iss": "http://127.0.0.1:9/evil"}, "wrong_issuer", "came from another issuer"),
    ],
)
def test_an_id_token_that_cannot_be_trusted_is_refused(
    sso_app: Any,
    provider: Provider,
    tamper: dict[str, Any],
    reason: str,
    words: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider.tamper = tamper
    browser = TestClient(sso_app, follow_redirects=False)

    with caplog.at_level(logging.INFO, logger="frontline.auth"):
        page = browser.get(issuer_answer(begin(browser)))

    assert page.status_code == 400
    message = refusal(page)
    assert "could not be trusted" in message
    assert words in message
    refused = [r for r in caplog.records if getattr(r, "event", None) == "login_refused"]
    assert [getattr(r, "error", None) for r in refused] == [reason]
    assert signed_in_email(browser) is None
    with open_session(write=False) as session:
        assert find_by_email(session, "sam.newstarter@nhs.net") is None


def test_a_token_signed_with_a_key_the_issuer_does_not_publish_is_refused(
    sso_app: Any, provider: Provider
) -> None:
    provider.sign_with_stranger_key = True
    browser = TestClient(sso_app, follow_redirects=False)
    page = browser.get(issuer_answer(begin(browser)))
    assert page.status_code == 400
    assert "bad signature" in refusal(page)
    assert signed_in_email(browser) is None


def test_a_bad_state_is_refused_and_the_code_never_exchanged(
    sso_app: Any, provider: Provider
) -> None:
    browser = TestClient(sso_app, follow_redirects=False)
    answer = issuer_answer(begin(browser))
    forged = answer.replace("state=", "state=x", 1)

    page = browser.get(forged)

    assert page.status_code == 400
    assert "could not be matched to one started in this browser" in refusal(page)
    assert provider.token_requests == 0
    assert signed_in_email(browser) is None


def test_a_callback_in_another_browser_is_refused(sso_app: Any, provider: Provider) -> None:
    # Login CSRF: an attacker's own code and state, planted in a victim's browser.
    attacker = TestClient(sso_app, follow_redirects=False)
    answer = issuer_answer(begin(attacker))
    victim = TestClient(sso_app, follow_redirects=False)
    page = victim.get(answer)
    assert page.status_code == 400
    assert signed_in_email(victim) is None


def test_a_replayed_code_is_refused(sso_app: Any, provider: Provider) -> None:
    browser = TestClient(sso_app, follow_redirects=False)
    first = issuer_answer(begin(browser))
    assert browser.get(first).status_code == 303
    browser.post(
        "/logout", headers={"X-CSRF-Token": browser.get("/api/v1/me").json()["csrf_token"]}
    )
    assert signed_in_email(browser) is None

    # The same callback again: its flow cookie is gone.
    again = browser.get(first)
    assert again.status_code == 400
    assert "could not be matched" in refusal(again)

    # A new flow in this browser, answered with the old code: the issuer refuses the code.
    new_state = parse_qs(urlsplit(begin(browser)).query)["state"][0]
    old_code = parse_qs(urlsplit(first).query)["code"][0]
    replay = browser.get("/login/nhsmail/callback", params={"code": old_code, "state": new_state})
    assert replay.status_code == 400
    assert "code was already used or has expired" in refusal(replay)
    assert signed_in_email(browser) is None


def test_an_email_outside_the_allowed_domains_is_refused(sso_app: Any, provider: Provider) -> None:
    provider.user = {"sub": "entra-3", "email": "someone@example.com", "name": "Someone"}
    browser = TestClient(sso_app, follow_redirects=False)

    page = browser.get(issuer_answer(begin(browser)))

    assert page.status_code == 403
    assert "email addresses ending in nhs.net" in refusal(page)
    assert "The address someone@example.com is not one of them" in refusal(page)
    with open_session(write=False) as session:
        assert find_by_email(session, "someone@example.com") is None


def test_a_switched_off_account_is_refused(sso_app: Any, provider: Provider) -> None:
    with open_session(write=True) as session:
        user = create_user(
            session,
            email="left@nhs.net",
            name="Has Left",
            password="a-long-enough-password",
            role=Role.reporter,
            team_id=None,
        )
        user.active = False
        session.commit()
    provider.user = {"sub": "entra-4", "email": "left@nhs.net", "name": "Has Left"}
    browser = TestClient(sso_app, follow_redirects=False)
    page = browser.get(issuer_answer(begin(browser)))
    assert page.status_code == 403
    assert "switched off" in refusal(page)


def test_the_issuer_saying_no_is_shown(sso_app: Any, provider: Provider) -> None:
    browser = TestClient(sso_app, follow_redirects=False)
    state = parse_qs(urlsplit(begin(browser)).query)["state"][0]
    page = browser.get("/login/nhsmail/callback", params={"error": "access_denied", "state": state})
    assert page.status_code == 400
    assert "NHSmail did not sign you in (access_denied)" in refusal(page)


def test_an_unreachable_issuer_is_a_clear_503(configure: Callable[..., Any]) -> None:
    single_sign_on._cache.clear()
    app = configure(oidc_issuer="http://127.0.0.1:9", oidc_client_id=CLIENT_ID)
    page = TestClient(app, follow_redirects=False).get("/login/nhsmail")
    assert page.status_code == 503
    assert "not available just now" in refusal(page)


def test_password_sign_in_can_be_switched_off(
    configure: Callable[..., Any], provider: Provider
) -> None:
    app = configure(
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        password_sign_in="off",
        allowed_signup_domains="",
    )
    browser = TestClient(app, follow_redirects=False)
    page = browser.get("/login")
    assert "Sign in with NHSmail" in page.text
    assert 'name="password"' not in page.text
    token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    refused = browser.post(
        "/login",
        data={"email": "crew@demo.nhs.uk", "password": "crew-demo-pass", "csrf_token": token},
    )
    assert refused.status_code == 403
    assert "Password sign-in is switched off" in refused.text
    assert signed_in_email(browser) is None


def test_switching_password_sign_in_off_without_single_sign_on_is_refused_at_start(
    configure: Callable[..., Any],
) -> None:
    with pytest.raises(ValueError, match="needs single sign-on configured"):
        configure(password_sign_in="off", allowed_signup_domains="")


def test_switching_password_sign_in_off_with_self_sign_up_on_is_refused_at_start(
    configure: Callable[..., Any], provider: Provider
) -> None:
    with pytest.raises(ValueError, match="still let people make password accounts"):
        configure(
            oidc_issuer=provider.issuer,
            oidc_client_id=CLIENT_ID,
            password_sign_in="off",
            allowed_signup_domains="nhs.net",
        )


def test_without_configuration_there_is_no_button_and_the_route_goes_to_login(app: Any) -> None:
    browser = TestClient(app, follow_redirects=False)
    assert "Sign in with NHSmail" not in browser.get("/login").text
    assert browser.get("/login/nhsmail").headers["location"] == "/login"
