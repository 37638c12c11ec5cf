"""Signing in with throttling that slows an attacker without letting one lock a user out, and
self sign-up for the configured email domains."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session

from api.auth.mail import send_mail
from api.auth.users import account_problems, find_by_email, normalise_email
from api.config import Settings
from api.errors import Forbidden, Invalid, TooManyRequests
from api.security import throttle
from api.security.device_cookies import Device
from api.security.passwords import hash_password, password_problem, verify_password
from schemas.accounts import SignupRequest, Team, User
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


#: Sign-up requests per client address and per email address an hour: enough for a person who
#: mistypes, too few to mail-bomb someone or to probe many addresses.
SIGNUP_PER_CLIENT_PER_HOUR = 10
SIGNUP_PER_EMAIL_PER_HOUR = 3
SIGNUP_WINDOW = timedelta(hours=1)

SIGNUP_OFF = "Self sign-up is not available. Ask your administrator for an account."


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_sign_up(
    session: Session,
    settings: Settings,
    *,
    email: str,
    name: str,
    password: str,
    team_id: int | None,
    client: str,
) -> None:
    """Check the form, then email the address: a confirmation link when it has no account, a
    note saying it already has one when it does. The answer to the person at the form is the
    same either way (no account enumeration, ASVS 6.3.2 in spirit); the account exists only once
    the link is followed (:func:`confirm_sign_up`). Throttled per client and per address."""
    if not settings.signup_enabled:
        raise Forbidden(SIGNUP_OFF)
    email = normalise_email(email)
    client_key, email_key = f"signup:client:{client}", f"signup:email:{email}"
    if throttle.count_recent(session, client_key, SIGNUP_WINDOW) >= SIGNUP_PER_CLIENT_PER_HOUR or (
        throttle.count_recent(session, email_key, SIGNUP_WINDOW) >= SIGNUP_PER_EMAIL_PER_HOUR
    ):
        logger.warning("sign-up throttled", extra={"event": "signup_throttled"})
        raise TooManyRequests(
            "Too many requests to create an account. Wait an hour and try again.",
            retry_after=int(SIGNUP_WINDOW.total_seconds()),
        )
    errors = account_problems(
        session, email=email, name=name, password=password, team_id=team_id, email_must_be_new=False
    )
    domain = email.rpartition("@")[2]
    if not any(e.field == "email" for e in errors) and domain not in settings.signup_domains:
        allowed = ", ".join(sorted(settings.signup_domains))
        errors.insert(
            0, FieldError(field="email", message=f"Use an email address ending in {allowed}")
        )
    if errors:
        raise Invalid(errors)
    throttle.record(session, client_key, email_key)
    # Hashed either way, so the time taken does not tell a known address from a new one.
    password_hash = hash_password(password)
    hours = settings.signup_link_hours
    if find_by_email(session, email) is not None:
        send_mail(
            settings,
            email,
            "Your Frontline account",
            "Someone (perhaps you) asked to create a Frontline account with this email address, "
            "but you already have one.\n\n"
            f"Sign in at {settings.public_url.rstrip('/')}/login . If you have forgotten your "
            "password, ask your administrator to reset it.\n\n"
            "If this was not you, you can ignore this email.\n",
        )
        logger.info("sign-up for a known address", extra={"event": "signup_known"})
        return
    token = secrets.token_urlsafe(32)
    session.add(
        SignupRequest(
            token_hash=_token_hash(token),
            email=email,
            name=name.strip(),
            team_id=team_id,
            password_hash=password_hash,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    link = f"{settings.public_url.rstrip('/')}/signup/confirm?token={token}"
    send_mail(
        settings,
        email,
        "Confirm your email address for Frontline",
        "To finish creating your Frontline account, open this link and press the button:\n\n"
        f"{link}\n\n"
        f"The link works once, for {hours} hours. If you did not ask for an account, ignore this "
        "email: nothing is created without the link.\n",
    )
    logger.info("sign-up link sent", extra={"event": "signup_requested"})


def pending_sign_up(session: Session, token: str) -> SignupRequest | None:
    """The request a link names, if it can still be used (not used, not expired)."""
    if not token or len(token) > 200:
        return None
    request = session.get(SignupRequest, _token_hash(token))
    if request is None or request.used_at is not None or request.expires_at <= utcnow():
        return None
    return request


def confirm_sign_up(session: Session, settings: Settings, token: str) -> User | None:
    """Create the account a link confirms, once: the request is marked used in the same
    statement that checks it is unused, so two presses of one link make one account. None when the
    link is unknown, used or expired."""
    if not settings.signup_enabled:
        raise Forbidden(SIGNUP_OFF)
    request = pending_sign_up(session, token)
    if request is None:
        return None
    claimed = session.execute(
        update(SignupRequest)
        .where(
            SignupRequest.token_hash == request.token_hash,  # type: ignore[arg-type]
            SignupRequest.used_at.is_(None),  # type: ignore[union-attr]
        )
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    if find_by_email(session, request.email) is not None:
        raise Invalid(
            [
                FieldError(
                    field="token", message="An account with this email already exists. Sign in."
                )
            ]
        )
    team = session.get(Team, request.team_id) if request.team_id is not None else None
    user = User(
        email=request.email,
        name=request.name,
        password_hash=request.password_hash,
        role=Role.reporter,
        team_id=team.id if team is not None and team.active else None,
    )
    session.add(user)
    session.flush()
    logger.info("sign-up confirmed", extra={"event": "signup_confirmed", "user_id": user.id})
    return user


PASSWORD_CHANGE_FAILURES = 5


def change_password(
    session: Session, settings: Settings, user: User, *, current: str, new: str
) -> None:
    """A signed-in person's own new password (ASVS 6.2.2, 6.2.3): the current one is required, so a
    borrowed session cannot take the account over, and wrong guesses at it are limited like
    sign-ins. Every problem is named by its field. The caller ends the other sessions and rotates
    this one (:func:`api.security.sessions.end_all_sessions_of`)."""
    key = f"account:password:{user.id}"
    window = timedelta(minutes=settings.login_window_minutes)
    if throttle.count_recent(session, key, window) >= PASSWORD_CHANGE_FAILURES:
        raise _throttled(settings, key, settings.login_window_minutes * 60)
    errors: list[FieldError] = []
    if not current:
        errors.append(FieldError(field="current_password", message="Enter your current password"))
    elif not verify_password(user.password_hash, current):
        throttle.record(session, key)
        errors.append(
            FieldError(field="current_password", message="Your current password is not right")
        )
    if not new:
        errors.append(FieldError(field="new_password", message="Enter a new password"))
    elif (problem := password_problem(new, context=(user.name, user.email))) is not None:
        errors.append(FieldError(field="new_password", message=problem))
    elif new == current:
        errors.append(
            FieldError(
                field="new_password", message="Your new password must differ from the current one"
            )
        )
    if errors:
        raise Invalid(errors)
    user.password_hash = hash_password(new)
    session.add(user)
    throttle.forget(session, key)
    logger.info("password changed", extra={"event": "password_changed", "user_id": user.id})
