"""The two single sign-on pages: the "Sign in with NHSmail" button's target, and the issuer's
callback. The session is made exactly as password sign-in makes it (api/security/sessions.py)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import single_sign_on as sso
from api.auth.identity import IdentityDep
from api.auth.routes import safe_next
from api.config import Settings, get_settings
from api.db import SessionDep
from api.security.sessions import end_session, set_session_cookie, start_session
from api.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)
SettingsDep = Annotated[Settings, Depends(get_settings)]
logger = logging.getLogger("frontline.auth")

CALLBACK = "sso_callback"


def _refused(request: Request, settings: Settings, refusal: sso.SignOnRefused) -> Response:
    logger.info(
        "single sign-on refused",
        extra={"event": "login_refused", "scope": "oidc", "error": refusal.reason},
    )
    response = render(
        request,
        "sso_refused.html",
        {"message": refusal.message, "reason": refusal.reason},
        status_code=refusal.status,
    )
    response.delete_cookie(
        sso.flow_cookie_name(settings), path="/", secure=settings.is_production, httponly=True
    )
    return response


@router.get("/login/nhsmail")
def sso_start(
    request: Request, identity: IdentityDep, settings: SettingsDep, next: str = "/"
) -> Response:
    """Send the browser to the issuer, with a fresh state, nonce and PKCE verifier in its cookie."""
    if not settings.oidc_enabled:
        return RedirectResponse("/login", status_code=303)
    if identity.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    try:
        url, flow = sso.begin(settings, str(request.url_for(CALLBACK)), safe_next(next))
    except sso.SignOnRefused as refusal:
        return _refused(request, settings, refusal)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        sso.flow_cookie_name(settings),
        sso.seal_flow(settings, flow),
        max_age=sso.FLOW_MINUTES * 60,
        path="/",
        secure=settings.is_production,
        httponly=True,
        # Lax: the issuer sends the browser back with a top-level GET, which carries Lax cookies.
        samesite="lax",
    )
    return response


@router.get("/login/nhsmail/callback", name=CALLBACK)
def sso_callback(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Check everything the issuer sent, then sign in as password sign-in does."""
    if not settings.oidc_enabled:
        return RedirectResponse("/login", status_code=303)
    flow = sso.open_flow(settings, request.cookies.get(sso.flow_cookie_name(settings)))
    params = {k: v for k, v in request.query_params.items() if k in {"state", "code", "error"}}
    try:
        claims = sso.finish(settings, str(request.url_for(CALLBACK)), flow, params)
        user = sso.account_for(session, settings, claims)
    except sso.SignOnRefused as refusal:
        return _refused(request, settings, refusal)
    old = request.cookies.get(settings.session_cookie_name)
    if old:
        end_session(session, old)
    assert flow is not None  # finish() refuses a callback without one
    response = RedirectResponse(safe_next(flow.get("next")), status_code=303)
    set_session_cookie(response, start_session(session, user, settings), settings)
    # One flow, one use: the cookie goes, so the same callback URL cannot be replayed here.
    response.delete_cookie(
        sso.flow_cookie_name(settings), path="/", secure=settings.is_production, httponly=True
    )
    logger.info("signed in", extra={"event": "login", "scope": "oidc", "user_id": user.id})
    return response
