"""Signing in and out, sessions, throttling, roles, CSRF and self sign-up (SPEC §2, §6, §9;
EVIDENCE E7, E8, E10, E12, E14): what a user sees and what an attacker gets."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from api.config import get_settings
from api.db import open_session
from api.log_format import JsonFormatter
from api.main import create_app
from api.sync import guard
from schemas.accounts import Team, ThrottleEvent, User, UserSession
from schemas.handovers import Handover
from schemas.ideas import Idea
from schemas.timestamps import utcnow
from tests.conftest import DEMO_PASSWORDS, Client
from tests.records import handover_data, idea_data, new_id
from tests.support.mailbox import Mailbox

SESSION = "frontline_session"
CREW = "crew@demo.nhs.uk"
STAFF = "staff@demo.nhs.uk"
WRONG = "not-the-password-at-all"
SIGN_IN_FAILED = "Enter a correct email address and password"


# Helpers


def count(model: Any, *where: Any) -> int:
    with open_session(write=False) as session:
        statement = select(func.count()).select_from(model)
        for condition in where:
            statement = statement.where(condition)
        return int(session.execute(statement).scalar_one())


def user_id(email: str) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(User.id).where(User.email == email)).scalar_one())


def sessions_of(email: str) -> list[UserSession]:
    with open_session(write=False) as session:
        return list(
            session.execute(
                select(UserSession).where(UserSession.user_id == user_id(email))
            ).scalars()
        )


def change_sessions(email: str, **values: Any) -> None:
    with open_session(write=True) as session:
        session.execute(
            update(UserSession).where(UserSession.user_id == user_id(email)).values(**values)
        )
        session.commit()


def set_cookie_header(response: Any, name: str) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return headers[0]


def cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def cookie_attributes(header: str) -> dict[str, str]:
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def session_cookie(client: Client) -> str:
    value = client.http.cookies.get(SESSION)
    assert value
    return value


def browser_with_cookie(app: Any, value: str) -> TestClient:
    """Another browser (or an attacker) presenting a stolen or old session cookie."""
    browser = TestClient(app, follow_redirects=False)
    browser.cookies.set(SESSION, value)
    return browser


def attempt(client: Client, email: str, password: str, **extra: str) -> Any:
    """One sign-in through the form, with the token from the sign-in page, like a browser."""
    token = client.page_token("/login")
    return client.http.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, **extra}
    )


def client_at(app: Any, address: str) -> Client:
    """A browser at its own address, as a proxy in front of the app reports it."""
    client = Client(app)
    client.http = TestClient(app, follow_redirects=False, headers={"X-Forwarded-For": address})
    return client


def error_summary(html: str) -> str:
    match = re.search(r'<div class="nhsuk-error-summary".*?</div>\s*</div>', html, re.S)
    assert match, "no error summary on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))).strip()


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """A fresh app under FRONTLINE_* settings of the test's choosing; the test settings come back
    afterwards."""

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


# Sign-in


@pytest.mark.parametrize("email", sorted(DEMO_PASSWORDS))
def test_each_demo_user_can_sign_in_and_is_who_they_say(app: Any, email: str) -> None:
    client = Client(app)
    response = attempt(client, email, DEMO_PASSWORDS[email])
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == email


def test_the_session_cookie_is_httponly_lax_host_only_and_not_secure_in_test(app: Any) -> None:
    response = attempt(Client(app), CREW, DEMO_PASSWORDS[CREW])
    header = set_cookie_header(response, SESSION)
    attributes = cookie_attributes(header)
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    assert attributes["path"] == "/"
    assert "domain" not in attributes
    assert "secure" not in attributes  # plain http in development and test
    assert len(cookie_value(header)) >= 32  # a random token, not a guessable id


def test_wrong_password_shows_the_form_again_with_an_error_summary(client: Client) -> None:
    response = attempt(client, CREW, WRONG)
    assert response.status_code == 422
    assert SESSION not in response.headers.get("set-cookie", "")
    assert SIGN_IN_FAILED in error_summary(response.text)
    assert 'href="#email"' in response.text
    assert "<title>Error: " in response.text
    assert 'value="crew@demo.nhs.uk"' in response.text  # the email is kept; the password is not
    assert WRONG not in response.text
    assert client.get("/api/v1/me").status_code == 401


def test_unknown_email_and_wrong_password_look_the_same(app: Any) -> None:
    wrong_password = attempt(Client(app), CREW, WRONG)
    unknown_email = attempt(Client(app), "nobody@demo.nhs.uk", WRONG)
    assert wrong_password.status_code == unknown_email.status_code == 422
    assert error_summary(wrong_password.text) == error_summary(unknown_email.text)


def test_a_deactivated_user_cannot_sign_in_and_is_told_nothing_more(client: Client) -> None:
    with open_session(write=True) as session:
        session.execute(update(User).where(User.email == CREW).values(active=False))
        session.commit()
    response = attempt(client, CREW, DEMO_PASSWORDS[CREW])
    assert response.status_code == 422
    assert SIGN_IN_FAILED in error_summary(response.text)


@pytest.mark.parametrize("typed", ["CREW@DEMO.NHS.UK", "Crew@Demo.Nhs.Uk", "  crew@demo.nhs.uk "])
def test_the_email_address_is_not_case_sensitive(app: Any, typed: str) -> None:
    client = Client(app)
    response = attempt(client, typed, DEMO_PASSWORDS[CREW])
    assert response.status_code == 303
    assert client.get("/api/v1/me").json()["email"] == CREW


def test_signing_in_again_gives_a_new_session_and_ends_the_old_one(app: Any, crew: Client) -> None:
    old = session_cookie(crew)
    again = crew.http.post(
        "/login",
        data={"email": CREW, "password": DEMO_PASSWORDS[CREW]},
        headers={"X-CSRF-Token": crew.csrf},
    )
    assert again.status_code == 303
    new = cookie_value(set_cookie_header(again, SESSION))
    assert new != old
    assert browser_with_cookie(app, old).get("/api/v1/me").status_code == 401
    assert browser_with_cookie(app, new).get("/api/v1/me").status_code == 200


def test_a_planted_session_cookie_is_replaced_at_sign_in(app: Any) -> None:
    victim = Client(app)
    victim.http.cookies.set(SESSION, "attacker-chose-this-value-0123456789abcdef")
    response = attempt(victim, CREW, DEMO_PASSWORDS[CREW])
    issued = cookie_value(set_cookie_header(response, SESSION))
    assert issued != "attacker-chose-this-value-0123456789abcdef"
    attacker = browser_with_cookie(app, "attacker-chose-this-value-0123456789abcdef")
    assert attacker.get("/api/v1/me").status_code == 401


def test_two_sign_ins_never_share_a_session(app: Any) -> None:
    first = attempt(Client(app), CREW, DEMO_PASSWORDS[CREW])
    second = attempt(Client(app), CREW, DEMO_PASSWORDS[CREW])
    assert cookie_value(set_cookie_header(first, SESSION)) != cookie_value(
        set_cookie_header(second, SESSION)
    )
    assert len(sessions_of(CREW)) == 2


def test_the_database_keeps_only_a_hash_of_the_session_token(crew: Client) -> None:
    token = session_cookie(crew)
    stored = [s.token_hash for s in sessions_of(CREW)]
    assert stored and token not in stored


def test_the_csrf_token_changes_at_sign_in(app: Any) -> None:
    client = Client(app)
    before = client.page_token("/login")
    attempt(client, CREW, DEMO_PASSWORDS[CREW])
    after = client.get("/api/v1/me").json()["csrf_token"]
    assert after != before
    # The token a page showed before sign-in is worthless afterwards.
    response = client.http.post(
        "/api/v1/sync", json={"items": []}, headers={"X-CSRF-Token": before}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/mine", "/mine"),
        ("/ideas/new?from=home", "/ideas/new?from=home"),
        ("//evil.example", "/"),
        ("//evil.example/mine", "/"),
        ("https://evil.example", "/"),
        ("https://evil.example/login", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("", "/"),
    ],
)
def test_after_sign_in_only_a_page_on_this_site_is_followed(
    app: Any, target: str, expected: str
) -> None:
    response = attempt(Client(app), CREW, DEMO_PASSWORDS[CREW], next=target)
    assert response.status_code == 303
    assert response.headers["location"] == expected


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example"])
def test_a_signed_in_visit_to_the_sign_in_page_never_leaves_the_site(
    crew: Client, target: str
) -> None:
    response = crew.get("/login", params={"next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_the_sign_in_page_carries_next_through_to_the_page_asked_for(client: Client) -> None:
    redirect = client.get("/mine", params={"tab": "ideas"})
    assert redirect.status_code == 303
    login_url = redirect.headers["location"]
    assert parse_qs(urlsplit(login_url).query)["next"] == ["/mine?tab=ideas"]
    page = client.get(login_url)
    assert 'name="next" value="/mine?tab=ideas"' in page.text
    response = attempt(client, CREW, DEMO_PASSWORDS[CREW], next="/mine?tab=ideas")
    assert response.headers["location"] == "/mine?tab=ideas"
    assert client.get("/mine?tab=ideas").status_code == 200


# Sign-out


def test_sign_out_ends_the_session_on_the_server(app: Any, crew: Client) -> None:
    old = session_cookie(crew)
    response = crew.post("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    cleared = cookie_attributes(set_cookie_header(response, SESSION))
    assert cleared.get("max-age") == "0" or "expires" in cleared
    assert all(s.revoked_at is not None for s in sessions_of(CREW))

    replay = browser_with_cookie(app, old)
    api = replay.get("/api/v1/me")
    assert api.status_code == 401
    assert api.json() == {"detail": "Sign in to continue."}
    page = replay.get("/mine")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")
    write = replay.post("/api/v1/sync", json={"items": []}, headers={"X-CSRF-Token": crew.csrf})
    assert write.status_code == 401


def test_the_sign_out_button_on_a_page_works_without_javascript(app: Any, crew: Client) -> None:
    old = session_cookie(crew)
    response = crew.form("/logout", {}, page="/")
    assert response.status_code == 303
    assert browser_with_cookie(app, old).get("/api/v1/me").status_code == 401
    assert crew.get("/mine").status_code == 303


def test_signing_out_one_phone_leaves_the_users_other_sessions_alone(app: Any) -> None:
    phone = Client(app).sign_in(CREW)
    laptop = Client(app).sign_in(CREW)
    phone.post("/logout")
    assert phone.get("/api/v1/me").status_code == 401
    assert laptop.get("/api/v1/me").status_code == 200


def test_get_logout_changes_nothing(crew: Client) -> None:
    page = crew.get("/logout")
    assert page.status_code == 200
    assert SESSION not in page.headers.get("set-cookie", "")
    assert crew.get("/api/v1/me").status_code == 200
    assert all(s.revoked_at is None for s in sessions_of(CREW))


def test_sign_out_without_the_token_is_refused_and_the_session_stays(crew: Client) -> None:
    response = crew.http.post("/logout")
    assert response.status_code == 403
    assert crew.get("/api/v1/me").status_code == 200
    assert all(s.revoked_at is None for s in sessions_of(CREW))


# Idle and absolute timeouts


def test_a_session_idle_longer_than_the_limit_is_over(crew: Client) -> None:
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    change_sessions(CREW, last_seen_at=utcnow() - idle - timedelta(minutes=1))
    response = crew.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"]
    page = crew.get("/outbox")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Foutbox"


def test_activity_keeps_a_session_alive(crew: Client) -> None:
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    change_sessions(CREW, last_seen_at=utcnow() - idle + timedelta(minutes=5))
    assert crew.get("/api/v1/me").status_code == 200
    (row,) = sessions_of(CREW)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)
    assert crew.get("/api/v1/me").status_code == 200


def test_a_session_past_its_absolute_lifetime_is_over_even_if_in_use(crew: Client) -> None:
    change_sessions(CREW, expires_at=utcnow() - timedelta(seconds=1), last_seen_at=utcnow())
    assert crew.get("/api/v1/me").status_code == 401
    assert crew.get("/").headers["location"].startswith("/login")


def test_the_absolute_lifetime_is_set_at_sign_in_and_activity_never_extends_it(
    crew: Client,
) -> None:
    (row,) = sessions_of(CREW)
    lifetime = timedelta(hours=get_settings().session_max_hours)
    assert abs((row.expires_at - row.created_at) - lifetime) < timedelta(seconds=5)
    change_sessions(CREW, last_seen_at=utcnow() - timedelta(minutes=30))
    assert crew.get("/api/v1/me").status_code == 200
    (after,) = sessions_of(CREW)
    assert after.expires_at == row.expires_at


def test_the_session_cookie_does_not_outlive_the_session(app: Any) -> None:
    response = attempt(Client(app), CREW, DEMO_PASSWORDS[CREW])
    attributes = cookie_attributes(set_cookie_header(response, SESSION))
    assert 0 < int(attributes["max-age"]) <= get_settings().session_max_hours * 3600


def test_deactivating_a_user_ends_their_sessions(app: Any, crew: Client, staff: Client) -> None:
    with open_session(write=True) as session:
        session.execute(update(User).where(User.email == CREW).values(active=False))
        session.commit()
    assert crew.get("/api/v1/me").status_code == 401
    assert crew.post("/api/v1/sync", json={"items": []}).status_code == 401
    assert crew.get("/mine").status_code == 303
    assert staff.get("/api/v1/me").status_code == 200


# Sign-in throttling (E7)


def test_five_failures_for_one_account_from_one_client_get_429_even_with_the_right_password(
    client: Client,
) -> None:
    limit = get_settings().login_max_failures_per_account_client
    for _ in range(limit):
        assert attempt(client, CREW, WRONG).status_code == 422
    response = attempt(client, CREW, DEMO_PASSWORDS[CREW])
    assert response.status_code == 429
    window = get_settings().login_window_minutes
    assert int(response.headers["retry-after"]) == window * 60
    text = re.sub(r"\s+", " ", response.text)
    assert "Too many failed sign-in attempts" in text
    assert f"Wait {window} minutes" in text
    assert SESSION not in response.headers.get("set-cookie", "")
    assert client.get("/api/v1/me").status_code == 401


def test_a_throttled_client_can_still_sign_in_to_a_different_account(client: Client) -> None:
    for _ in range(get_settings().login_max_failures_per_account_client):
        attempt(client, CREW, WRONG)
    assert attempt(client, CREW, DEMO_PASSWORDS[CREW]).status_code == 429
    response = attempt(client, STAFF, DEMO_PASSWORDS[STAFF])
    assert response.status_code == 303
    assert client.get("/api/v1/me").json()["email"] == STAFF


def test_changing_the_case_of_the_email_does_not_dodge_the_throttle(client: Client) -> None:
    typed = ["CREW@demo.nhs.uk", "Crew@Demo.NHS.uk", " crew@demo.nhs.uk", "crew@DEMO.nhs.uk "]
    for email in (typed * 2)[: get_settings().login_max_failures_per_account_client]:
        assert attempt(client, email, WRONG).status_code == 422
    assert attempt(client, CREW, DEMO_PASSWORDS[CREW]).status_code == 429


def test_unknown_accounts_are_throttled_like_real_ones(client: Client) -> None:
    for _ in range(get_settings().login_max_failures_per_account_client):
        assert attempt(client, "nobody@demo.nhs.uk", WRONG).status_code == 422
    assert attempt(client, "nobody@demo.nhs.uk", WRONG).status_code == 429


def test_failed_sign_ins_are_counted_in_the_database(client: Client) -> None:
    assert count(ThrottleEvent) == 0
    attempt(client, CREW, WRONG)
    after_one = count(ThrottleEvent)
    assert after_one > 0
    attempt(client, CREW, WRONG)
    assert count(ThrottleEvent) == 2 * after_one
    with open_session(write=False) as session:
        keys = list(session.execute(select(ThrottleEvent.key)).scalars())
    assert not any(WRONG in key for key in keys)  # never the password


def test_a_successful_sign_in_adds_nothing_to_the_throttle(client: Client) -> None:
    attempt(client, CREW, DEMO_PASSWORDS[CREW])
    assert count(ThrottleEvent) == 0


def test_the_throttle_holds_across_app_processes(client: Client) -> None:
    for _ in range(get_settings().login_max_failures_per_account_client):
        attempt(client, CREW, WRONG)
    elsewhere = Client(create_app())  # another worker process on the same database
    assert attempt(elsewhere, CREW, DEMO_PASSWORDS[CREW]).status_code == 429


def test_failures_older_than_the_window_no_longer_count(client: Client) -> None:
    for _ in range(get_settings().login_max_failures_per_account_client):
        attempt(client, CREW, WRONG)
    assert attempt(client, CREW, DEMO_PASSWORDS[CREW]).status_code == 429
    window = timedelta(minutes=get_settings().login_window_minutes)
    with open_session(write=True) as session:
        session.execute(update(ThrottleEvent).values(at=utcnow() - window - timedelta(minutes=1)))
        session.commit()
    assert attempt(client, CREW, DEMO_PASSWORDS[CREW]).status_code == 303


def test_an_attacker_elsewhere_cannot_lock_a_user_out(configure: Callable[..., Any]) -> None:
    app = configure(trusted_proxy_count=1, forwarded_allow_ips="testclient")
    per_pair = get_settings().login_max_failures_per_account_client
    attackers = [client_at(app, "203.0.113.9"), client_at(app, "203.0.113.10")]
    for attacker in attackers:
        for _ in range(per_pair):
            assert attempt(attacker, CREW, WRONG).status_code == 422
        assert attempt(attacker, CREW, WRONG).status_code == 429
    # Twice the per-client limit has failed on this account, yet its owner signs in from their phone.
    assert get_settings().login_max_failures_per_account > 2 * per_pair
    owner = client_at(app, "198.51.100.7")
    response = attempt(owner, CREW, DEMO_PASSWORDS[CREW])
    assert response.status_code == 303
    assert owner.get("/api/v1/me").json()["email"] == CREW


def test_the_per_account_limit_across_clients_still_stops_a_distributed_guess(
    configure: Callable[..., Any],
) -> None:
    app = configure(
        trusted_proxy_count=1, forwarded_allow_ips="testclient", login_max_failures_per_account=8
    )
    for address in ("203.0.113.1", "203.0.113.2"):
        for _ in range(4):
            assert attempt(client_at(app, address), CREW, WRONG).status_code == 422
    response = attempt(client_at(app, "203.0.113.3"), CREW, DEMO_PASSWORDS[CREW])
    assert response.status_code == 429
    assert response.headers["retry-after"]


def test_one_client_spraying_many_accounts_is_stopped_at_the_per_client_limit(
    configure: Callable[..., Any],
) -> None:
    app = configure(
        trusted_proxy_count=1, forwarded_allow_ips="testclient", login_max_failures_per_client=6
    )
    sprayer = client_at(app, "203.0.113.50")
    for n in range(6):
        assert attempt(sprayer, f"guess{n}@demo.nhs.uk", WRONG).status_code == 422
    assert attempt(sprayer, STAFF, DEMO_PASSWORDS[STAFF]).status_code == 429
    # Someone else at another address is not affected.
    assert attempt(client_at(app, "198.51.100.20"), STAFF, DEMO_PASSWORDS[STAFF]).status_code == 303


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client: Client) -> None:
    """Without a configured proxy a client cannot pick a new address per attempt to dodge limits."""
    for n in range(get_settings().login_max_failures_per_account_client):
        token = client.page_token("/login")
        client.http.post(
            "/login",
            data={"email": CREW, "password": WRONG, "csrf_token": token},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
    token = client.page_token("/login")
    response = client.http.post(
        "/login",
        data={"email": CREW, "password": DEMO_PASSWORDS[CREW], "csrf_token": token},
        headers={"X-Forwarded-For": "198.51.100.99"},
    )
    assert response.status_code == 429


# Sync rate limit (E7)


def test_too_many_sync_requests_in_a_minute_get_429_with_retry_after(
    configure: Callable[..., Any],
) -> None:
    app = configure(sync_max_requests_per_minute=3)
    crew = Client(app).sign_in(CREW)
    for _ in range(3):
        assert crew.post("/api/v1/sync", json={"items": []}).status_code == 200
    item = {"kind": "handover", "id": new_id(), "data": handover_data()}
    response = crew.post("/api/v1/sync", json={"items": [item]})
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 61
    assert "Too many submissions" in response.json()["detail"]
    assert count(Handover) == 0
    # The single-record endpoints share the limit.
    single = crew.post("/api/v1/ideas", json={"id": new_id(), **idea_data()})
    assert single.status_code == 429
    assert count(Idea) == 0


def test_the_sync_limit_is_per_user(configure: Callable[..., Any]) -> None:
    app = configure(sync_max_requests_per_minute=2)
    crew = Client(app).sign_in(CREW)
    staff = Client(app).sign_in(STAFF)
    for _ in range(2):
        crew.post("/api/v1/sync", json={"items": []})
    assert crew.post("/api/v1/sync", json={"items": []}).status_code == 429
    assert staff.post("/api/v1/sync", json={"items": []}).status_code == 200


# Roles and object access (E12)

API_READS = [
    "/api/v1/me",
    "/api/v1/me/submissions",
    "/api/v1/reference",
    "/api/v1/ideas",
    "/api/v1/handovers",
    "/api/v1/ideas/6f1c1c1e-7b7e-4c1e-9c1e-1c1e1c1e1c1e",
    "/api/v1/handovers/6f1c1c1e-7b7e-4c1e-9c1e-1c1e1c1e1c1e",
]
PAGES = ["/mine", "/outbox", "/ideas/new", "/handovers/new"]


@pytest.mark.parametrize("path", API_READS)
def test_anonymous_api_reads_get_401_json(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"detail": "Sign in to continue."}


@pytest.mark.parametrize("path", ["/api/v1/sync", "/api/v1/ideas", "/api/v1/handovers"])
def test_anonymous_api_writes_get_401_and_store_nothing(client: Client, path: str) -> None:
    body = {"items": []} if path.endswith("sync") else {"id": new_id(), **handover_data()}
    response = client.http.post(path, json=body)
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)
    assert count(Idea) == 0 and count(Handover) == 0


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_redirect_to_sign_in_and_back(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    location = response.headers["location"]
    assert urlsplit(location).path == "/login"
    assert parse_qs(urlsplit(location).query)["next"] == [path]


def test_the_home_page_sends_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize("path", ["/api/v1/ideas", "/api/v1/handovers"])
def test_reporters_cannot_list_everyones_records(crew: Client, staff: Client, path: str) -> None:
    for reporter in (crew, staff):
        response = reporter.get(path)
        assert response.status_code == 403
        assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("path", ["/api/v1/ideas", "/api/v1/handovers"])
def test_managers_and_admins_can_list_records(manager: Client, admin: Client, path: str) -> None:
    for user in (manager, admin):
        response = user.get(path)
        assert response.status_code == 200
        assert set(response.json()) >= {"items", "next_cursor"}


@pytest.mark.parametrize(
    ("kind", "path", "data"),
    [("idea", "/api/v1/ideas", idea_data), ("handover", "/api/v1/handovers", handover_data)],
)
def test_a_reporter_sees_their_own_record_but_not_another_reporters(
    crew: Client, staff: Client, manager: Client, kind: str, path: str, data: Any
) -> None:
    record_id = new_id()
    assert crew.post(path, json={"id": record_id, **data()}).status_code == 201
    assert crew.get(f"{path}/{record_id}").status_code == 200
    other = staff.get(f"{path}/{record_id}")
    assert other.status_code == 404
    assert record_id not in other.text
    assert staff.get(f"/submitted/{kind}/{record_id}").status_code == 404
    assert record_id not in staff.get("/api/v1/me/submissions").text
    assert manager.get(f"{path}/{record_id}").status_code == 200
    listed = manager.get(path).json()["items"]
    assert record_id in {item["id"] for item in listed}


def test_a_missing_record_and_another_reporters_record_look_the_same(
    crew: Client, staff: Client
) -> None:
    record_id = new_id()
    crew.post("/api/v1/ideas", json={"id": record_id, **idea_data()})
    theirs = staff.get(f"/api/v1/ideas/{record_id}")
    missing = staff.get(f"/api/v1/ideas/{new_id()}")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


# CSRF (E10)


def test_an_api_write_without_the_token_is_refused(crew: Client) -> None:
    body = {"items": [{"kind": "handover", "id": new_id(), "data": handover_data()}]}
    response = crew.http.post("/api/v1/sync", json=body)
    assert response.status_code == 403
    assert isinstance(response.json()["detail"], str)
    assert count(Handover) == 0


@pytest.mark.parametrize("token", ["wrong", "0" * 64, ""])
def test_an_api_write_with_a_wrong_token_is_refused(crew: Client, token: str) -> None:
    body = {"items": [{"kind": "handover", "id": new_id(), "data": handover_data()}]}
    response = crew.http.post("/api/v1/sync", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 403
    assert count(Handover) == 0


def test_another_users_token_does_not_work_for_this_session(crew: Client, staff: Client) -> None:
    body = {"items": [{"kind": "handover", "id": new_id(), "data": handover_data()}]}
    response = crew.http.post("/api/v1/sync", json=body, headers={"X-CSRF-Token": staff.csrf})
    assert response.status_code == 403
    assert count(Handover) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"},
    ],
)
def test_a_cross_site_request_is_refused_even_with_a_valid_token(
    crew: Client, headers: dict[str, str]
) -> None:
    body = {"items": [{"kind": "handover", "id": new_id(), "data": handover_data()}]}
    response = crew.post("/api/v1/sync", json=body, headers=headers)
    assert response.status_code == 403
    assert count(Handover) == 0


def test_a_same_origin_request_with_the_token_is_accepted(crew: Client) -> None:
    body = {"items": [{"kind": "handover", "id": new_id(), "data": handover_data()}]}
    response = crew.post(
        "/api/v1/sync",
        json=body,
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["outcome"] == "created"
    assert count(Handover) == 1


def test_a_cross_site_text_plain_post_cannot_smuggle_json(crew: Client) -> None:
    """A form with enctype=text/plain can send JSON-looking bodies cross-site without a preflight."""
    body = json.dumps({"items": [{"kind": "handover", "id": new_id(), "data": handover_data()}]})
    response = crew.http.post("/api/v1/sync", content=body, headers={"Content-Type": "text/plain"})
    assert response.status_code in {403, 415, 422}
    assert count(Handover) == 0


def _idea_form(team_id: int | None = None) -> dict[str, Any]:
    data = idea_data()
    return {
        "id": new_id(),
        "title": data["title"],
        "problem": data["problem"],
        "proposal": data["proposal"],
        "wastes": data["wastes"],
        "aims": [str(a) for a in data["aims"]],
        "team_id": str(team_id or data["team_id"]),
        "show_name": "true",
    }


def test_a_form_post_without_the_token_is_refused(crew: Client) -> None:
    response = crew.http.post("/ideas", data=_idea_form())
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert count(Idea) == 0


def test_a_form_post_with_a_wrong_token_is_refused(crew: Client) -> None:
    response = crew.http.post("/ideas", data={**_idea_form(), "csrf_token": "forged"})
    assert response.status_code == 403
    assert count(Idea) == 0


def test_a_cross_site_form_post_is_refused_even_with_the_token(crew: Client) -> None:
    token = crew.page_token("/ideas/new")
    response = crew.http.post(
        "/ideas",
        data={**_idea_form(), "csrf_token": token},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert count(Idea) == 0


def test_a_form_post_with_the_pages_token_is_accepted(crew: Client) -> None:
    response = crew.form("/ideas", _idea_form(), page="/ideas/new")
    assert response.status_code == 303
    assert count(Idea) == 1


def test_the_sign_in_form_needs_the_token(client: Client) -> None:
    """Login CSRF: another site must not sign a victim in to the attacker's account."""
    client.get("/login")
    response = client.http.post("/login", data={"email": CREW, "password": DEMO_PASSWORDS[CREW]})
    assert response.status_code == 403
    assert SESSION not in response.headers.get("set-cookie", "")
    assert count(UserSession) == 0


