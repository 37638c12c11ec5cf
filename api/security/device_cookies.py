"""Device cookies (OWASP "Slow down online guessing attacks with device cookies"): a browser where
an account has signed in before carries a signed cookie naming that account, so the account-wide
sign-in delay that slows a distributed attacker never stands in its owner's way.

The cookie is ``<user id>.<random>.<HMAC-SHA256 of both under FRONTLINE_SECRET_KEY>``: it can be
neither forged nor moved to another account, and it is only a hint for throttling (it signs no one
in). Its random part names the device in the throttle, so failures from a stolen cookie are
limited on their own key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from api.config import Settings

MAX_AGE_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class Device:
    user_id: int
    nonce: str


def _cookie_name(settings: Settings) -> str:
    return "__Host-frontline_device" if settings.is_production else "frontline_device"


def _signature(settings: Settings, user_id: int, nonce: str) -> str:
    message = f"device:{user_id}.{nonce}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def read_device(request: Request, settings: Settings) -> Device | None:
    """The device this browser proved it is, or None (no cookie, or a forged or damaged one)."""
    raw = request.cookies.get(_cookie_name(settings), "")
    parts = raw.split(".")
    if len(parts) != 3 or not parts[0].isascii() or not parts[0].isdigit() or len(parts[0]) > 10:
        return None
    user_id, nonce, signature = int(parts[0]), parts[1], parts[2]
    if not hmac.compare_digest(signature, _signature(settings, user_id, nonce)):
        return None
    return Device(user_id=user_id, nonce=nonce)


def remember_device(response: Response, request: Request, settings: Settings, user_id: int) -> None:
    """After a correct password: this browser is one the account's owner uses (kept if it is
    already this account's, so its failures stay counted under one key)."""
    known = read_device(request, settings)
    nonce = known.nonce if known is not None and known.user_id == user_id else None
    nonce = nonce or secrets.token_urlsafe(18)
    response.set_cookie(
        _cookie_name(settings),
        f"{user_id}.{nonce}.{_signature(settings, user_id, nonce)}",
        max_age=MAX_AGE_SECONDS,
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )
