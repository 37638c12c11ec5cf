"""Choosing one's own password at first sign-in (`/account/new-password`): an account an admin
created, or whose password an admin reset, has `must_change_password` set, and every other page
and API call sends it here (api/auth/identity.py current_user) until the person has chosen one.

Kept apart from the signed-in user's own "change password" page (`/account`): this one asks only
for the new password (they signed in with the admin's a moment ago) and is the one page such an
account may open."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth.identity import IdentityDep
from api.config import Settings, get_settings
from api.db import SessionDep
from api.errors import NotSignedIn
from api.forms import error_context
from api.security.passwords import hash_password, password_problem, verify_password
from api.security.sessions import end_all_sessions_of, set_session_cookie, start_session
from api.templating import render
from schemas.field_errors import FieldError

router = APIRouter(tags=["pages"], include_in_schema=False)
Password = Annotated[str, Form(max_length=1024)]


@router.get("/account/new-password")
def new_password_page(request: Request, identity: IdentityDep) -> Response:
    if identity.user is None:
        raise NotSignedIn()
    if not identity.user.must_change_password:
        return RedirectResponse("/", status_code=303)
    return render(request, "new_password.html", {"errors": {}, "error_list": []})


@router.post("/account/new-password")
def choose_password(
    request: Request,
    identity: IdentityDep,
    session: SessionDep,
    settings: Annotated[Settings, Depends(get_settings)],
    password: Password = "",
    confirm_password: Password = "",
) -> Response:
    user = identity.user
    if user is None:
        raise NotSignedIn()
    if not user.must_change_password:
        return RedirectResponse("/", status_code=303)
    errors: list[FieldError] = []
    if problem := password_problem(password):
        errors.append(FieldError(field="password", message=problem))
    elif verify_password(user.password_hash, password):
        errors.append(
            FieldError(
                field="password",
                message="Choose a password of your own, not the one you were given",
            )
        )
    elif password != confirm_password:
        errors.append(FieldError(field="confirm_password", message="Enter the same password twice"))
    if errors:
        return render(request, "new_password.html", error_context(errors), status_code=422)
    user.password_hash = hash_password(password)
    user.must_change_password = False
    session.add(user)
    # A new credential: every other session of theirs ends and this one gets a fresh token.
    end_all_sessions_of(session, user.id)  # type: ignore[arg-type]
    response = RedirectResponse("/?done=password", status_code=303)
    set_session_cookie(response, start_session(session, user, settings), settings)
    return response
