"""Compression and BREACH (decision 0009): pages and API answers are gzipped only for requests the
browser marks as coming from this site (`Sec-Fetch-Site: same-origin`) or from the user (`none`);
cross-site, same-site and unmarked requests, the only kind an attacker's page can make, get them
uncompressed. Static files are gzipped for everyone, as before."""

from __future__ import annotations

import gzip
import re
from typing import Any

import pytest

from tests.conftest import Client

CSRF_META = re.compile(r'<meta\s+name="csrf-token"\s+content="([^"]+)"')
# Each capture form carries a fresh record id: the one part of two fetches that differs.
FRESH_ID = re.compile(rb'name="id" value="[^"]*"')
SAFE = ["same-origin", "none"]
UNSAFE = ["cross-site", "same-site", None]


def fetch(who: Client, path: str, site: str | None) -> Any:
    headers = {"Accept-Encoding": "gzip"}
    if site is not None:
        headers["Sec-Fetch-Site"] = site
    return who.get(path, headers=headers)


def raw(who: Client, path: str, site: str | None) -> tuple[Any, bytes]:
    """The answer and its body exactly as sent on the wire (not decoded by the client)."""
    headers = {"Accept-Encoding": "gzip"}
    if site is not None:
        headers["Sec-Fetch-Site"] = site
    with who.http.stream("GET", path, headers=headers) as response:
        body = b"".join(response.iter_raw())
    return response, body


def vary(response: Any) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",") if v.strip()}


@pytest.mark.parametrize("site", SAFE)
@pytest.mark.parametrize("path", ["/handovers/new", "/ideas/new", "/"])
def test_a_page_from_this_site_or_the_user_is_gzipped_and_decodes_to_the_same_page(
    crew: Client, path: str, site: str
) -> None:
    response, body = raw(crew, path, site)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    page = gzip.decompress(body)
    assert len(body) < len(page) / 2
    plain = fetch(crew, path, "cross-site")
    assert "content-encoding" not in plain.headers
    assert FRESH_ID.sub(b"", page) == FRESH_ID.sub(b"", plain.content)
    assert CSRF_META.search(page.decode())
    assert {"accept-encoding", "sec-fetch-site"} <= vary(response)


@pytest.mark.parametrize("site", UNSAFE)
@pytest.mark.parametrize("path", ["/handovers/new", "/ideas/new", "/"])
def test_a_page_asked_for_from_elsewhere_or_unmarked_is_not_compressed(
    crew: Client, path: str, site: str | None
) -> None:
    response, body = raw(crew, path, site)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert body.lstrip().lower().startswith(b"<!doctype html")
    assert CSRF_META.search(body.decode())
    assert {"accept-encoding", "sec-fetch-site"} <= vary(response)


@pytest.mark.parametrize("site", [*SAFE, *UNSAFE])
def test_the_sign_in_page_and_its_csrf_token_obey_the_rule(
    client: Client, site: str | None
) -> None:
    response, body = raw(client, "/login", site)
    assert response.status_code == 200
    if site in SAFE:
        assert response.headers["content-encoding"] == "gzip"
        body = gzip.decompress(body)
    else:
        assert "content-encoding" not in response.headers
    assert CSRF_META.search(body.decode()), "the token is on the page either way"


@pytest.mark.parametrize("site", [*SAFE, *UNSAFE])
def test_a_json_api_answer_obeys_the_rule(crew: Client, site: str | None) -> None:
    response, body = raw(crew, "/api/v1/reference", site)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert len(body) >= 1024 or site in SAFE
    if site in SAFE:
        assert response.headers["content-encoding"] == "gzip"
        body = gzip.decompress(body)
    else:
        assert "content-encoding" not in response.headers
    assert body == fetch(crew, "/api/v1/reference", "cross-site").content


def test_the_csrf_token_in_json_is_never_compressed_for_another_site(crew: Client) -> None:
    """`/api/v1/me` names the token; under 1 KB it is not worth compressing for anyone, and from
    another site it would not be compressed whatever its size."""
    for site in UNSAFE:
        response, body = raw(crew, "/api/v1/me", site)
        assert "content-encoding" not in response.headers
        assert crew.csrf.encode() in body


def test_a_small_answer_is_not_compressed_even_from_this_site(crew: Client) -> None:
    response, body = raw(crew, "/api/v1/me", "same-origin")
    assert len(body) < 1024
    assert "content-encoding" not in response.headers


def test_no_compression_without_accept_encoding(crew: Client) -> None:
    with crew.http.stream(
        "GET", "/handovers/new", headers={"Accept-Encoding": "identity", "Sec-Fetch-Site": "none"}
    ) as response:
        body = b"".join(response.iter_raw())
    assert "content-encoding" not in response.headers
    assert CSRF_META.search(body.decode())


@pytest.mark.parametrize("site", [*SAFE, *UNSAFE])
def test_static_files_are_gzipped_for_everyone(client: Client, site: str | None) -> None:
    for path in ("/static/css/app.css", "/sw.js"):
        response, body = raw(client, path, site)
        assert response.status_code == 200
        if len(body) >= 1024 or response.headers.get("content-encoding"):
            assert response.headers["content-encoding"] == "gzip", path
            gzip.decompress(body)


def test_a_hashed_static_file_is_sent_gzipped_with_its_headers_to_everyone(client: Client) -> None:
    page = client.get("/login").text
    css = re.search(r'href="(/static/css/nhsuk\.min\.[0-9a-f]{10}\.css)"', page)
    assert css
    plain = client.http.get(css[1], headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    answers = [raw(client, css[1], site) for site in ("same-origin", None, "cross-site")]
    for response, body in answers:
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["content-length"] == str(len(body))
        assert "accept-encoding" in vary(response)
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert gzip.decompress(body) == plain.content
    assert len({body for _, body in answers}) == 1


def test_a_hashed_static_answer_is_compressed_once_not_on_every_request() -> None:
    """Issue 16: gzip at level 9 for each request of the 250 KB NHS.UK stylesheet was ~10 ms of
    the server's time on a page's first-paint path. An immutable answer with an ETag names one
    content, so its compressed bytes are kept: here the files behind the URL answer differently
    the second time (which a hashed URL never does), and the first compression is sent again."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.testclient import TestClient

    from api.security.headers import CompressStatic

    bodies = iter([b"first " * 500, b"second " * 500, b"third " * 500])
    hashed = {"Cache-Control": "public, max-age=31536000, immutable", "ETag": '"0123456789"'}

    async def files(scope: Any, receive: Any, send: Any) -> None:
        plain = scope["path"].endswith(".css")  # the plain URL: revalidated, no ETag kept
        headers = {"Cache-Control": "no-cache"} if plain else hashed
        await Response(next(bodies), media_type="text/css", headers=headers)(scope, receive, send)

    app = Starlette()
    app.mount("/static", files)
    with TestClient(CompressStatic(app)) as http:
        first = http.get("/static/app.0123456789.cs", headers={"Accept-Encoding": "gzip"})
        again = http.get("/static/app.0123456789.cs", headers={"Accept-Encoding": "gzip"})
        revalidated = http.get("/static/app.css", headers={"Accept-Encoding": "gzip"})
    assert first.content == again.content == b"first " * 500
    assert first.headers["content-encoding"] == again.headers["content-encoding"] == "gzip"
    assert revalidated.content == b"third " * 500  # anything else is compressed as it comes
