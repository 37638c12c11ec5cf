"""Security headers, page markup under the Content-Security-Policy, body size, production
configuration and error responses (SPEC §6, §9; EVIDENCE E9, E11, E15, E16)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from api.config import DEFAULT_SECRET, Settings, get_settings
from api.db import get_engine, open_session
from api.main import create_app
from api.sync import guard
from schemas.handovers import Handover
from schemas.ideas import Idea
from tests.conftest import DEMO_PASSWORDS, Client
from tests.records import handover_data, idea_data, new_id

MIB = 1024 * 1024
PRODUCTION_SECRET = "x" * 40
TRACE = re.compile(
    r'Traceback \(most recent call last\)|File "[^"]+", line \d+|sqlalchemy\.|jinja2\.|\.py\b'
)


def count(model: Any) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def csp(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("content-security-policy")
    assert header, f"no CSP on {response.request.url}"
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0].lower()] = tokens[1:]
    return directives


def assert_security_headers(response: Any) -> None:
    policy = csp(response)
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'self'" in policy["script-src"]
    for source in policy["script-src"]:
        assert source in {"'self'", "'none'"} or source.startswith(("'nonce-", "'sha256-")), source
    header = response.headers["content-security-policy"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    assert "*" not in header
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers.get("referrer-policy") in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }


def assert_no_store(response: Any) -> None:
    directives = {d.strip() for d in response.headers.get("cache-control", "").split(",")}
    assert "no-store" in directives, (response.request.url, response.headers.get("cache-control"))


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


@pytest.fixture
def production(configure: Callable[..., Any]) -> Any:
    """The app as it runs in production: every part reads production settings."""
    return configure(environment="production", secret_key=PRODUCTION_SECRET)


def https_client(app: Any) -> Client:
    client = Client(app)
    client.http = TestClient(app, base_url="https://testserver", follow_redirects=False)
    return client


def sign_in_over_https(app: Any, email: str) -> tuple[Client, Any]:
    client = https_client(app)
    token = client.page_token("/login")
    response = client.http.post(
        "/login", data={"email": email, "password": DEMO_PASSWORDS[email], "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    client.csrf = client.get("/api/v1/me").json()["csrf_token"]
    return client, response


# Headers on every kind of response (E11)


@pytest.fixture
def responses(client: Client, crew: Client) -> dict[str, Any]:
    return {
        "anonymous page": client.get("/login"),
        "signed-in page": crew.get("/"),
        "json": crew.get("/api/v1/me"),
        "json list refused": crew.get("/api/v1/ideas"),
        "anonymous json": client.get("/api/v1/me"),
        "redirect": client.get("/mine"),
        "html 404": crew.get("/no-such-page"),
        "json 404": crew.get("/api/v1/no-such-thing"),
        "static css": client.get("/static/css/app.css"),
        "static js": client.get("/static/js/app.js"),
        "manifest": client.get("/manifest.webmanifest"),
        "validation error": crew.post("/api/v1/sync", json={"items": "nope"}),
    }


DOCUMENT_ONLY = (
    "content-security-policy",
    "x-frame-options",
    "cross-origin-opener-policy",
    "permissions-policy",
)


@pytest.mark.parametrize(
    "kind",
    [
        "anonymous page",
        "signed-in page",
        "json",
        "json list refused",
        "anonymous json",
        "redirect",
        "html 404",
        "json 404",
        "validation error",
    ],
)
def test_every_response_carries_the_security_headers(responses: dict[str, Any], kind: str) -> None:
    assert_security_headers(responses[kind])
    for name in DOCUMENT_ONLY:
        assert name in responses[kind].headers, (kind, name)


def assert_full_set(response: Any) -> None:
    assert_security_headers(response)
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert response.headers["permissions-policy"]


SUBRESOURCES = [
    "/static/css/app.css",
    "/static/css/nhsuk.min.css",
    "/static/js/app.js",
    "/static/vendor/nhsuk-frontend/nhsuk-frontend.min.js",
    "/static/icons/icon-192.png",
    "/static/vendor/nhsuk-frontend/assets/images/favicon.ico",
    "/manifest.webmanifest",
    # Imported by the worker (and loaded by pages): the worker's CSP is /sw.js's own answer.
    "/sw/outbox.js",
    "/sw/version.js",
    "/static/vendor/idb/idb.umd.js",
    "/sw/outbox-core.bundle.js",
    "/static/js/page.bundle.js",
    "/static/js/form.bundle.js",
]


@pytest.mark.parametrize("path", SUBRESOURCES)
def test_subresources_carry_nosniff_and_referrer_policy_but_no_document_headers(
    client: Client, path: str
) -> None:
    """CSP, X-Frame-Options, COOP and Permissions-Policy act only on documents and workers: on a
    stylesheet, script, image or the manifest they are bytes on one bar of signal (issue #16)."""
    response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    for name in DOCUMENT_ONLY:
        assert name not in response.headers, (path, name)


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/sw.js",
        "/static/vendor/nhsuk-frontend/assets/images/favicon.svg",
    ],
)
def test_pages_worker_scripts_and_svg_keep_every_header(client: Client, path: str) -> None:
    """A worker's CSP is its own script's answer (/sw.js; what it imports brings none of its own);
    an SVG opened on its own is a document that can run script."""
    response = client.get(path)
    assert response.status_code == 200
    assert_full_set(response)