def test_a_sign_in_token_from_another_browser_does_not_work(app: Any) -> None:
    attacker_token = Client(app).page_token("/login")
    victim = Client(app)
    victim.get("/login")
    response = victim.http.post(
        "/login",
        data={"email": CREW, "password": DEMO_PASSWORDS[CREW], "csrf_token": attacker_token},
    )
    assert response.status_code == 403
    assert count(UserSession) == 0


def test_a_cross_site_sign_in_is_refused(client: Client) -> None:
    token = client.page_token("/login")
    response = client.http.post(
        "/login",
        data={"email": CREW, "password": DEMO_PASSWORDS[CREW], "csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert count(UserSession) == 0


def test_get_requests_never_change_state(crew: Client) -> None:
    before = (count(Idea), count(Handover), count(UserSession), count(ThrottleEvent))
    assert crew.get("/api/v1/sync").status_code == 405
    assert crew.get("/ideas", params=_idea_form()).status_code in {404, 405}
    # GET /handovers is the managers' list: a reporter is refused, and nothing is stored.
    assert crew.get("/handovers", params={"id": new_id()}).status_code == 403
    assert crew.get("/login", params={"email": CREW, "password": WRONG}).status_code == 303
    assert crew.get("/signup", params={"email": "x@nhs.net"}).status_code == 200
    after = (count(Idea), count(Handover), count(UserSession), count(ThrottleEvent))
    assert after == before
    assert crew.get("/api/v1/me").status_code == 200


# Self sign-up


def _team_id() -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(Team.id).order_by(Team.id)).scalars().first())


