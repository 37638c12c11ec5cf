"""Fixtures on a real database: SQLite by default, PostgreSQL when FRONTLINE_TEST_DATABASE_URL names
one (the README's test command runs the suite on both). Every test starts from the demo trust."""

from __future__ import annotations

import functools
import os
import re
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine, event, make_url, select, text
from sqlmodel import SQLModel

import api.auth.users
import api.security.passwords
import schemas.tables  # noqa: F401 - every table on the metadata
from api.config import get_settings
from api.db import get_engine, open_session
from api.demo import seed_demo
from api.main import create_app
from api.migrate import upgrade
from api.security import csrf
from api.security.passwords import hash_password
from api.security.sessions import end_session, start_session
from api.sync import guard
from schemas.accounts import User
from tests.support.hashing import CHEAP_HASHING
from tests.support.mailbox import Mailbox

pytest_plugins = ["tests.support.chromium"]

# Hypothesis's per-example deadline and "too slow" check are timing asserts: on a busy shared
# machine they fail correct code (an example of the NHS-number properties once took over 200 ms).
# Speed is measured in bench/, never asserted; the properties check behaviour only.
hypothesis.settings.register_profile(
    "frontline", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.load_profile("frontline")

# Every sign-in checks an argon2id hash: at the product's 64 MiB and 3 passes that is 0.1 s on a
# quiet machine and near a second on a busy one, thousands of times in a run. The suite hashes with
# argon2id at its smallest cost instead: in this process by replacing the settings' choice, in the
# development servers and commands the tests start through CHEAP_HASHING (production ones keep the
# product's costs, which production insists on). tests/security/test_passwords.py checks the
# product's own costs and production's floor with PRODUCT_HASHER.
PRODUCT_HASHER = api.security.passwords._hasher
api.security.passwords._hasher = functools.partial(  # type: ignore[assignment]
    api.security.passwords._hasher_of, *(int(v) for v in CHEAP_HASHING.values())
)
# The demo users are re-created often: remember their hashes.
api.auth.users.hash_password = functools.lru_cache(maxsize=64)(hash_password)  # type: ignore[assignment]

DEMO_PASSWORDS = {
    "crew@demo.nhs.uk": "crew-demo-pass",
    "staff@demo.nhs.uk": "staff-demo-pass",
    "manager@demo.nhs.uk": "manager-demo-pass",
    "admin@demo.nhs.uk": "admin-demo-pass",
    "partner@demo.nhs.uk": "partner-demo-pass",
}


def _database_of_this_worker(url: str, worker_id: str) -> str:
    """Under pytest-xdist every worker needs a PostgreSQL database of its own (each test wipes and
    reseeds the demo trust): the named one plus the worker's name, created when missing (the test
    role needs CREATEDB, as in .ci/run). One process alone uses the named database itself."""
    if worker_id == "master":
        return url
    base = make_url(url)
    mine = f"{base.database}_{worker_id}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": mine}
            ).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{mine}"'))
    finally:
        engine.dispose()
    return base.set(database=mine).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    url = os.environ.get("FRONTLINE_TEST_DATABASE_URL")
    if url:
        return _database_of_this_worker(url, worker_id)
    # tmp_path_factory is already one folder per xdist worker.
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'frontline-test.db'}"


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """The SMTP server the test settings send mail to (sign-up links); emptied before each test."""
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="session", autouse=True)
def configured(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox
) -> Iterator[None]:
    os.environ["DATABASE_URL"] = database_url
    os.environ["FRONTLINE_ENVIRONMENT"] = "test"
    os.environ["FRONTLINE_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    os.environ["FRONTLINE_ALLOWED_SIGNUP_DOMAINS"] = "nhs.net"
    # Sign-up confirms addresses by email: a real SMTP server on 127.0.0.1 (no TLS there).
    os.environ["FRONTLINE_SMTP_HOST"] = "127.0.0.1"
    os.environ["FRONTLINE_SMTP_PORT"] = str(mailbox.port)
    os.environ["FRONTLINE_SMTP_STARTTLS"] = "false"
    get_settings.cache_clear()
    get_engine.cache_clear()
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    yield
    engine.dispose()


def _wipe() -> None:
    """Empty every table before a test. DELETE, not TRUNCATE, on PostgreSQL too: a TRUNCATE of
    25 tables makes new files for each table and index and took 0.45 s a test (5 minutes of a
    PostgreSQL pass); deleting a demo trust's few rows takes milliseconds. The sequences restart
    at 1, as TRUNCATE … RESTART IDENTITY did, so every test sees the same ids."""
    engine = get_engine()
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    # Deleting the notes fires the summary triggers (migrations 0008, 0014) after their tables
    # may already be empty: clear them last so no negative count is left over.
    # (On PostgreSQL those deletes append deltas, migration 0016: they are cleared last too.)
    last = ("measure_day", "pack_day", "measure_delta", "pack_delta")
    statements = [f"DELETE FROM {table}" for table in (*tables, *last)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            statements.append(
                "SELECT setval(oid, 1, false) FROM pg_class"
                " WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
            )
            # One round trip: psycopg sends a parameterless multi-statement string as is.
            connection.exec_driver_sql("; ".join(statements))
        else:
            for statement in statements:
                connection.exec_driver_sql(statement)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "no_database: pure code that never opens the database: no demo trust is seeded for it, "
        "opening the database fails it, and the PostgreSQL pass leaves it out (it ran on SQLite)",
    )
    config.addinivalue_line(
        "markers",
        "sqlite_file: runs on an SQLite file of its own whichever database the suite is on; "
        "the PostgreSQL pass of scripts/test leaves it out (it ran in the SQLite pass)",
    )


def _refuse_the_database(*_: object) -> None:
    raise AssertionError(
        "this test is marked no_database but opened the database: remove the mark "
        "(it then runs on the demo trust, on SQLite and on PostgreSQL)"
    )


@pytest.fixture(autouse=True)
def demo_trust(
    configured: None, mailbox: Mailbox, request: pytest.FixtureRequest
) -> Iterator[None]:
    if request.node.get_closest_marker("no_database"):
        # Nothing to wipe or seed (a tenth of a second a test); a test that opens the database
        # after all fails rather than reading whatever the last test left.
        engine = get_engine()
        event.listen(engine, "engine_connect", _refuse_the_database)
        try:
            yield
        finally:
            event.remove(engine, "engine_connect", _refuse_the_database)
        return
    _wipe()
    mailbox.clear()
    guard._limiter.cache_clear()
    _seed_the_demo_trust()
    yield


#: Tables the database keeps itself (triggers): never copied, they follow the rows restored.
_TRIGGER_KEPT = frozenset({"measure_day", "pack_day", "measure_delta", "pack_delta"})
_demo_rows: dict[str, list[dict[str, Any]]] = {}


def _seed_the_demo_trust() -> None:
    """The first test of a process seeds the demo trust with `seed_demo` (as `frontline demo`
    does) and remembers its rows; every later test puts the same rows back with one Core insert a
    table (0.07 s of ORM work and account checks a test became a few milliseconds)."""
    engine = get_engine()
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in _TRIGGER_KEPT]
    if not _demo_rows:
        with open_session(write=True) as session:
            seed_demo(session)
            session.commit()
        with engine.connect() as connection:
            for table in tables:
                rows = [dict(row) for row in connection.execute(table.select()).mappings()]
                if rows:
                    _demo_rows[table.name] = rows
        return
    with engine.begin() as connection:
        for table in tables:
            if rows := _demo_rows.get(table.name):
                connection.execute(table.insert(), rows)
                if engine.dialect.name == "postgresql" and "id" in table.c:
                    # The ids were given, so the sequence did not move: where the next id starts.
                    connection.execute(
                        text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
                        {"table": table.name, "last": max(row["id"] for row in rows)},
                    )


