"""Sign-in, sign-out, self sign-up and account (change password) pages."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from api.auth.identity import IdentityDep, SignedInUser
from api.auth.service import (
    SIGN_IN_FAILED,
    authenticate,
    change_password,
    confirm_sign_up,
    pending_sign_up,
    request_sign_up,
)
from api.config import Settings, get_settings
from api.db import SessionDep
from api.errors import Forbidden, Invalid, TooManyRequests
from api.forms import error_context
from api.security.client_address import client_address
from api.security.device_cookies import read_device, remember_device
from api.security.sessions import (
    clear_session_cookie,
    end_all_sessions_of,
    end_session,
    set_session_cookie,
    start_session,
)
from api.templating import render
from schemas.accounts import Team, User
from schemas.field_errors import FieldError

router = APIRouter(tags=["pages"], include_in_schema=False)
PASSWORD_SIGN_IN_OFF = "Password sign-in is switched off here. Use “Sign in with NHSmail”."  # noqa: S105
SettingsDep = Annotated[Settings, Depends(get_settings)]


def sign_in_options(settings: Settings) -> dict[str, object]:
    """What /login offers: the NHSmail button (api/auth/sso_routes.py), the password form, or both."""
    from api.auth.single_sign_on import BUTTON_TEXT

    return {
        "sso_enabled": settings.oidc_enabled,
        "sso_button_text": BUTTON_TEXT,
        "password_sign_in": settings.password_sign_in,
    }


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
            "signup_allowed": settings.signup_enabled,
            **sign_in_options(settings),
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
    if not settings.password_sign_in:
        raise Forbidden(PASSWORD_SIGN_IN_OFF)
    device = read_device(request, settings)
    user = authenticate(session, settings, email, password, client_address(request), device)
    if user is None:
        context = error_context([FieldError(field="email", message=SIGN_IN_FAILED)])
        return render(
            request,
            "login.html",
            {
                "form": {"email": email},
                **context,
                "next": safe_next(next),
                "signup_allowed": settings.signup_enabled,
                **sign_in_options(settings),
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
    assert user.id is not None
    remember_device(response, request, settings, user.id)
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


def _signup_form(
    request: Request,
    session: SessionDep,
    settings: Settings,
    form: dict[str, str],
    errors: list[FieldError],
    status_code: int,
) -> Response:
    return render(
        request,
        "signup.html",
        {
            "form": form,
            **error_context(errors),
            "teams": _teams(session),
            "domains": sorted(settings.signup_domains),
        },
        status_code=status_code,
    )


@router.get("/signup")
def signup_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    if not settings.signup_enabled:
        return RedirectResponse("/login", status_code=303)
    return _signup_form(request, session, settings, {}, [], 200)


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
    """The same answer for an address with an account and one without: an email is on its way."""
    form = {"name": name, "email": email, "team_id": team_id}
    try:
        team = int(team_id) if team_id.strip() else None
    except ValueError:
        errors = [FieldError(field="team_id", message="Select a team from the list")]
        return _signup_form(request, session, settings, form, errors, 422)
    try:
        request_sign_up(
            session,
            settings,
            email=email,
            name=name,
            password=password,
            team_id=team,
            client=client_address(request),
        )
    except Invalid as exc:
        return _signup_form(request, session, settings, form, exc.errors, 422)
    except TooManyRequests as exc:
        errors = [FieldError(field="email", message=str(exc.detail))]
        response = _signup_form(request, session, settings, form, errors, 429)
        response.headers.update(exc.headers)
        return response
    return render(
        request,
        "signup_sent.html",
        {"email": email.strip(), "hours": settings.signup_link_hours},
    )


@router.get("/signup/confirm")
def signup_confirm_page(
    request: Request, session: SessionDep, settings: SettingsDep, token: str = ""
) -> Response:
    """The link in the email opens a page with a button: a GET never creates the account, so a
    mail scanner that follows links cannot use it up."""
    if not settings.signup_enabled:
        return RedirectResponse("/login", status_code=303)
    pending = pending_sign_up(session, token)
    return render(
        request,
        "signup_confirm.html",
        {"token": token if pending else "", "email": pending.email if pending else ""},
        status_code=200 if pending else 410,
    )


@router.post("/signup/confirm")
def signup_confirm(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        user = confirm_sign_up(session, settings, token)
    except Invalid:
        return RedirectResponse("/login", status_code=303)
    if user is None:
        return render(request, "signup_confirm.html", {"token": "", "email": ""}, status_code=410)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, start_session(session, user, settings), settings)
    assert user.id is not None
    remember_device(response, request, settings, user.id)
    return response


def _account_page(
    request: Request,
    session: SessionDep,
    user: User,
    status_code: int = 200,
    **extra: object,
) -> Response:
    team = session.get(Team, user.team_id) if user.team_id is not None else None
    context: dict[str, object] = {
        "errors": {},
        "error_list": [],
        "profile": {"name": user.name, "email": user.email, "role": user.role},
        "team_name": team.name if team is not None else None,
        "changed": False,
        **extra,
    }
    return render(request, "account.html", context, status_code=status_code)


@router.get("/account")
def account_page(
    request: Request, session: SessionDep, user: SignedInUser, changed: str = ""
) -> Response:
    """Every signed-in person's own account: who they are, and changing their password."""
    return _account_page(request, session, user, changed=changed == "1")


@router.post("/account/password")
def account_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Change the password; every other session of this person ends (a phone left signed in
    somewhere, or whoever else knew the old password), and this one gets a new token."""
    try:
        change_password(session, settings, user, current=current_password, new=new_password)
    except Invalid as exc:
        return _account_page(request, session, user, 422, **error_context(exc.errors))
    except TooManyRequests as exc:
        errors = [FieldError(field="current_password", message=str(exc.detail))]
        response = _account_page(request, session, user, 429, **error_context(errors))
        response.headers.update(exc.headers)
        return response
    assert user.id is not None
    end_all_sessions_of(session, user.id)
    response = RedirectResponse("/account?changed=1", status_code=303)
    set_session_cookie(response, start_session(session, user, settings), settings)
    return response
