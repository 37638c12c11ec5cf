"""Who is asking: the session behind the cookie, the CSRF check of every unsafe request, and the
shorthand dependencies routes use.

The role model (SPEC §2): the trust's staff are ranked (reporter < manager < admin), each rank doing
all the one below can. A partner organisation's user is not staff and has no rank: `CurrentUser`
(and every `require_role`) refuses them with 403, so a staff route, including one added later,
excludes partners by default. The few routes a partner may use say so with `SignedInUser` (anyone
signed in) or `PartnerUser` (partners only); tests/api/test_partner_walls.py sweeps every route."""

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

# Staff ranks only: Role.partner is deliberately absent (see the module docstring).
ROLE_RANK = {Role.reporter: 0, Role.manager: 1, Role.admin: 2}
STAFF_ROLES = frozenset(ROLE_RANK)


def is_staff(user: User) -> bool:
    return user.role in STAFF_ROLES


def is_partner(user: User) -> bool:
    return user.role == Role.partner


def is_manager(user: User) -> bool:
    """A manager or an admin: sees every record, not only their own."""
    return is_staff(user) and ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.manager]


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


async def submitted_csrf(request: Request) -> str | None:
    # Async only to read the form body; the database work below stays off the event loop.
    if request.method in SAFE_METHODS:
        return None
    return await csrf.submitted_token(request)


def identify(
    request: Request,
    # Before the session: FastAPI resolves dependencies in this order, and the session takes a
    # database slot. The token is read from a body already in memory (security/headers.py's
    # WholeBody), so no slot waits on a client.
    submitted_csrf: Annotated[str | None, Depends(submitted_csrf)],
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


def signed_in(identity: Identity) -> User:
    """The rule of `SignedInUser`: anyone signed in, a partner organisation's user included."""
    if identity.user is None:
        raise NotSignedIn()
    if identity.user.must_change_password:
        # Pages redirect to /account/new-password (api/auth/new_password.py); the API answers 403.
        raise MustChoosePassword()
    return identity.user


def staff(user: User) -> User:
    """The rule of `CurrentUser`: a member of the trust's staff; a partner's user is refused."""
    if not is_staff(user):
        raise Forbidden()
    return user


# The role checks are async on purpose: they only read what identify found, and FastAPI runs a
# plain `def` dependency on the thread pool, a hand-over that cost more than the check itself.
# The one-hop write routes (api/one_hop.py) call the same rules, signed_in and staff, directly.
async def signed_in_user(identity: IdentityDep) -> User:
    """Anyone signed in, a partner organisation's user included."""
    return signed_in(identity)


def ranks_at_least(user: User, minimum: Role) -> bool:
    """The role check of require_role, for decisions inside a page (a role not ranked is below all)."""
    return ROLE_RANK.get(Role(user.role), -1) >= ROLE_RANK[minimum]


async def current_user(user: Annotated[User, Depends(signed_in_user)]) -> User:
    """A signed-in member of the trust's staff; a partner organisation's user gets 403."""
    return staff(user)


async def partner_user(user: Annotated[User, Depends(signed_in_user)]) -> User:
    """A partner organisation's user (tied to one organisation); staff get 403."""
    if not is_partner(user) or user.partner_id is None:
        raise Forbidden()
    return user


def require_role(minimum: Role) -> Any:
    async def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not ranks_at_least(user, minimum):
            raise Forbidden()
        return user

    return check


SignedInUser = Annotated[User, Depends(signed_in_user)]
CurrentUser = Annotated[User, Depends(current_user)]
# Any member of the trust's staff (reporter and up): a role ranked below reporter, or left out of
# ROLE_RANK, is refused here.
StaffUser = Annotated[User, Depends(require_role(Role.reporter))]
PartnerUser = Annotated[User, Depends(partner_user)]
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
        "is_manager": bool(user and is_manager(user)),
        "is_partner": bool(user and is_partner(user)),
        "is_admin": bool(user and Role(user.role) is Role.admin),
        # The trust's own staff (not a partner organisation's users): the improvement-system pages.
        "is_staff": bool(user and ranks_at_least(user, Role.reporter)),
        "settings": get_settings(),
    }
