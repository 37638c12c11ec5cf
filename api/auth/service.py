"""Signing in with throttling that slows an attacker without letting one lock a user out, and
self sign-up for the configured email domains."""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from sqlmodel import Session

from api.auth.users import create_user, find_by_email, normalise_email
from api.config import Settings
from api.errors import Forbidden, Invalid, TooManyRequests
from api.security import throttle
from api.security.device_cookies import Device
from api.security.passwords import verify_password
from schemas.accounts import User
from schemas.enums import Role
from schemas.field_errors import FieldError
from schemas.timestamps import utcnow

logger = logging.getLogger("frontline.auth")

SIGN_IN_FAILED = "Enter a correct email address and password"

#: The first wait once an account's allowance of failures from unrecognised browsers is used up;
#: it doubles with each further failure (docs/security.md).
LOGIN_DELAY_BASE_SECONDS = 30


def _keys(email: str, client: str) -> tuple[str, str, str]:
    return (f"login:acct-client:{email}|{client}", f"login:client:{client}", f"login:acct:{email}")


def _device_key(device: Device) -> str:
    return f"login:device:{device.nonce}"


def account_delay_seconds(settings: Settings, failures: int) -> int:
    """How long an unrecognised browser must wait after the last failure on an account with this
    many recent failures: nothing up to the allowance, then LOGIN_DELAY_BASE_SECONDS doubling with
    each further failure, never more than the sign-in window."""
    over = failures - settings.login_max_failures_per_account
    if over < 0:
        return 0
    cap = settings.login_window_minutes * 60
    return min(cap, LOGIN_DELAY_BASE_SECONDS * 2 ** min(over, 20))


def _throttled(settings: Settings, key: str, retry_after: int) -> TooManyRequests:
    logger.warning(
        "sign-in throttled", extra={"event": "login_throttled", "scope": key.split(":")[1]}
    )
    minutes = max(1, math.ceil(retry_after / 60))
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return TooManyRequests(
        f"Too many failed sign-in attempts. Wait {wait} and try again, "
        "or ask your administrator to reset your password.",
        retry_after=retry_after,
    )


def authenticate(
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    client: str,
    device: Device | None = None,
) -> User | None:
    """The user, or None (the caller says only SIGN_IN_FAILED, never which part was wrong). A failure
    is counted in this request's transaction, so the caller must return normally, not raise.

    Limits, all counted in the database (ASVS 6.1.1, 6.3.1; docs/security.md says why):
    * one client across accounts (password spraying), from any browser;
    * a browser where this account signed in before (its device cookie): its own failures only,
      so no one elsewhere can stop the owner signing in from their own phone;
    * any other browser: the same account from the same client (tight), and the account from all
      unrecognised browsers together, which slows down (a growing wait, 429 with Retry-After)
      rather than stopping: a distributed attacker gets a few guesses an hour, not a lockout."""
    email = normalise_email(email)
    window = timedelta(minutes=settings.login_window_minutes)
    pair_key, client_key, account_key = _keys(email, client)
    user = find_by_email(session, email) if email else None
    trusted = device is not None and user is not None and device.user_id == user.id
    if throttle.count_recent(session, client_key, window) >= settings.login_max_failures_per_client:
        raise _throttled(settings, client_key, settings.login_window_minutes * 60)
    if trusted:
        assert device is not None
        keys: tuple[str, ...] = (_device_key(device), client_key)
        if (
            throttle.count_recent(session, keys[0], window)
            >= settings.login_max_failures_per_account_client
        ):
            raise _throttled(settings, keys[0], settings.login_window_minutes * 60)
    else:
        keys = (pair_key, client_key, account_key)
        pair_limit = settings.login_max_failures_per_account_client
        if throttle.count_recent(session, pair_key, window) >= pair_limit:
            raise _throttled(settings, pair_key, settings.login_window_minutes * 60)
        failures, last = throttle.count_and_last(
            session, account_key, timedelta(hours=settings.login_account_window_hours)
        )
        delay = account_delay_seconds(settings, failures)
        if delay and last is not None:
            remaining = (last + timedelta(seconds=delay) - utcnow()).total_seconds()
            if remaining > 0:
                raise _throttled(settings, account_key, math.ceil(remaining))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        throttle.record(session, *keys)
        logger.info(
            "sign-in failed",
            extra={
                "event": "login_failed",
                "user_id": user.id if user else None,
                "known_device": trusted,
            },
        )
        return None
    throttle.forget(session, pair_key)
    if trusted:
        assert device is not None
        throttle.forget(session, _device_key(device))
    logger.info("signed in", extra={"event": "login", "user_id": user.id})
    return user


def sign_up(
    session: Session,
    settings: Settings,
    *,
    email: str,
    name: str,
    password: str,
    team_id: int | None,
) -> User:
    domain = normalise_email(email).rpartition("@")[2]
    if not settings.signup_domains:
        raise Forbidden("Self sign-up is not available. Ask your administrator for an account.")
    if domain not in settings.signup_domains:
        allowed = ", ".join(sorted(settings.signup_domains))
        raise Invalid(
            [FieldError(field="email", message=f"Use an email address ending in {allowed}")]
        )
    return create_user(
        session, email=email, name=name, password=password, role=Role.reporter, team_id=team_id
    )