def sign_up(client: Client, **fields: str) -> Any:
    data = {
        "name": "Sam Someone",
        "email": "someone@nhs.net",
        "password": "a long enough passphrase",
        "team_id": str(_team_id()),
        **fields,
    }
    return client.form("/signup", data)


def test_the_sign_up_page_lists_the_teams_and_the_allowed_domain(client: Client) -> None:
    page = client.get("/signup")
    assert page.status_code == 200
    assert "nhs.net" in page.text
    assert 'name="team_id"' in page.text


def confirm_by_email(client: Client, mailbox: Mailbox, email: str) -> Any:
    """Follow the sign-up link mailed to ``email`` and press its button, as its owner would."""
    link = mailbox.link_for(email)
    return client.form("/signup/confirm", {"token": link.split("token=", 1)[1]}, page=link)


def test_someone_with_an_allowed_address_signs_up_as_a_reporter(
    app: Any, client: Client, mailbox: Mailbox
) -> None:
    sent = sign_up(client, email="Someone@NHS.net")
    assert sent.status_code == 200 and "Check your email" in sent.text
    response = confirm_by_email(client, mailbox, "someone@nhs.net")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    attributes = cookie_attributes(set_cookie_header(response, SESSION))
    assert "httponly" in attributes and attributes["samesite"].lower() == "lax"
    me = client.get("/api/v1/me").json()
    assert me["email"] == "someone@nhs.net"
    assert me["role"] == "reporter"
    assert me["team_id"] == _team_id()
    with open_session(write=False) as session:
        user = session.execute(select(User).where(User.email == "someone@nhs.net")).scalar_one()
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough passphrase" not in user.password_hash
    assert client.get("/api/v1/ideas").status_code == 403  # a reporter, nothing more
    # And the new account can sign in again later.
    again = attempt(Client(app), "someone@nhs.net", "a long enough passphrase")
    assert again.status_code == 303


