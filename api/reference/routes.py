"""Reference data, the caller's identity and submissions, and the health check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from api.auth.identity import IdentityDep, SignedInUser, is_partner
from api.db import SessionDep, get_engine
from api.partnership.service import organisation_ids
from api.reference.mine import MySubmissions, my_submissions, notifications_for
from api.reference.service import reference_data
from schemas.audit import NotificationRead

router = APIRouter(tags=["reference"])
# Routes that must answer without a session or a database round trip of their own (load balancers).
public_router = APIRouter()


@router.get("/api/v1/reference")
def reference(user: SignedInUser, session: SessionDep) -> dict[str, Any]:
    """What the forms need, also offline: teams, partners, aims and the enums of SPEC §3."""
    data = reference_data(session)
    if is_partner(user) and user.partner_id is not None:
        # A partner organisation's user is shown no other partner organisation (SPEC §2).
        own = set(organisation_ids(session, user.partner_id))
        data = {**data, "partners": [p for p in data["partners"] if p["id"] in own]}
    return data


class Me(BaseModel):
    id: int
    email: str
    name: str
    role: str
    team_id: int | None
    csrf_token: str


@router.get("/api/v1/me", response_model=Me)
def me(identity: IdentityDep, user: SignedInUser) -> Me:
    """Who is signed in, with a fresh CSRF token for the service worker to send with."""
    return Me(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,  # type: ignore[arg-type]
        team_id=user.team_id,
        csrf_token=identity.csrf_token,
    )


@router.get("/api/v1/me/submissions", response_model=MySubmissions)
def me_submissions(user: SignedInUser, session: SessionDep) -> MySubmissions:
    return my_submissions(session, user)


@router.get("/api/v1/me/notifications", response_model=list[NotificationRead])
def me_notifications(user: SignedInUser, session: SessionDep) -> list[NotificationRead]:
    """The latest updates about the caller's own submissions (reading them does not mark them read)."""
    return notifications_for(session, user, mark_read=False)


# What /healthz asks: PostgreSQL also says whether it would refuse writes (a standby after a
# failover, or default_transaction_read_only), in the same round trip.
_HEALTH_PROBES = {"postgresql": "SELECT current_setting('transaction_read_only') = 'off'"}


@public_router.get("/healthz", include_in_schema=False)
def healthz() -> JSONResponse:
    """200 when the database answers and takes writes, 503 otherwise (never the error's text). A
    full disk or a read-only SQLite file shows only on a write: sync answers those with 503."""
    try:
        with get_engine().connect() as connection:
            probe = _HEALTH_PROBES.get(connection.dialect.name, "SELECT 1")
            writable = bool(connection.execute(text(probe)).scalar())
    except Exception:
        writable = False
    if not writable:
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})