_apps: OrderedDict[str, Any] = OrderedDict()
_APPS_KEPT = 8


def _settings_key(settings: Any) -> str:
    """The settings' values, secrets included (a SecretStr's repr hides them, and two different
    keys must not share an app): equal values build the same app."""
    values = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in settings
    }
    return repr(sorted(values.items()))


def the_app() -> Any:
    """The app for the settings now in force, built once per test process and settings.

    FastAPI (0.16x) builds each included router's routes (dependency trees, pydantic adapters)
    on an app's first request: about a third of the in-process tests' CPU went on doing that again
    for a new app in every test. A production process builds its app once, as this does. A test
    that changes the settings (`get_settings.cache_clear()` after new environment variables) gets
    the app of those values, built when first seen: the push tests, which all switch coalescing
    off and back again, built two apps a test when apps were kept by the settings object's
    identity. The app keeps no records: every test still starts from the demo trust in the
    database."""
    key = _settings_key(get_settings())
    if key in _apps:
        _apps.move_to_end(key)
    else:
        _apps[key] = create_app()
        while len(_apps) > _APPS_KEPT:
            _apps.popitem(last=False)
    return _apps[key]


@pytest.fixture
def app() -> Any:
    return the_app()


class Client:
    """A TestClient that signs in like a browser and sends the CSRF token like the pages do."""

    def __init__(self, app: Any) -> None:
        self.http = TestClient(app, follow_redirects=False)
        self.csrf = ""

    def page_token(self, path: str = "/login") -> str:
        page = self.http.get(path)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert match, f"no csrf meta on {path}"
        return match.group(1)

    def sign_in(self, email: str, password: str | None = None) -> Client:
        """Signed in through the sign-in form when a password is given (what the sign-in tests
        exercise); a demo user without one gets a session as the form would make it, directly
        (`start_session`, the same row and cookie), which is how most tests begin: three requests
        a test fewer (tests/api/test_auth.py and tests/security cover the form itself)."""
        if password is None and email in DEMO_PASSWORDS:
            return self._session_for(email)
        token = self.page_token("/login")
        response = self.http.post(
            "/login",
            data={
                "email": email,
                "password": password or DEMO_PASSWORDS[email],
                "csrf_token": token,
            },
        )
        assert response.status_code == 303, response.text
        self.csrf = self.http.get("/api/v1/me").json()["csrf_token"]
        return self

    def _session_for(self, email: str) -> Client:
        settings = get_settings()
        with open_session(write=True) as session:
            user = session.execute(select(User).where(User.email == email)).scalar_one()
            assert user.active and not user.must_change_password, email
            old = self.http.cookies.get(settings.session_cookie_name)
            if old:
                end_session(session, old)  # as the form does: a new sign-in ends the old one
            token = start_session(session, user, settings)
            session.commit()
        # Where the sign-in form's Set-Cookie lands (the cookie jar stores a dotless host as
        # host.local), so a cookie the server sets later replaces this one.
        host = self.http.base_url.host
        domain = host if "." in host else f"{host}.local"
        self.http.cookies.set(settings.session_cookie_name, token, domain=domain)
        self.csrf = csrf.token_for(token, settings)
        return self

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.http.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.http.post(
            url, headers={"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}, **kwargs
        )

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self.http.patch(
            url, headers={"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}, **kwargs
        )

    def form(self, url: str, data: dict[str, Any], page: str | None = None) -> Any:
        """Post a form the way a browser does: the token comes from the page that holds the form."""
        token = self.page_token(page or url)
        return self.http.post(url, data={**data, "csrf_token": token})


@pytest.fixture
def client(app: Any) -> Client:
    return Client(app)


@pytest.fixture
def crew(app: Any) -> Client:
    return Client(app).sign_in("crew@demo.nhs.uk")


@pytest.fixture
def staff(app: Any) -> Client:
    return Client(app).sign_in("staff@demo.nhs.uk")


@pytest.fixture
def manager(app: Any) -> Client:
    return Client(app).sign_in("manager@demo.nhs.uk")


@pytest.fixture
def admin(app: Any) -> Client:
    return Client(app).sign_in("admin@demo.nhs.uk")


@pytest.fixture
def partner(app: Any) -> Client:
    """The demo partner organisation's user (Riverside General Hospital)."""
    return Client(app).sign_in("partner@demo.nhs.uk")


ROOT = Path(__file__).resolve().parent.parent
