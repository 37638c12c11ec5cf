"""Security headers on every response, the body size limit and the last-resort 500, as ASGI middleware."""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
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
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Frame-Options"] = "DENY"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
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


class BodySizeLimit:
    """413 for a body over 1 MiB, whether Content-Length says so up front or the stream runs over.

    Sits inside SecurityHeaders so the refusal carries the same headers as every other answer."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await JSONResponse({"detail": TOO_LARGE}, 413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                # FastAPI passes HTTPException through body parsing; our handler answers it as JSON.
                raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counted, send)


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
    """gzip for static files only. Pages and API answers stay uncompressed: they carry the CSRF
    token beside text a visitor can make the page reflect (BREACH)."""

    def __init__(
        self, app: ASGIApp, prefixes: tuple[str, ...] = ("/static/", "/sw/", "/sw.js")
    ) -> None:
        self.app = app
        self.prefixes = prefixes
        self.gzip = GZipMiddleware(app, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
