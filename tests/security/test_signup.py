"""Attack: use sign-up to learn who has an account, to create accounts in bulk, and to take an
address one does not own (issue #10, finding 5).

A real SMTP server on 127.0.0.1 (tests/support/mailbox.py) receives what Frontline sends; the tests
read the mail and follow the link as the address's owner would.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api.config import get_settings
from api.db import open_session
from api.main import create_app
from api.sync import guard
from schemas.accounts import SignupRequest, Team, User
from tests.conftest import DEMO_PASSWORDS, Client
from tests.support.mailbox import Mailbox

PASSWORD = "kettle violin harbour"


def _team() -> str:
    with open_session(write=False) as session:
        return str(session.execute(select(Team.id).order_by(Team.id)).scalars().first())


def sign_up(client: Client, **fields: str) -> Any:
    data = {"name": "Sam Someone", "email": "sam@nhs.net", "password": PASSWORD,
            "team_id": _team(), **fields}  # fmt: skip
    return client.form("/signup", data)


def users(email: str) -> list[User]:
    with open_session(write=False) as session:
        return list(session.execute(select(User).where(User.email == email)).scalars())


def main_text(html: str) -> str:
    main = re.search(r"<main.*?</main>", html, re.S)
    assert main
    text = re.sub(r'name="csrf_token" value="[^"]*"', "", main.group(0))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


def test_the_answer_is_the_same_for_a_known_and_a_new_address(
    app: Any, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A known address: it is the crew member's; the domain must be one sign-up allows.
    monkeypatch.setenv("FRONTLINE_ALLOWED_SIGNUP_DOMAINS", "nhs.net,demo.nhs.uk")
    get_settings.cache_clear()
    app = create_app()
    known = sign_up(Client(app), email="crew@demo.nhs.uk")
    new = sign_up(Client(app), email="newcomer@demo.nhs.uk")
    assert known.status_code == new.status_code == 200
    assert main_text(known.text).replace("crew@", "X@") == main_text(new.text).replace(
        "newcomer@", "X@"
    )
    # Only the owner of each address learns which case it is.
    assert "you already have one" in Mailbox.body(mailbox.to("crew@demo.nhs.uk")[0])
    assert "/signup/confirm?token=" in Mailbox.body(mailbox.to("newcomer@demo.nhs.uk")[0])
    # And the known account is untouched: its password is still the old one.
    Client(app).sign_in("crew@demo.nhs.uk", DEMO_PASSWORDS["crew@demo.nhs.uk"])


def test_no_account_works_until_the_emailed_link_is_followed(
    client: Client, app: Any, mailbox: Mailbox
) -> None:
    assert sign_up(client).status_code == 200
    assert users("sam@nhs.net") == []
    attempt = Client(app)
    token = attempt.page_token("/login")
    refused = attempt.http.post(
        "/login", data={"email": "sam@nhs.net", "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code == 422
    link = mailbox.link_for("sam@nhs.net")
    page = client.get(link)
    assert page.status_code == 200 and "Confirm your email address" in page.text
    assert users("sam@nhs.net") == []  # opening the link (a mail scanner would) creates nothing
    token_value = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token_value
    done = client.form("/signup/confirm", {"token": token_value.group(1)}, page=link)
    assert done.status_code == 303
    assert client.get("/api/v1/me").json()["email"] == "sam@nhs.net"
    [user] = users("sam@nhs.net")
    assert user.role == "reporter" and user.name == "Sam Someone"
    Client(app).sign_in("sam@nhs.net", PASSWORD)


def test_a_link_works_once(client: Client, app: Any, mailbox: Mailbox) -> None:
    sign_up(client)
    link = mailbox.link_for("sam@nhs.net")
    token = link.split("token=", 1)[1]
    first = client.form("/signup/confirm", {"token": token}, page=link)
    assert first.status_code == 303
    other = Client(app)
    assert other.get(link).status_code == 410
    again = other.form("/signup/confirm", {"token": token}, page="/login")
    assert again.status_code == 410 and "This link cannot be used" in again.text
    assert len(users("sam@nhs.net")) == 1


def test_a_link_expires(client: Client, mailbox: Mailbox) -> None:
    sign_up(client)
    link = mailbox.link_for("sam@nhs.net")
    with open_session(write=True) as session:
        for request in session.execute(select(SignupRequest)).scalars():
            request.expires_at = request.expires_at - timedelta(
                hours=get_settings().signup_link_hours + 1
            )
        session.commit()
    assert client.get(link).status_code == 410
    late = client.form("/signup/confirm", {"token": link.split("token=", 1)[1]}, page="/login")
    assert late.status_code == 410
    assert users("sam@nhs.net") == []


def test_only_a_hash_of_the_link_token_is_stored(client: Client, mailbox: Mailbox) -> None:
    sign_up(client)
    token = mailbox.link_for("sam@nhs.net").split("token=", 1)[1]
    with open_session(write=False) as session:
        [stored] = session.execute(select(SignupRequest)).scalars()
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    assert PASSWORD not in stored.password_hash


def test_a_forged_or_truncated_token_is_refused(client: Client, mailbox: Mailbox) -> None:
    sign_up(client)
    token = mailbox.link_for("sam@nhs.net").split("token=", 1)[1]
    for forged in (token[:-1], token + "x", "", "A" * 43):
        response = client.form("/signup/confirm", {"token": forged}, page="/login")
        assert response.status_code == 410
    assert users("sam@nhs.net") == []


def test_sign_up_is_throttled_per_address_and_per_client(app: Any, mailbox: Mailbox) -> None:
    client = Client(app)
    statuses = [sign_up(client).status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    assert len(mailbox.to("sam@nhs.net")) == 3  # no mail-bombing an address
    sprayer = Client(app)
    results = [sign_up(sprayer, email=f"person{n}@nhs.net").status_code for n in range(12)]
    assert 429 in results
    refused = sign_up(sprayer, email="one.more@nhs.net")
    assert refused.status_code == 429 and refused.headers["retry-after"]


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


def test_without_a_mail_server_sign_up_stays_off_and_says_so(
    configure: Callable[..., Any],
) -> None:
    said: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())

    handler = Collect()
    logging.getLogger("frontline.auth").addHandler(handler)
    try:
        app = configure(smtp_host="")
    finally:
        logging.getLogger("frontline.auth").removeHandler(handler)
    assert any("self sign-up is off" in line and "FRONTLINE_SMTP_HOST" in line for line in said)
    client = Client(app)
    assert client.get("/signup").status_code == 303
    assert "Create an account" not in client.get("/login").text
    token = client.page_token("/login")
    posted = client.http.post(
        "/signup",
        data={"name": "Sam", "email": "sam@nhs.net", "password": PASSWORD, "csrf_token": token},
    )
    assert posted.status_code == 403
    assert users("sam@nhs.net") == []
