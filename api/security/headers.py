"""Security headers on every response, the body size limit and the last-resort 500, as ASGI middleware."""

from __future__ import annotations

import gzip
import logging
from collections import OrderedDict
from functools import partial

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import Settings

logger = logging.getLogger("frontline")

# The one Content-Security-Policy: nothing inline, nothing from another host.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


# Content types a browser renders as a document when opened directly (an SVG can run script).
DOCUMENT_TYPES = ("text/html", "image/svg+xml")


def is_subresource(path: str, content_type: str) -> bool:
    """A static file only ever loaded by a page or imported by the worker (CSS, JS, images, fonts,
    the manifest): the document-only headers (CSP, X-Frame-Options, COOP, Permissions-Policy) do
    nothing on it, and ~450 bytes on each of ~25 files is ~10 KB of a first visit on one bar
    (issue #16). A worker's CSP is its own script's answer (/sw.js, which keeps every header);
    the scripts it imports (/sw/*, idb.umd.js) bring none of theirs (HTML: a worker's policy
    container comes from its main script's response)."""
    if content_type.startswith(DOCUMENT_TYPES):
        return False
    return path.startswith(("/static/", "/sw/")) or path == "/manifest.webmanifest"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.hsts = settings.is_production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not is_subresource(scope["path"], headers.get("content-type", "")):
                    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                    headers["X-Frame-Options"] = "DENY"
                    headers["Cross-Origin-Opener-Policy"] = "same-origin"
                    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if self.hsts:
                    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
                content_type = headers.get("content-type", "")
                if "cache-control" not in headers and (
                    content_type.startswith(("text/html", "application/json"))
                ):
                    # Signed-in pages and API data must not sit in shared or disk caches.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


MAX_BODY_BYTES = 1024 * 1024


