"""Signing in with throttling that slows an attacker without letting one lock a user out, and
self sign-up for the configured email domains."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session

from api.auth.users import create_user, find_by_email, normalise_email
from api.config import Settings
from api.errors import Forbidden, Invalid, TooManyRequests
from api.security import throttle
from api.security.passwords import verify_password
from schemas.accounts import User
from schemas.enums import Role
from schemas.field_errors import FieldError

logger = logging.getLogger("frontline.auth")

SIGN_IN_FAILED = "Enter a correct email address and password"


def _keys(email: str, client: str) -> tuple[str, str, str]:
    return (f"login:acct-client:{email}|{client}", f"login:client:{client}", f"login:acct:{email}")


def authenticate(
    session: Session, settings: Settings, email: str, password: str, client: str
) -> User | None:
    """The user, or None (the caller says only SIGN_IN_FAILED, never which part was wrong). A failure
    is counted in this request's transaction, so the caller must return normally, not raise.

    Three windows: the same account from the same client (tight), one client across accounts
    (password spraying), and one account from everywhere (loose, so that a stranger elsewhere
    cannot lock a user out of their own account: ASVS 6.3.1)."""
    email = normalise_email(email)
    window = timedelta(minutes=settings.login_window_minutes)
    pair_key, client_key, account_key = _keys(email, client)
    limits = (
        (pair_key, settings.login_max_failures_per_account_client),
        (client_key, settings.login_max_failures_per_client),
        (account_key, settings.login_max_failures_per_account),
    )
    for key, limit in limits:
        if throttle.count_recent(session, key, window) >= limit:
            logger.warning(
                "sign-in throttled", extra={"event": "login_throttled", "scope": key.split(":")[1]}
            )
            raise TooManyRequests(
                f"Too many failed sign-in attempts. Wait {settings.login_window_minutes} minutes "
                "and try again, or ask your administrator to reset your password.",
                retry_after=settings.login_window_minutes * 60,
            )
    user = find_by_email(session, email) if email else None
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        throttle.record(session, pair_key, client_key, account_key)
        logger.info(
            "sign-in failed", extra={"event": "login_failed", "user_id": user.id if user else None}
        )
        return None
    throttle.forget(session, pair_key)
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