def test_sign_up_cannot_choose_a_role(client: Client, mailbox: Mailbox) -> None:
    assert sign_up(client, role="admin").status_code == 200
    assert confirm_by_email(client, mailbox, "someone@nhs.net").status_code == 303
    assert client.get("/api/v1/me").json()["role"] == "reporter"


@pytest.mark.parametrize(
    "email",
    [
        "someone@gmail.com",
        "someone@demo.nhs.uk",
        "someone@nhs.net.evil.example",
        "someone@evilnhs.net",
        "someone@evil.example@nhs.net",
        "someone@nhs.net@evil.example",
    ],
)
def test_sign_up_is_refused_outside_the_allowed_domain(client: Client, email: str) -> None:
    users = count(User)
    response = sign_up(client, email=email)
    assert response.status_code == 422
    assert 'href="#email"' in response.text
    assert "There is a problem" in response.text
    assert count(User) == users and count(UserSession) == 0
    assert SESSION not in response.headers.get("set-cookie", "")


def test_the_domain_refusal_says_which_domain_to_use(client: Client) -> None:
    response = sign_up(client, email="someone@gmail.com")
    assert "Use an email address ending in nhs.net" in error_summary(response.text)


def test_a_short_password_is_refused(client: Client) -> None:
    users = count(User)
    response = sign_up(client, password="elevenchars")
    assert response.status_code == 422
    assert "Password must be at least 12 characters" in error_summary(response.text)
    assert 'href="#password"' in response.text
    assert "elevenchars" not in response.text
    assert count(User) == users and count(UserSession) == 0


