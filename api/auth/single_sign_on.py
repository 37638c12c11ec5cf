"""Single sign-on with OpenID Connect ("Sign in with NHSmail": Microsoft Entra ID, or any issuer):
Authorization Code with PKCE (S256), state and nonce, through Authlib; the ID token's signature
(the issuer's JWKS), issuer, audience, expiry and nonce checked with joserfc.

The state, nonce and PKCE verifier of a sign-in in progress travel in a short-lived HttpOnly cookie
signed with FRONTLINE_SECRET_KEY, so any app process can finish a sign-in another one began, and a
callback without that cookie (another browser, a replayed link) is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    DecodeError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from sqlmodel import Session

from api.auth.users import find_by_email, normalise_email
from api.config import Settings
from schemas.accounts import User
from schemas.enums import Role

if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session

logger = logging.getLogger("frontline.auth")

SCOPES = "openid email profile"
FLOW_MINUTES = 10  # time allowed between pressing the button and coming back from the issuer
CLOCK_LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10
DISCOVERY_TTL_SECONDS = 3600
# A password hash that argon2 cannot parse: an account made by single sign-on has no password.
NO_PASSWORD = "!single-sign-on"  # noqa: S105 - a marker, not a secret
BUTTON_TEXT = "Sign in with NHSmail"


class SignOnRefused(Exception):
    """A sign-in that must not go ahead. `reason` is a short code for logs; `message` is for people."""

    def __init__(self, reason: str, message: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status


START_AGAIN = "Go back to the sign-in page and press “Sign in with NHSmail” again."
UNTRUSTED = (
    "The answer from NHSmail could not be trusted ({what}), so you have not been signed in. "
    + START_AGAIN
    + " If it keeps happening, tell your IT service desk."
)


# -- the issuer's published configuration ------------------------------------------------------


@dataclass
class _Cached:
    value: dict[str, Any]
    at: float


_cache: dict[str, _Cached] = {}
_cache_lock = threading.Lock()


def _get_json(url: str) -> dict[str, Any]:
    with _cache_lock:
        hit = _cache.get(url)
        if hit is not None and time.monotonic() - hit.at < DISCOVERY_TTL_SECONDS:
            return hit.value
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        value = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SignOnRefused(
            "issuer_unreachable",
            "NHSmail sign-in is not available just now. Try again in a few minutes.",
            status=503,
        ) from exc
    with _cache_lock:
        _cache[url] = _Cached(value, time.monotonic())
    return value


def _forget(url: str) -> None:
    with _cache_lock:
        _cache.pop(url, None)


def discovery(settings: Settings) -> dict[str, Any]:
    issuer = settings.oidc_issuer.rstrip("/")
    document = _get_json(f"{issuer}/.well-known/openid-configuration")
    if document.get("issuer", "").rstrip("/") != issuer:
        raise SignOnRefused(
            "issuer_mismatch",
            "Single sign-on is misconfigured (the issuer does not match). Tell your IT service desk.",
            status=503,
        )
    return document


# -- the flow cookie ---------------------------------------------------------------------------


def flow_cookie_name(settings: Settings) -> str:
    return "__Host-frontline_sso" if settings.is_production else "frontline_sso"


def _sign(settings: Settings, payload: bytes) -> str:
    mac = hmac.new(settings.secret_key.encode(), b"sso-flow|" + payload, hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def seal_flow(settings: Settings, flow: dict[str, Any]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(flow, separators=(",", ":")).encode())
    return f"{payload.decode()}.{_sign(settings, payload)}"


def open_flow(settings: Settings, cookie: str | None) -> dict[str, Any] | None:
    """The flow this browser began, or None when it is missing, forged or too old."""
    if not cookie or "." not in cookie or len(cookie) > 4000:
        return None
    payload, _, signature = cookie.rpartition(".")
    if not hmac.compare_digest(signature, _sign(settings, payload.encode())):
        return None
    try:
        flow = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return None
    if not isinstance(flow, dict) or flow.get("expires", 0) < time.time():
        return None
    return flow


# -- the flow ----------------------------------------------------------------------------------


def _client(settings: Settings, redirect_uri: str) -> OAuth2Session:
    # Imported here: Authlib loads in a third of a second and only a trust with single sign-on
    # configured ever uses it.
    from authlib.integrations.requests_client import OAuth2Session

    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    return OAuth2Session(
        client_id=settings.oidc_client_id,
        client_secret=secret,
        scope=SCOPES,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
    )


def begin(settings: Settings, redirect_uri: str, next_path: str) -> tuple[str, dict[str, Any]]:
    """The issuer's authorisation URL to send the browser to, and the flow to keep in its cookie."""
    document = discovery(settings)
    flow = {
        "state": secrets.token_urlsafe(32),
        "nonce": secrets.token_urlsafe(32),
        "verifier": secrets.token_urlsafe(48),
        "next": next_path,
        "expires": int(time.time()) + FLOW_MINUTES * 60,
    }
    url, _ = _client(settings, redirect_uri).create_authorization_url(
        document["authorization_endpoint"],
        state=flow["state"],
        code_verifier=flow["verifier"],
        nonce=flow["nonce"],
    )
    return url, flow