def test_a_missing_static_file_is_an_error_page_with_every_header(client: Client) -> None:
    response = client.get("/static/no-such-file.css")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert_full_set(response)


def test_the_responses_are_what_they_claim(responses: dict[str, Any]) -> None:
    assert responses["anonymous page"].status_code == 200
    assert responses["signed-in page"].status_code == 200
    assert responses["json"].status_code == 200
    assert responses["json list refused"].status_code == 403
    assert responses["anonymous json"].status_code == 401
    assert responses["redirect"].status_code == 303
    assert responses["html 404"].status_code == 404
    assert responses["html 404"].headers["content-type"].startswith("text/html")
    assert responses["json 404"].status_code == 404
    assert responses["json 404"].headers["content-type"].startswith("application/json")
    assert responses["static css"].status_code == 200
    assert responses["static js"].status_code == 200
    assert responses["validation error"].status_code == 422


@pytest.mark.parametrize(
    "path", ["/", "/mine", "/outbox", "/ideas/new", "/handovers/new", "/no-such-page"]
)
def test_signed_in_pages_are_never_stored_in_caches(crew: Client, path: str) -> None:
    assert_no_store(crew.get(path))


@pytest.mark.parametrize(
    "path", ["/api/v1/me", "/api/v1/me/submissions", "/api/v1/reference", "/api/v1/ideas"]
)
def test_signed_in_json_is_never_stored_in_caches(crew: Client, manager: Client, path: str) -> None:
    response = (manager if path == "/api/v1/ideas" else crew).get(path)
    assert response.status_code == 200
    assert_no_store(response)


def test_sync_answers_are_never_stored_in_caches(crew: Client) -> None:
    assert_no_store(crew.post("/api/v1/sync", json={"items": []}))


def test_no_hsts_outside_production(client: Client, crew: Client) -> None:
    for response in (client.get("/login"), crew.get("/"), crew.get("/api/v1/me")):
        assert "strict-transport-security" not in response.headers


def test_hsts_in_production(production: Any) -> None:
    client = https_client(production)
    for response in (
        client.get("/login"),
        client.get("/api/v1/me"),
        client.get("/static/css/app.css"),
        client.get("/sw.js"),
    ):
        hsts = response.headers.get("strict-transport-security", "")
        match = re.search(r"max-age=(\d+)", hsts)
        assert match and int(match.group(1)) >= 31536000


def test_pages_cannot_be_framed(client: Client) -> None:
    response = client.get("/login")
    assert csp(response)["frame-ancestors"] == ["'none'"]
    assert response.headers.get("x-frame-options", "DENY").upper() == "DENY"


# Page markup under the CSP (E11; SPEC §6)

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
TAG = re.compile(r"<[a-zA-Z][^>]*>", re.S)
CSRF_META = re.compile(r'<meta\s+name="csrf-token"\s+content="([^"]*)"\s*/?>')
OUTBOX_COUNT = re.compile(r"<(\w+)\b[^>]*\sdata-outbox-count(?:=\"[^\"]*\")?[^>]*>(.*?)</\1>", re.S)


