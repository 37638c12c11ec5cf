"""Sign-in, sign-out and self sign-up pages."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from api.auth.identity import IdentityDep
from api.auth.service import SIGN_IN_FAILED, authenticate, sign_up
from api.config import Settings, get_settings
from api.db import SessionDep
from api.errors import Invalid
from api.forms import error_context
from api.security.client_address import client_address
from api.security.sessions import (
    clear_session_cookie,
    end_session,
    set_session_cookie,
    start_session,
)
from api.templating import render
from schemas.accounts import Team
from schemas.field_errors import FieldError

router = APIRouter(tags=["pages"], include_in_schema=False)
SettingsDep = Annotated[Settings, Depends(get_settings)]


def safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would let a phishing link borrow our sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


@router.get("/login")
def login_page(
    request: Request, identity: IdentityDep, settings: SettingsDep, next: str = "/"
) -> Response:
    if identity.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(
        request,
        "login.html",
        {
            "form": {},
            "errors": {},
            "error_list": [],
            "next": safe_next(next),
            "signup_allowed": bool(settings.signup_domains),
        },
    )


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    user = authenticate(session, settings, email, password, client_address(request))
    if user is None:
        context = error_context([FieldError(field="email", message=SIGN_IN_FAILED)])
        return render(
            request,
            "login.html",
            {
                "form": {"email": email},
                **context,
                "next": safe_next(next),
                "signup_allowed": bool(settings.signup_domains),
            },
            status_code=422,
        )
    old = request.cookies.get(settings.session_cookie_name)
    if old:
        end_session(session, old)
    # A password an admin set is only for the first sign-in: choose one's own before anything else.
    target = "/account/new-password" if user.must_change_password else safe_next(next)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, start_session(session, user, settings), settings)
    return response


@router.get("/logout")
def logout_page(request: Request, identity: IdentityDep) -> Response:
    if identity.user is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "logout.html", {})


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, identity: IdentityDep, settings: SettingsDep
) -> Response:
    if identity.session_token:
        end_session(session, identity.session_token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, settings)
    return response


def _teams(session: SessionDep) -> list[dict[str, object]]:
    rows = session.execute(select(Team).where(Team.active.is_(True)).order_by(Team.name)).scalars()  # type: ignore[attr-defined]
    return [{"id": t.id, "name": t.name} for t in rows]


@router.get("/signup")
def signup_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    if not settings.signup_domains:
        return RedirectResponse("/login", status_code=303)
    return render(
        request,
        "signup.html",
        {
            "form": {},
            "errors": {},
            "error_list": [],
            "teams": _teams(session),
            "domains": sorted(settings.signup_domains),
        },
    )


@router.post("/signup")
def signup(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    team_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        team = int(team_id) if team_id.strip() else None
        user = sign_up(session, settings, email=email, name=name, password=password, team_id=team)
    except (Invalid, ValueError) as exc:
        errors = (
            exc.errors
            if isinstance(exc, Invalid)
            else [FieldError(field="team_id", message="Select a team from the list")]
        )
        return render(
            request,
            "signup.html",
            {
                "form": {"name": name, "email": email, "team_id": team_id},
                **error_context(errors),
                "teams": _teams(session),
                "domains": sorted(settings.signup_domains),
            },
            status_code=422,
        )
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, start_session(session, user, settings), settings)
    return response
