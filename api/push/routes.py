"""Push over HTTP (SPEC §6): the public key browsers subscribe with, and each signed-in user's own
subscriptions. Include with `dependencies=[Depends(identify)]` like every router (CSRF, session)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from api.auth.identity import SignedInUser
from api.db import SessionDep
from api.errors import error_responses
from api.push import service
from api.push.keys import vapid_keys
from api.sync.guard import limit_writes
from schemas.push import (
    PushSubscriptionIn,
    PushSubscriptionRead,
    PushSubscriptionRemove,
    VapidPublicKey,
)

router = APIRouter(prefix="/api/v1/push", tags=["push"])


@router.get("/vapid-public-key", response_model=VapidPublicKey)
def vapid_public_key(user: SignedInUser) -> VapidPublicKey:
    """The applicationServerKey for PushManager.subscribe() (base64url, uncompressed P-256)."""
    return VapidPublicKey(public_key=vapid_keys().public_key)


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=PushSubscriptionRead,
    responses={
        200: {"description": "This browser was already subscribed (now for the caller)"},
        **error_responses(403, 413, 429),
    },
)
def subscribe(
    body: PushSubscriptionIn,
    user: SignedInUser,
    session: SessionDep,
    response: Response,
    user_agent: Annotated[str, Header(include_in_schema=False)] = "",
) -> PushSubscriptionRead:
    """Turn notifications on for this browser: its PushSubscription JSON, as the browser gives it."""
    limit_writes(user)
    device = service.device_label(user_agent)
    result = service.subscribe(session, user.id, body, device=device)  # type: ignore[arg-type]
    if not result.created:
        response.status_code = 200
    return result.subscription


@router.delete(
    "/subscriptions",
    status_code=204,
    response_class=Response,
    responses=error_responses(403, 413),
)
def unsubscribe(body: PushSubscriptionRemove, user: SignedInUser, session: SessionDep) -> Response:
    """Turn notifications off for this browser (only the caller's own; 204 either way)."""
    service.unsubscribe(session, user.id, body.endpoint)  # type: ignore[arg-type]
    return Response(status_code=204)
