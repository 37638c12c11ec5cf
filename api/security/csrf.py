"""CSRF protection: a token bound to the session (or, before sign-in, to an anonymous cookie),
and a same-origin check of Origin / Sec-Fetch-Site on every unsafe request (ASVS 3.5)."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request

from api.config import Settings

HEADER = "x-csrf-token"
FORM_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def token_for(binding: str, settings: Settings) -> str:
    """The token pages carry; derived, so nothing more is stored and it changes with the session."""
    mac = hmac.new(settings.secret_key.encode(), f"csrf|{binding}".encode(), hashlib.sha256)
    return mac.hexdigest()


def is_cross_origin(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in {"same-origin", "none"}:
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


async def submitted_token(request: Request) -> str | None:
    header = request.headers.get(HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()  # Starlette caches it, so the route reads the same form
        value = form.get(FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


def tokens_match(submitted: str | None, expected: str) -> bool:
    return submitted is not None and hmac.compare_digest(submitted, expected)