def finish(
    settings: Settings,
    redirect_uri: str,
    flow: dict[str, Any] | None,
    params: dict[str, str],
) -> dict[str, Any]:
    """The verified ID token claims for this callback, or SignOnRefused saying why not."""
    if flow is None or not hmac.compare_digest(str(flow.get("state", "")), params.get("state", "")):
        raise SignOnRefused(
            "bad_state",
            "This sign-in could not be matched to one started in this browser (it may have "
            f"expired after {FLOW_MINUTES} minutes, or been used already). " + START_AGAIN,
        )
    if params.get("error"):
        code = re.sub(r"[^a-z_]", "", params["error"].lower())[:40] or "error"
        raise SignOnRefused(
            f"issuer_{code}", f"NHSmail did not sign you in ({code}). " + START_AGAIN
        )
    if not params.get("code"):
        raise SignOnRefused("no_code", "NHSmail sent no sign-in code. " + START_AGAIN)
    from authlib.common.errors import AuthlibBaseError

    document = discovery(settings)
    try:
        token = _client(settings, redirect_uri).fetch_token(
            document["token_endpoint"],
            code=params["code"],
            code_verifier=flow["verifier"],
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except AuthlibBaseError as exc:
        raise SignOnRefused(
            "code_refused",
            "NHSmail refused to complete this sign-in (its code was already used or has expired). "
            + START_AGAIN,
        ) from exc
    except requests.RequestException as exc:
        raise SignOnRefused(
            "issuer_unreachable",
            "NHSmail sign-in is not available just now. Try again in a few minutes.",
            status=503,
        ) from exc
    id_token = token.get("id_token")
    if not id_token:
        raise SignOnRefused("no_id_token", UNTRUSTED.format(what="no ID token"))
    return verify_id_token(settings, document, id_token, flow["nonce"])


def verify_id_token(
    settings: Settings, document: dict[str, Any], id_token: str, nonce: str
) -> dict[str, Any]:
    """Signature (the issuer's keys, RS256/ES256 only), then iss, aud, exp, iat, nonce, sub."""
    jwks_uri = document["jwks_uri"]
    algorithms = ["RS256", "ES256"]
    try:
        try:
            token = jwt.decode(id_token, KeySet.import_key_set(_get_json(jwks_uri)), algorithms)
        except (BadSignatureError, ValueError):
            # The issuer may have rotated its keys since we cached them: fetch once more.
            _forget(jwks_uri)
            token = jwt.decode(id_token, KeySet.import_key_set(_get_json(jwks_uri)), algorithms)
    except (BadSignatureError, DecodeError, ValueError, JoseError) as exc:
        raise SignOnRefused("bad_signature", UNTRUSTED.format(what="bad signature")) from exc
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY_SECONDS,
        iss={"essential": True, "value": settings.oidc_issuer.rstrip("/")},
        aud={"essential": True, "value": settings.oidc_client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise SignOnRefused("expired_token", UNTRUSTED.format(what="it has expired")) from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        claim = getattr(exc, "claim", "") or ""
        what = {
            "aud": ("wrong_audience", "it was meant for another application"),
            "nonce": ("wrong_nonce", "it belongs to another sign-in"),
            "iss": ("wrong_issuer", "it came from another issuer"),
        }.get(claim, ("bad_claims", f"the claim {claim or 'of the token'} is wrong"))
        raise SignOnRefused(what[0], UNTRUSTED.format(what=what[1])) from exc
    except JoseError as exc:
        raise SignOnRefused("bad_claims", UNTRUSTED.format(what="a claim is wrong")) from exc
    azp = claims.get("azp")
    if isinstance(claims.get("aud"), list) and azp is not None and azp != settings.oidc_client_id:
        raise SignOnRefused("wrong_audience", UNTRUSTED.format(what="wrong authorised party"))
    return dict(claims)


# -- the account -------------------------------------------------------------------------------


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def account_for(session: Session, settings: Settings, claims: dict[str, Any]) -> User:
    """The Frontline account for these verified claims: the one with this email (an admin may have
    made it, with any role), or a new reporter with no team for an allowed domain."""
    email = normalise_email(str(claims.get("email") or claims.get("preferred_username") or ""))
    if claims.get("email_verified") is False or not EMAIL.match(email) or len(email) > 254:
        raise SignOnRefused(
            "no_email",
            "NHSmail did not tell us a verified email address for you, so you have not been "
            "signed in. Ask your IT service desk.",
            status=403,
        )
    domain = email.rpartition("@")[2]
    if domain not in settings.oidc_domains:
        allowed = ", ".join(sorted(settings.oidc_domains)) or "(none configured)"
        raise SignOnRefused(
            "domain_not_allowed",
            f"Single sign-on is for email addresses ending in {allowed}. The address {email} is "
            "not one of them, so you have not been signed in. Ask your administrator for an account.",
            status=403,
        )
    user = find_by_email(session, email)
    if user is not None:
        if not user.active:
            raise SignOnRefused(
                "account_inactive",
                "Your Frontline account is switched off. Ask your administrator.",
                status=403,
            )
        return user
    name = " ".join(str(claims.get("name") or email.partition("@")[0]).split())[:120]
    user = User(
        email=email,
        name=name or email,
        password_hash=NO_PASSWORD,
        role=Role.reporter,
        team_id=None,
    )
    session.add(user)
    session.flush()
    logger.info(
        "account created by single sign-on",
        extra={"event": "sso_account_created", "user_id": user.id},
    )
    return user