def test_a_second_sign_up_for_an_address_changes_nothing_whatever_its_case(
    app: Any, mailbox: Mailbox
) -> None:
    first = Client(app)
    sign_up(first)
    assert confirm_by_email(first, mailbox, "someone@nhs.net").status_code == 303
    users, sessions = count(User), count(UserSession)
    mailbox.clear()
    response = sign_up(Client(app), email="SOMEONE@nhs.net", password="another passphrase!")
    # The same answer as for a new address (tests/security/test_signup.py); the owner is told.
    assert response.status_code == 200 and "Check your email" in response.text
    assert "you already have one" in Mailbox.body(mailbox.to("someone@nhs.net")[0])
    assert count(User) == users and count(UserSession) == sessions
    # The first account still has its own password.
    assert attempt(Client(app), "someone@nhs.net", "another passphrase!").status_code == 422


@pytest.mark.parametrize("team_id", ["999999", "not-a-number"])
def test_an_unknown_team_is_refused(client: Client, team_id: str) -> None:
    users = count(User)
    response = sign_up(client, team_id=team_id)
    assert response.status_code == 422
    assert 'href="#team_id"' in response.text
    assert count(User) == users and count(UserSession) == 0


def test_sign_up_needs_the_csrf_token(client: Client) -> None:
    client.get("/signup")
    users = count(User)
    response = client.http.post(
        "/signup",
        data={
            "name": "Sam Someone",
            "email": "someone@nhs.net",
            "password": "a long enough passphrase",
            "team_id": str(_team_id()),
        },
    )
    assert response.status_code == 403
    assert count(User) == users