class WholeBody:
    """Reads the whole request body before the app sees the request; 413 over 1 MiB, 408 when it
    does not arrive within `request_body_timeout_seconds` (then the connection is closed).

    Why here and not in the routes: the app takes a database slot and a connection for every
    request before its handler runs (the session dependency), and a form's CSRF field is in its
    body. Read there, a client that sent a form's headers and half its body held a slot for as long
    as it liked, and 17 of them stopped the service (issue #10). Read here, a slow or stalled
    sender holds only its own socket and buffer: no slot, connection or worker thread (SPEC §9).
    Sits inside SecurityHeaders so the refusals carry the same headers as every other answer."""

    def __init__(self, app: ASGIApp, settings: Settings, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit
        self.timeout = settings.request_body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await _refusal(scope, 413, TOO_LARGE)(scope, receive, send)
            return
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if not chunked and not (declared.isdigit() and int(declared) > 0):
            await self.app(scope, receive, send)  # no body: nothing to wait for
            return

        chunks: list[bytes] = []
        size = 0
        with anyio.move_on_after(self.timeout) as deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # the client left: no one to answer
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.limit:
                    await _refusal(scope, 413, TOO_LARGE)(scope, receive, send)
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            logger.info(
                "request body too slow",
                extra={"event": "request_body_timeout", "path": scope["path"]},
            )
            await _refusal(scope, 408, TOO_SLOW)(scope, receive, send)
            return

        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: only the disconnect is left to hear

        await self.app(scope, replay, send)


def _refusal(scope: Scope, status: int, detail: str) -> Response:
    """A refusal before the app ran, closing the connection (the rest of the body is not read)."""
    headers = {"Connection": "close"}
    if status == 413 or scope["path"].startswith("/api/"):
        return JSONResponse({"detail": detail}, status, headers=headers)
    return PlainTextResponse(detail, status, headers=headers)


TOO_SLOW = "The request took too long to arrive. Check your signal and try again."
TOO_LARGE = "The request body is larger than 1 MiB."


class CatchAll:
    """The last line: an unexpected error becomes a plain 500 (no stack trace, the exception's type
    logged) that still passes through SecurityHeaders."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            logger.error(
                "unexpected error", extra={"event": "server_error", "error": type(exc).__name__}
            )
            if started:
                raise
            if scope["path"].startswith("/api/"):
                response: Response = JSONResponse(
                    {"detail": "Something went wrong. Try again."}, 500
                )
            else:
                response = PlainTextResponse("Sorry, there is a problem with the service.", 500)
            await response(scope, receive, send)


class CompressStatic:
    """gzip for static files always, and for pages and API answers only when the request says it
    comes from this site itself (`Sec-Fetch-Site: same-origin`) or from the user (`none`: a typed
    address, a bookmark, a home-screen launch). BREACH needs the attacker's page to make the
    victim's browser send many requests and read their compressed sizes; such requests are
    `cross-site` (or `same-site` from a sibling subdomain), so they get the page uncompressed.
    A request without the header (an old browser, a script) is not compressed either: the token
    beside reflected text is never compressed for anyone who could be steered from elsewhere.
    See docs/decisions/0009-compression-and-breach.md."""

    SAFE_SITES = (b"same-origin", b"none")
    MINIMUM_SIZE = 1024

    def __init__(
        self, app: ASGIApp, prefixes: tuple[str, ...] = ("/static/", "/sw/", "/sw.js")
    ) -> None:
        self.app = app
        self.prefixes = prefixes
        self.gzip = GZipMiddleware(app, minimum_size=self.MINIMUM_SIZE)
        self.static_gzip = GZipMiddleware(
            CompressedOnce(app, minimum_size=self.MINIMUM_SIZE), minimum_size=self.MINIMUM_SIZE
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(self.prefixes):
            await self.static_gzip(scope, receive, send)
            return

        async def vary(message: Message) -> None:
            # The same URL answers compressed or not by these two headers: caches must key on both.
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                named = {
                    v.strip().lower() for line in headers.getlist("vary") for v in line.split(",")
                }
                for name in ("Accept-Encoding", "Sec-Fetch-Site"):
                    if name.lower() not in named:
                        headers.add_vary_header(name)
            await send(message)

        site = dict(scope["headers"]).get(b"sec-fetch-site", b"").strip().lower()
        if site in self.SAFE_SITES:
            await self.gzip(scope, receive, vary)
        else:
            await self.app(scope, receive, vary)


class CompressedOnce:
    """A static file at its content-hashed URL (an immutable answer with an ETag) gzipped once a
    process, not on every request: the NHS.UK stylesheet took ~10 ms of CPU each time at gzip's
    level 9, more with a page's six requests at once on a busy server, and Lighthouse's simulation
    adds the server's median response time to each request on a page's first-paint path (issue 16,
    docs/performance.md). The same bytes as GZipMiddleware's (level 9, the same minimum size and
    content types), which passes an answer already encoded through; anything else is left to it."""

    #: Compressed bodies kept: every static file a few times over (a deploy adds new hashes).
    KEPT = 512

    def __init__(self, app: ASGIApp, *, minimum_size: int) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compressed: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or "gzip" not in Headers(scope=scope).get("accept-encoding", "")
        ):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def remember(message: Message) -> None:
            nonlocal start
            if start is None and message["type"] == "http.response.start":
                if self._kept_answer(message):
                    start = message
                else:
                    await send(message)
                    return
            elif start is None:
                await send(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._send_compressed(scope, start, b"".join(chunks), send)

        await self.app(scope, receive, remember)

    def _kept_answer(self, start: Message) -> bool:
        headers = Headers(raw=start.get("headers", []))
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        return (
            start["status"] == 200
            and "immutable" in headers.get("cache-control", "")
            and "etag" in headers
            and "content-encoding" not in headers
            and {media_type, media_type.partition("/")[0] + "/*"}.isdisjoint(
                DEFAULT_EXCLUDED_CONTENT_TYPES
            )
        )

    async def _send_compressed(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        if len(body) < self.minimum_size:
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        key = (scope["path"], Headers(raw=start["headers"])["etag"])
        compressed = self.compressed.get(key)
        if compressed is None:
            compressed = await anyio.to_thread.run_sync(partial(gzip.compress, body, 9, mtime=0))
            self.compressed[key] = compressed
            if len(self.compressed) > self.KEPT:
                self.compressed.popitem(last=False)
        else:
            self.compressed.move_to_end(key)
        headers = MutableHeaders(scope=start)
        headers.add_vary_header("Accept-Encoding")
        headers["Content-Encoding"] = "gzip"
        headers["Content-Length"] = str(len(compressed))
        await send(start)
        await send({"type": "http.response.body", "body": compressed})
