"""The reporter's own pages: home, confirmation, my submissions, the outbox shell."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from api.auth.identity import ROLE_RANK, IdentityDep, SignedInUser, is_partner
from api.db import SessionDep
from api.handovers.service import get_handover_for
from api.ideas.service import get_idea_for
from api.reference.mine import my_submissions, notifications_for
from api.templating import render
from api.triage.today import todays_desk
from schemas.accounts import Partner
from schemas.enums import HARM_NEEDING_FORMAL_REPORT, Harm, Role
from schemas.handovers import HandoverRead
from schemas.timestamps import utcnow

router = APIRouter(tags=["pages"], include_in_schema=False)
# Pages that need no session or database: the service worker installs even when the database is down.
public_router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/")
def home(request: Request, identity: IdentityDep, session: SessionDep) -> Response:
    if identity.user is None:
        return RedirectResponse("/login", status_code=303)
    if identity.user.must_change_password:
        return RedirectResponse("/account/new-password", status_code=303)
    if is_partner(identity.user):
        # A partner organisation's user starts at the notes about their organisation.
        return RedirectResponse("/partner", status_code=303)
    is_manager = ROLE_RANK.get(Role(identity.user.role), 0) >= ROLE_RANK[Role.manager]
    today = todays_desk(session) if is_manager else None
    return render(request, "home.html", {"today": today, "now": utcnow()})


@router.get("/submitted/{kind}/{record_id}")
def submitted(
    request: Request,
    kind: Literal["idea", "handover"],
    record_id: uuid.UUID,
    user: SignedInUser,
    session: SessionDep,
    again: bool = False,
) -> Response:
    record = (get_idea_for if kind == "idea" else get_handover_for)(session, user, record_id)
    needs_report = (
        isinstance(record, HandoverRead)
        and record.harm is not None
        and (Harm(record.harm) in HARM_NEEDING_FORMAL_REPORT)
    )
    return render(
        request,
        "submitted.html",
        {"kind": kind, "record": record, "needs_formal_report": needs_report, "replayed": again},
    )


@router.get("/mine")
def mine(request: Request, user: SignedInUser, session: SessionDep) -> Response:
    submissions = my_submissions(session, user)
    partner_names = dict(session.execute(select(Partner.id, Partner.name)).all())  # type: ignore[arg-type]
    return render(
        request,
        "mine.html",
        {
            "ideas": submissions.ideas,
            "handovers": submissions.handovers,
            "feedback": submissions.feedback,
            "partner_names": partner_names,
            "last_updated": utcnow(),
            "notifications": notifications_for(session, user, mark_read=False),
        },
    )


@router.get("/outbox")
def outbox(request: Request, user: SignedInUser) -> Response:
    return render(request, "outbox.html", {})


@public_router.get("/offline")
def offline(request: Request) -> Response:
    """What the service worker shows for a page it has no copy of while the phone is offline."""
    return render(request, "offline.html", {})


@router.post("/mine/notifications/read")
def mark_notifications_read(user: SignedInUser, session: SessionDep) -> Response:
    """A POST, not a side effect of viewing: a GET never changes anything."""
    notifications_for(session, user, mark_read=True)
    return RedirectResponse("/mine", status_code=303)
