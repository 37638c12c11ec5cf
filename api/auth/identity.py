"""Who is asking: the session behind the cookie, the CSRF check of every unsafe request, and the
shorthand dependencies routes use (CurrentUser, ManagerUser, AdminUser)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from api.config import get_settings
from api.db import SAFE_METHODS, SessionDep
from api.errors import CsrfRefused, Forbidden, MustChoosePassword, NotSignedIn
from api.security import csrf
from api.security.sessions import find_session, session_token
from schemas.accounts import User
from schemas.enums import Role

ROLE_RANK = {Role.reporter: 0, Role.manager: 1, Role.admin: 2}


@dataclass
class Identity:
    user: User | None
    session_token: str | None
    csrf_token: str


def _anon_binding(request: Request) -> str:
    settings = get_settings()
    value = request.cookies.get(settings.anon_cookie_name)
    if not value or len(value) > 64:
        value = secrets.token_urlsafe(24)
        request.state.new_anon_cookie = value
    return value


def set_anon_cookie(response: Response, value: str) -> None:
    settings = get_settings()
    response.set_cookie(
        settings.anon_cookie_name,
        value,
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )


async def _submitted_csrf(request: Request) -> str | None:
    # Async only to read the form body; the database work below stays off the event loop.
    if request.method in SAFE_METHODS:
        return None
    return await csrf.submitted_token(request)


def identify(
    request: Request,
    # Before the session: FastAPI resolves dependencies in this order, and the session takes a
    # database slot. The token is read from a body already in memory (security/headers.py's
    # WholeBody), so no slot waits on a client.
    submitted_csrf: Annotated[str | None, Depends(_submitted_csrf)],
    session: SessionDep,
) -> Identity:
    """Runs for every route: resolves the user and refuses unsafe requests without a valid token."""
    settings = get_settings()
    token = session_token(request, settings)
    active = find_session(session, token, settings) if token else None
    binding = active.token if active else _anon_binding(request)
    identity = Identity(
        user=active.user if active else None,
        session_token=active.token if active else None,
        csrf_token=csrf.token_for(binding, settings),
    )
    request.state.identity = identity
    if request.method not in SAFE_METHODS:
        if csrf.is_cross_origin(request):
            raise CsrfRefused("Cross-site requests are refused.")
        # Without a session an API call is simply unauthenticated (401), so the phone's queue
        # pauses and asks for sign-in rather than treating it as a forged request.
        if active is None and request.url.path.startswith("/api/"):
            raise NotSignedIn()
        if not csrf.tokens_match(submitted_csrf, identity.csrf_token):
            raise CsrfRefused()
    return identity


IdentityDep = Annotated[Identity, Depends(identify)]


# The role checks are async on purpose: they only read what identify found, and FastAPI runs a
# plain `def` dependency on the thread pool, a hand-over that cost more than the check itself.
async def current_user(identity: IdentityDep) -> User:
    if identity.user is None:
        raise NotSignedIn()
    if identity.user.must_change_password:
        # Pages redirect to /account/new-password (api/auth/new_password.py); the API answers 403.
        raise MustChoosePassword()
    return identity.user


def ranks_at_least(user: User, minimum: Role) -> bool:
    """The role check of require_role, for decisions inside a page (a role not ranked is below all)."""
    return ROLE_RANK.get(Role(user.role), -1) >= ROLE_RANK[minimum]


def require_role(minimum: Role) -> Any:
    async def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not ranks_at_least(user, minimum):
            raise Forbidden()
        return user

    return check


CurrentUser = Annotated[User, Depends(current_user)]
# Any member of the trust's staff (reporter and up): a role ranked below reporter, or left out of
# ROLE_RANK, is refused here.
StaffUser = Annotated[User, Depends(require_role(Role.reporter))]
ManagerUser = Annotated[User, Depends(require_role(Role.manager))]
AdminUser = Annotated[User, Depends(require_role(Role.admin))]


def page_context(request: Request) -> dict[str, Any]:
    identity: Identity | None = getattr(request.state, "identity", None)
    if identity is None:
        # Error pages raised before identify ran still need a token for the sign-out form.
        identity = Identity(user=None, session_token=None, csrf_token="")
    user = identity.user
    return {
        "current_user": user,
        "csrf_token": identity.csrf_token,
        "is_manager": bool(user and ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.manager]),
        "is_admin": bool(user and Role(user.role) is Role.admin),
        # The trust's own staff (not a partner organisation's users): the improvement-system pages.
        "is_staff": bool(user and ranks_at_least(user, Role.reporter)),
        "settings": get_settings(),
    }
