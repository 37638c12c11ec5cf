"""Attack: set a password an attacker guesses first (issue #10, finding 5), and keep a stolen
session alive after the owner changes their password.

A common or breached password is refused everywhere a password is set (admin pages, command line,
sign-up, the /account page), and the /account page lets every signed-in person change theirs with
the current one, ending every other session and rotating their own.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy import select
from typer.testing import CliRunner

import api.security.passwords
from api.cli import app as cli
from api.config import Settings, get_settings
from api.db import open_session
from api.security.passwords import (
    TOO_COMMON,
    common_passwords,
    hash_password,
    password_problem,
    verify_password,
)
from schemas.accounts import Team, User
from tests.conftest import DEMO_PASSWORDS, PRODUCT_HASHER, Client

CREW = "crew@demo.nhs.uk"
#: Long enough for the length rule, and all on (or built from) the bundled common-password list.
GUESSABLE = ["password1234", "Password1234!", "iloveyou12345", "qwertyuiop123", "1q2w3e4r5t6y"]


def summary(html: str) -> str:
    match = re.search(r'<div class="nhsuk-error-summary".*?</ul>', html, re.S)
    assert match, "no error summary on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))).replace("&#39;", "'")


def _team() -> str:
    with open_session(write=False) as session:
        return str(session.execute(select(Team.id).order_by(Team.id)).scalars().first())


def test_the_bundled_list_holds_the_most_common_passwords() -> None:
    common = common_passwords()
    assert len(common) >= 30_000 - 100
    assert {"123456", "password", "qwerty", "iloveyou", "letmein"} <= common


@pytest.mark.parametrize("password", GUESSABLE)
def test_an_admin_cannot_give_anyone_a_common_password(admin: Client, password: str) -> None:
    response = admin.form(
        "/admin/users/new",
        {"name": "Nia Newcomer", "email": "nia@demo.nhs.uk", "role": "reporter",
         "team_id": _team(), "password": password},
    )  # fmt: skip
    assert response.status_code == 422
    assert "commonly used passwords" in summary(response.text)
    with open_session(write=False) as session:
        assert session.execute(select(User).where(User.email == "nia@demo.nhs.uk")).first() is None


def test_an_admin_reset_refuses_a_common_password(admin: Client) -> None:
    with open_session(write=False) as session:
        crew_id = session.execute(select(User.id).where(User.email == CREW)).scalar_one()
    response = admin.form(
        f"/admin/users/{crew_id}/password",
        {"new_password": "liverpool1234"},
        page=f"/admin/users/{crew_id}",
    )
    assert response.status_code == 422
    assert "commonly used passwords" in summary(response.text)


def test_the_command_line_refuses_a_common_password() -> None:
    result = CliRunner().invoke(
        cli,
        ["create-user", "--email", "cli@demo.nhs.uk", "--name", "Cli User", "--role", "reporter",
         "--password-stdin"],
        input="password1234\n",
    )  # fmt: skip
    assert result.exit_code != 0
    assert TOO_COMMON in result.output


def test_sign_up_refuses_a_common_password(client: Client) -> None:
    response = client.form(
        "/signup",
        {"name": "Sam Someone", "email": "sam@nhs.net", "password": "Password1234!",
         "team_id": _team()},
    )  # fmt: skip
    assert response.status_code == 422
    assert "commonly used passwords" in summary(response.text)


def test_predictable_passwords_are_refused_and_passphrases_are_not() -> None:
    context = ("Nia Newcomer", "nia.newcomer@demo.nhs.uk")
    for password in ["aaaaaaaaaaaa", "123456789012", "abcdefghijkl", "frontline2026",
                     "Nia.Newcomer1", "nhsnhsnhs123"]:  # fmt: skip
        assert password_problem(password, context) is not None, password
    for password in ["correct horse battery", "kettle violin harbour", "crew-demo-pass"]:
        assert password_problem(password, context) is None, password


# --- The /account page ------------------------------------------------------------------------


def change(client: Client, current: str, new: str) -> Any:
    return client.form("/account/password", {"current_password": current, "new_password": new},
                       page="/account")  # fmt: skip


def test_the_account_page_is_linked_from_the_header_for_everyone(crew: Client) -> None:
    home = crew.get("/")
    assert 'href="/account"' in home.text
    page = crew.get("/account")
    assert page.status_code == 200
    assert "Your account" in page.text and CREW in page.text
    assert 'name="current_password"' in page.text and 'name="new_password"' in page.text


def test_the_account_page_needs_a_session(client: Client) -> None:
    response = client.get("/account")
    assert response.status_code in {302, 303, 307}
    assert "/login" in response.headers["location"]
    no_token = client.http.post("/account/password", data={"current_password": "x"})
    assert no_token.status_code in {401, 403}


def test_changing_the_password_ends_every_other_session_and_rotates_this_one(app: Any) -> None:
    phone = Client(app).sign_in(CREW)
    thief = Client(app).sign_in(CREW)  # a session someone else holds
    old_cookie = phone.http.cookies.get("frontline_session") or next(
        iter(phone.http.cookies.values())
    )
    response = change(phone, DEMO_PASSWORDS[CREW], "kettle violin harbour")
    assert response.status_code == 303 and response.headers["location"] == "/account?changed=1"
    done = phone.get("/account?changed=1")
    assert done.status_code == 200 and "Your password has been changed" in done.text
    assert thief.get("/api/v1/me").status_code == 401
    assert old_cookie not in phone.http.cookies.values()
    # The old cookie value no longer opens anything.
    replay = Client(app)
    for name in phone.http.cookies:
        if "session" in name:
            replay.http.cookies.set(name, old_cookie)
    assert replay.get("/api/v1/me").status_code == 401
    assert Client(app).sign_in(CREW, "kettle violin harbour").get("/api/v1/me").status_code == 200


def test_a_wrong_current_password_or_a_common_new_one_changes_nothing(
    crew: Client, app: Any
) -> None:
    wrong = change(crew, "not my password at all", "kettle violin harbour")
    assert wrong.status_code == 422
    assert "Your current password is not right" in summary(wrong.text)
    common = change(crew, DEMO_PASSWORDS[CREW], "iloveyou12345")
    assert common.status_code == 422
    assert "commonly used passwords" in summary(common.text)
    blank = change(crew, "", "")
    assert blank.status_code == 422
    assert "Enter your current password" in summary(blank.text)
    assert "Enter a new password" in summary(blank.text)
    assert crew.get("/api/v1/me").status_code == 200
    Client(app).sign_in(CREW, DEMO_PASSWORDS[CREW])  # the old password still works


def test_guessing_the_current_password_from_a_borrowed_session_is_limited(crew: Client) -> None:
    for _ in range(5):
        assert change(crew, "guess the password", "kettle violin harbour").status_code == 422
    limited = change(crew, DEMO_PASSWORDS[CREW], "kettle violin harbour")
    assert limited.status_code == 429
    assert limited.headers["retry-after"]
    assert "Too many failed" in summary(limited.text)


def test_the_product_hashes_with_argon2id_at_64_mib_and_three_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The suite itself hashes at argon2id's smallest cost (tests/conftest.py): here the product's
    # own choice, from the settings, with no FRONTLINE_PASSWORD_HASH_* set.
    monkeypatch.setattr(api.security.passwords, "_hasher", PRODUCT_HASHER)
    stored = hash_password("a long enough passphrase")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(stored, "a long enough passphrase")
    assert not verify_password(stored, "a long enough passphrase!")


def test_the_settings_choose_the_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.security.passwords, "_hasher", PRODUCT_HASHER)
    monkeypatch.setenv("FRONTLINE_PASSWORD_HASH_MEMORY_KIB", "19456")
    monkeypatch.setenv("FRONTLINE_PASSWORD_HASH_ITERATIONS", "2")
    monkeypatch.setenv("FRONTLINE_PASSWORD_HASH_PARALLELISM", "1")
    get_settings.cache_clear()
    try:
        assert hash_password("a long enough passphrase").startswith(
            "$argon2id$v=19$m=19456,t=2,p=1$"
        )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_hash_made_at_another_cost_still_verifies() -> None:
    # A trust that raises the cost keeps every password set before: a hash carries its costs.
    stored = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash("old passphrase!")
    assert verify_password(stored, "old passphrase!")
    assert not verify_password(stored, "another passphrase")


@pytest.mark.parametrize(
    ("memory", "iterations", "field"),
    [("19455", "2", "MEMORY_KIB"), ("19456", "1", "ITERATIONS"), ("1024", "1", "MEMORY_KIB")],
)
def test_production_refuses_a_password_hash_cheaper_than_owasps_minimum(
    memory: str, iterations: str, field: str
) -> None:
    with pytest.raises(ValidationError, match=f"FRONTLINE_PASSWORD_HASH_{field}"):
        Settings(
            environment="production",
            secret_key="x" * 40,
            password_hash_memory_kib=int(memory),
            password_hash_iterations=int(iterations),
        )
    # The floor itself is allowed.
    assert (
        Settings(
            environment="production",
            secret_key="x" * 40,
            password_hash_memory_kib=19456,
            password_hash_iterations=2,
        ).password_hash_memory_kib
        == 19456
    )


def test_too_little_memory_for_the_lanes_is_refused_everywhere() -> None:
    with pytest.raises(ValidationError, match="8 KiB per lane"):
        Settings(password_hash_memory_kib=16, password_hash_parallelism=4)
