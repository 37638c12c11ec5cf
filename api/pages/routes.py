"""The reporter's own pages: home, confirmation, my submissions, the outbox shell."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth.identity import ROLE_RANK, IdentityDep, SignedInUser, is_partner
from api.db import SessionDep
from api.errors import Invalid
from api.forms import error_context
from api.handovers.service import get_handover_for
from api.ideas.service import get_idea_for
from api.reference.mine import (
    KIND_CHOICES,
    STATUS_CHOICES,
    can_reply,
    my_timeline,
    notifications_for,
    own_record,
    parse_filters,
    record_details,
    record_feedback,
    record_names,
    reference_of,
    reply_to_reviewer,
)
from api.templating import render
from api.triage.today import todays_desk
from schemas.enums import HARM_NEEDING_FORMAL_REPORT, Harm, Role
from schemas.field_errors import FieldError
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
def mine(
    request: Request,
    user: SignedInUser,
    session: SessionDep,
    kind: str = "",
    status: str = "",
    page: str = "",
) -> Response:
    filters, errors = parse_filters(kind, status, page)
    entries, more = my_timeline(session, user, filters)
    notifications = notifications_for(session, user, mark_read=False)
    return render(
        request,
        "mine.html",
        {
            "entries": entries,
            "filters": filters,
            "more": more,
            "kind_choices": KIND_CHOICES,
            "status_choices": STATUS_CHOICES,
            **error_context(errors),
            "last_updated": utcnow(),
            "notifications": notifications,
            "record_names": record_names(session, {n.record_id for n in notifications[:10]}),
        },
        status_code=422 if errors else 200,
    )


def _record_page(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    kind: Literal["idea", "handover"],
    record_id: uuid.UUID,
    *,
    errors: list[FieldError] | None = None,
    reply: str = "",
) -> Response:
    record = own_record(session, user, kind, record_id)
    feedback = record_feedback(session, kind, record_id)
    return render(
        request,
        "mine/record.html",
        {
            "kind": kind,
            "record": record,
            "reference": reference_of(record_id),
            # The reference shows once, above the heading.
            "name": record_names(session, {record_id}).get(str(record_id), "").rsplit(" (", 1)[0],
            "details": record_details(session, kind, record),
            "feedback": feedback,
            "can_reply": can_reply(feedback),
            "reply": reply,
            **error_context(errors or []),
        },
        status_code=422 if errors else 200,
    )


@router.get("/mine/ideas/{record_id}")
def my_idea(
    request: Request, record_id: uuid.UUID, user: SignedInUser, session: SessionDep
) -> Response:
    return _record_page(request, session, user, "idea", record_id)


@router.get("/mine/handovers/{record_id}")
def my_handover(
    request: Request, record_id: uuid.UUID, user: SignedInUser, session: SessionDep
) -> Response:
    return _record_page(request, session, user, "handover", record_id)


@router.post("/mine/{kinds}/{record_id}/replies")
def reply(
    request: Request,
    kinds: Literal["ideas", "handovers"],
    record_id: uuid.UUID,
    user: SignedInUser,
    session: SessionDep,
    body: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """The submitter's reply to a reviewer's comment (SPEC §4); a plain form, so no JS needed."""
    kind: Literal["idea", "handover"] = "idea" if kinds == "ideas" else "handover"
    try:
        reply_to_reviewer(session, user, kind, record_id, body)
    except Invalid as refused:
        return _record_page(
            request, session, user, kind, record_id, errors=refused.errors, reply=body
        )
    return RedirectResponse(f"/mine/{kinds}/{record_id}#history", status_code=303)


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