def assert_page_keeps_to_the_csp(html: str) -> None:
    scripts = SCRIPT_TAG.findall(html)
    assert scripts, "a page without its scripts"
    for attributes, body in scripts:
        assert re.search(r"\ssrc=", attributes), f"inline <script{attributes}>"
        assert body.strip() == "", "a script element with a body"
    assert not re.search(r"<style\b", html, re.I), "an inline <style> element"
    for tag in TAG.findall(html):
        assert not re.search(r"\sstyle\s*=", tag, re.I), f"style attribute in {tag}"
        assert not re.search(r"\son[a-z]+\s*=", tag, re.I), f"inline event handler in {tag}"
        assert "javascript:" not in tag.lower(), f"javascript: URL in {tag}"


def assert_page_shell(html: str, csrf: str | None = None) -> None:
    metas = CSRF_META.findall(html)
    assert len(metas) == 1, "no csrf-token meta"
    assert metas[0], "an empty csrf-token meta"
    if csrf is not None:
        assert metas[0] == csrf
    counts = OUTBOX_COUNT.findall(html)
    assert counts, "no data-outbox-count element"
    assert all(text.strip() == "0" for _, text in counts)


ANONYMOUS_PAGES = ["/login", "/signup"]
CREW_PAGES = ["/", "/ideas/new", "/handovers/new", "/mine", "/outbox", "/logout", "/docs"]


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_anonymous_pages_keep_to_the_csp_and_carry_the_shell(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert_page_keeps_to_the_csp(response.text)
    assert_page_shell(response.text)


@pytest.mark.parametrize("path", CREW_PAGES)
def test_signed_in_pages_keep_to_the_csp_and_carry_the_shell(crew: Client, path: str) -> None:
    response = crew.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_page_keeps_to_the_csp(response.text)
    assert_page_shell(response.text, csrf=crew.csrf)


def test_manager_home_keeps_to_the_csp(manager: Client) -> None:
    response = manager.get("/")
    assert_page_keeps_to_the_csp(response.text)
    assert_page_shell(response.text, csrf=manager.csrf)


def test_error_pages_keep_to_the_csp(client: Client) -> None:
    token = client.page_token("/login")
    failed = client.http.post(
        "/login",
        data={"email": "crew@demo.nhs.uk", "password": "wrong-password", "csrf_token": token},
    )
    assert failed.status_code == 422
    not_found = client.get("/no-such-page")
    assert not_found.status_code == 404
    for response in (failed, not_found):
        assert_page_keeps_to_the_csp(response.text)
        assert OUTBOX_COUNT.search(response.text)


def test_a_confirmation_page_keeps_to_the_csp(crew: Client) -> None:
    record_id = new_id()
    assert (
        crew.post("/api/v1/handovers", json={"id": record_id, **handover_data()}).status_code == 201
    )
    response = crew.get(f"/submitted/handover/{record_id}")
    assert response.status_code == 200
    assert_page_keeps_to_the_csp(response.text)
    assert_page_shell(response.text, csrf=crew.csrf)


def test_htmx_is_configured_without_eval(manager: Client) -> None:
    # htmx loads only on the pages that use hx-* (issue 16): the managers' queue is one.
    html = manager.get("/triage").text
    match = re.search(r"<meta name=\"htmx-config\" content='([^']*)'", html)
    assert match
    config = json.loads(match.group(1))
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False


def test_what_a_user_typed_is_escaped_when_shown_back(client: Client) -> None:
    token = client.page_token("/login")
    response = client.http.post(
        "/login",
        data={"email": '"><script>alert(1)</script>', "password": "x", "csrf_token": token},
    )
    assert "<script>alert(1)</script>" not in response.text
    assert_page_keeps_to_the_csp(response.text)


# Body size (SPEC §6)


def padded_batch(size: int) -> tuple[bytes, str]:
    """A valid one-item batch padded with JSON whitespace to `size` bytes: it would be stored if
    the size were not refused."""
    record_id = new_id()
    body = json.dumps({"items": [{"kind": "handover", "id": record_id, "data": handover_data()}]})
    return (body + " " * (size - len(body))).encode(), record_id


def test_a_body_over_1_mib_is_refused_with_413_and_nothing_is_stored(crew: Client) -> None:
    body, _ = padded_batch(int(1.1 * MIB))
    response = crew.post("/api/v1/sync", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert count(Handover) == 0


def test_the_413_answer_is_json_with_the_security_headers(crew: Client) -> None:
    """Errors are JSON {"detail": ...} (SPEC §6) and every response has the headers (E11), also when
    the size is refused from the Content-Length before the body is read."""
    body, _ = padded_batch(int(1.1 * MIB))
    response = crew.post("/api/v1/sync", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/json")
    assert isinstance(response.json()["detail"], str)
    assert_security_headers(response)


def test_a_streamed_body_over_1_mib_without_a_length_is_refused(crew: Client) -> None:
    body, _ = padded_batch(int(1.1 * MIB))

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = crew.post(
        "/api/v1/sync", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert count(Handover) == 0


def test_a_form_over_1_mib_is_refused(crew: Client) -> None:
    token = crew.page_token("/ideas/new")
    data = idea_data()
    form = {
        "csrf_token": token,
        "id": new_id(),
        "title": data["title"],
        "problem": "x" * int(1.1 * MIB),
        "proposal": data["proposal"],
        "aims": [str(a) for a in data["aims"]],
        "team_id": str(data["team_id"]),
    }
    response = crew.http.post("/ideas", data=form)
    assert response.status_code == 413
    assert count(Idea) == 0


def test_a_body_just_under_1_mib_is_accepted(crew: Client) -> None:
    body, record_id = padded_batch(MIB - 1024)
    response = crew.post("/api/v1/sync", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json()["results"][0] == {
        "id": record_id,
        "kind": "handover",
        "outcome": "created",
        "errors": [],
    }


# Production configuration (E9, E16)


def test_openapi_is_served_in_development_and_test(client: Client, crew: Client) -> None:
    for who in (client, crew):
        response = who.get("/openapi.json")
        assert response.status_code == 200
        assert response.json()["openapi"].startswith("3.")
        assert "/api/v1/sync" in response.json()["paths"]


def test_openapi_is_for_signed_in_users_only_in_production(production: Any) -> None:
    anonymous = https_client(production).get("/openapi.json")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Sign in to continue."}
    assert "paths" not in anonymous.text
    crew, _ = sign_in_over_https(production, "crew@demo.nhs.uk")
    signed_in = crew.get("/openapi.json")
    assert signed_in.status_code == 200
    assert "/api/v1/sync" in signed_in.json()["paths"]


def test_production_cookies_are_host_prefixed_secure_httponly_and_lax(production: Any) -> None:
    client = https_client(production)
    login_page = client.get("/login")
    _, response = sign_in_over_https(production, "crew@demo.nhs.uk")
    headers = [
        *login_page.headers.get_list("set-cookie"),
        *response.headers.get_list("set-cookie"),
    ]
    session = [h for h in headers if h.startswith("__Host-frontline_session=")]
    assert session, headers
    assert not [h for h in headers if h.startswith(("frontline_session=", "frontline_anon="))]
    for header in headers:
        assert header.startswith("__Host-"), header
        attributes = {
            part.strip().partition("=")[0].lower(): part.strip().partition("=")[2]
            for part in header.split(";")[1:]
        }
        assert "secure" in attributes
        assert "httponly" in attributes
        assert attributes["samesite"].lower() == "lax"
        assert attributes["path"] == "/"
        assert "domain" not in attributes


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRONTLINE_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="FRONTLINE_SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key=DEFAULT_SECRET)
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key="short-but-not-default")


def test_production_refuses_to_start_from_the_environment_with_the_default_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FRONTLINE_SECRET_KEY", raising=False)
    monkeypatch.setenv("FRONTLINE_ENVIRONMENT", "production")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValidationError):
            create_app()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_long_random_secret_is_accepted_in_production() -> None:
    settings = Settings(environment="production", secret_key=PRODUCTION_SECRET)
    assert settings.is_production


@pytest.mark.parametrize(
    "path",
    [
        "/.git/config",
        "/.git/HEAD",
        "/.env",
        "/pyproject.toml",
        "/api/main.py",
        "/static/../api/main.py",
        "/static/%2e%2e/%2e%2e/api/main.py",
        "/static/..%2f..%2fapi%2fmain.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/%2e%2e/templates/base.html",
    ],
)
def test_no_source_or_git_files_are_served(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "[core]" not in response.text
    assert "create_app" not in response.text
    assert "{% block" not in response.text


def test_debug_is_off(app: Any, production: Any) -> None:
    assert app.debug is False
    assert production.debug is False


# Error responses never include a stack trace (E15)


def assert_no_trace(response: Any) -> None:
    match = TRACE.search(response.text)
    assert match is None, (match, response.text[:500])


def test_client_errors_never_show_a_stack_trace(crew: Client) -> None:
    cases = [
        crew.post(
            "/api/v1/sync", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        crew.post("/api/v1/sync", json={"items": [{"kind": "idea"}]}),
        crew.get("/api/v1/ideas/not-a-uuid"),
        crew.get("/submitted/rocket/not-a-uuid"),
        crew.get("/api/v1/no-such-thing"),
        crew.get("/no-such-page"),
        crew.http.put("/api/v1/sync", headers={"X-CSRF-Token": crew.csrf}),
        crew.http.post("/api/v1/sync", json={"items": []}),
    ]
    assert [r.status_code for r in cases] == [422, 422, 422, 422, 404, 404, 405, 403]
    for response in cases:
        assert_no_trace(response)
    for response in cases:
        if response.headers["content-type"].startswith("application/json"):
            assert "detail" in response.json()


def test_an_unexpected_error_is_a_plain_500_with_the_security_headers() -> None:
    app = create_app()  # of its own: the route added below is not the product's

    def broken() -> None:
        raise RuntimeError("secret internals: /srv/frontline/api/thing.py line 12")

    app.add_api_route("/api/v1/broken", broken)
    response = TestClient(app, raise_server_exceptions=False).get("/api/v1/broken")
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert_no_trace(response)
    assert_security_headers(response)


@pytest.fixture
def stop_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Callable[[], None]]:
    """Call it and the database stops answering (its file can no longer be opened)."""

    def stop() -> None:
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'gone.db'}")
        get_settings.cache_clear()
        get_engine.cache_clear()

    yield stop
    get_engine().dispose()
    monkeypatch.undo()
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_database_down_is_a_generic_503_that_never_acknowledges(
    crew: Client, stop_database: Callable[[], None]
) -> None:
    body = {"items": [{"kind": "handover", "id": new_id(), "data": handover_data()}]}
    stop_database()
    api = crew.post("/api/v1/sync", json=body)
    assert api.status_code == 503
    assert isinstance(api.json()["detail"], str)
    assert "results" not in api.json()
    assert api.headers.get("retry-after")
    assert_no_trace(api)
    assert_security_headers(api)
    page = crew.get("/mine")
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert_no_trace(page)
    assert_security_headers(page)
    health = crew.get("/healthz")
    assert health.status_code == 503
    assert_no_trace(health)


def test_no_error_body_leaks_the_password(client: Client) -> None:
    token = client.page_token("/login")
    response = client.http.post(
        "/login",
        data={"email": "crew@demo.nhs.uk", "password": "p" * 2000, "csrf_token": token},
    )
    assert response.status_code == 422
    assert "p" * 100 not in response.text
    assert_no_trace(response)


def test_the_demo_passwords_are_not_in_any_page(client: Client, crew: Client) -> None:
    for response in (client.get("/login"), crew.get("/"), crew.get("/api/v1/me")):
        for password in DEMO_PASSWORDS.values():
            assert password not in response.text


def test_content_hashed_urls_get_the_same_headers_as_their_files(client: Client) -> None:
    """The immutable, hashed URL of a file (api/static_assets.py) is the same file: an SVG keeps
    every header, a script carries only the subresource ones."""
    assets = client.http.app.state.static_assets  # type: ignore[attr-defined]
    svg = client.get(assets.url("/static/vendor/nhsuk-frontend/assets/images/favicon.svg"))
    assert svg.status_code == 200
    assert_full_set(svg)
    for path in ("/sw/outbox.js", "/static/js/app.js", "/static/css/nhsuk.min.css"):
        response = client.get(assets.url(path))
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        for name in DOCUMENT_ONLY:
            assert name not in response.headers, (path, name)