def test_without_configured_domains_there_is_no_self_sign_up(
    configure: Callable[..., Any],
) -> None:
    app = configure(allowed_signup_domains="")
    client = Client(app)
    assert client.get("/signup").headers["location"] == "/login"
    assert "/signup" not in client.get("/login").text
    users = count(User)
    response = client.form(
        "/signup",
        {"name": "Sam", "email": "someone@nhs.net", "password": "a long enough passphrase"},
        page="/login",
    )
    assert response.status_code in {403, 404, 422}
    assert count(User) == users


# Logs (E14)


@pytest.fixture
def log_lines(app: Any) -> Iterator[list[str]]:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("frontline")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def test_sign_in_events_are_logged_without_the_email_or_password(
    app: Any, log_lines: list[str]
) -> None:
    client = Client(app)
    attempt(client, CREW, WRONG)
    attempt(client, CREW, DEMO_PASSWORDS[CREW])
    events = [json.loads(line) for line in log_lines]
    assert [e["event"] for e in events if e.get("event", "").startswith("login")] == [
        "login_failed",
        "login",
    ]
    signed_in = next(e for e in events if e.get("event") == "login")
    assert signed_in["user_id"] == user_id(CREW)
    text = "\n".join(log_lines)
    assert CREW not in text
    assert WRONG not in text and DEMO_PASSWORDS[CREW] not in text


def test_throttling_is_logged(app: Any, log_lines: list[str]) -> None:
    client = Client(app)
    for _ in range(get_settings().login_max_failures_per_account_client + 1):
        attempt(client, CREW, WRONG)
    throttled = [json.loads(line) for line in log_lines if "login_throttled" in line]
    assert throttled and throttled[0]["scope"]
    assert all(CREW not in line for line in log_lines)


def test_line_breaks_in_input_cannot_forge_log_lines(app: Any, log_lines: list[str]) -> None:
    forged = 'x@nhs.net\n{"level": "INFO", "event": "login", "user_id": 1}'
    attempt(Client(app), forged, WRONG)
    assert all("\n" not in line for line in log_lines)
    events = [json.loads(line) for line in log_lines]
    assert not any(e.get("event") == "login" for e in events)
