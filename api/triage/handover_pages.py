"""Handover notes for managers: the filtered list (`/handovers`) and a note's page
(`/handovers/{id}`) with its moves, review note, the partner's response, comments and history."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.audit.service import events_of
from api.auth.identity import ManagerUser
from api.db import SessionDep
from api.errors import Conflict, Invalid, PreconditionFailed
from api.forms import FormDep, error_context, form_version
from api.handovers.flows import comment_on_handover, move_handover, update_handover
from api.handovers.service import HandoverFilters, get_handover_for, list_handovers
from api.handovers.workflow import allowed_moves
from api.reference.service import reference_data
from api.templating import is_htmx, render
from api.triage import query_params as qp
from api.triage.service import names_by_id, select_items
from schemas.accounts import User
from schemas.audit import RecordKind
from schemas.enums import Category, HandoverStatus, Harm
from schemas.field_errors import FieldError, field_errors
from schemas.handovers import HandoverPatch

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 25
DONE_MESSAGES = {
    "moved": "The handover note was moved. The crew member has been told.",
    "reviewed": "Saved. The crew member sees the review note and the partner's response.",
    "commented": "Your comment was added. The crew member has been told.",
}
TEXT_LIMIT = 4000


@router.get("/handovers")
def handover_list(request: Request, user: ManagerUser, session: SessionDep) -> Response:
    params = request.query_params
    date_from, date_to, date_errors = qp.days(params)
    filters = HandoverFilters(
        status=qp.choice(params, "status", HandoverStatus),
        partner_id=qp.positive_int(params, "partner_id"),
        category=qp.choice(params, "category", Category),
        harm=qp.choice(params, "harm", Harm),
        q=qp.text(params, "q"),
        date_from=date_from,
        date_to=date_to,
    )
    cursor = qp.text(params, "cursor", 300)
    try:
        items, next_cursor = list_handovers(session, user, filters, cursor, PAGE_SIZE)
    except Invalid:
        items, next_cursor = list_handovers(session, user, filters, None, PAGE_SIZE)
    reference = reference_data(session)
    next_query = None
    if next_cursor:
        kept = [(k, v) for k, v in params.multi_items() if k != "cursor" and v]
        next_query = urlencode([*kept, ("cursor", next_cursor)])
    return render(
        request,
        "triage/handovers.html",
        {
            "items": items,
            "next_query": next_query,
            "filters": filters,
            "names": names_by_id(session),
            "choices": {
                "status": select_items(
                    [(o["value"], o["label"]) for o in reference["handover_statuses"]],
                    filters.status,
                    "Any status",
                ),
                "partner_id": select_items(
                    [(p["id"], p["name"]) for p in reference["partners"]],
                    filters.partner_id,
                    "Any organisation",
                ),
                "category": select_items(
                    [(o["value"], o["label"]) for o in reference["categories"]],
                    filters.category,
                    "Anything",
                ),
                "harm": select_items(
                    [(o["value"], o["label"]) for o in reference["harms"]], filters.harm, "Any harm"
                ),
            },
            "date_from": params.get("from", ""),
            "date_to": params.get("to", ""),
            **error_context(date_errors),
        },
        status_code=422 if date_errors else 200,
    )


def _note_page(
    request: Request,
    session: Session,
    user: User,
    note_id: uuid.UUID,
    *,
    errors: list[FieldError] | None = None,
    form: dict[str, Any] | None = None,
    message: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    note = get_handover_for(session, user, note_id)
    context = {
        "note": note,
        "events": events_of(session, RecordKind.handover, note.id, submitter_view=False),
        "moves": allowed_moves(HandoverStatus(note.status)),
        "names": names_by_id(session),
        "form": form or {},
        **error_context(errors or []),
        "message": message,
        "problem": problem,
    }
    template = "triage/_handover.html" if is_htmx(request) else "triage/handover.html"
    return render(request, template, context, status_code=status_code)


@router.get("/handovers/{note_id}")
def handover_page(
    note_id: uuid.UUID, request: Request, user: ManagerUser, session: SessionDep
) -> Response:
    return _note_page(
        request,
        session,
        user,
        note_id,
        message=DONE_MESSAGES.get(request.query_params.get("done", "")),
    )


def _done(
    request: Request, session: Session, user: User, note_id: uuid.UUID, done: str
) -> Response:
    if is_htmx(request):
        return _note_page(request, session, user, note_id, message=DONE_MESSAGES[done])
    return RedirectResponse(f"/handovers/{note_id}?done={done}", status_code=303)


def _refused(
    request: Request,
    session: Session,
    user: User,
    note_id: uuid.UUID,
    exc: Exception,
    form: dict[str, Any],
) -> Response:
    if isinstance(exc, Invalid):
        return _note_page(
            request, session, user, note_id, errors=exc.errors, form=form, status_code=422
        )
    if isinstance(exc, PreconditionFailed):
        return _note_page(
            request,
            session,
            user,
            note_id,
            form=form,
            status_code=412,
            problem="Someone else changed this handover note while you had it open. This is the "
            "latest version; check it and try again.",
        )
    assert isinstance(exc, Conflict)
    detail = exc.detail["message"] if isinstance(exc.detail, dict) else str(exc.detail)
    return _note_page(request, session, user, note_id, form=form, status_code=409, problem=detail)


@router.post("/handovers/{note_id}/move")
def move(
    note_id: uuid.UUID, request: Request, user: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    values = {"to": str(form.get("to", "")), "note": str(form.get("note", ""))}
    try:
        if values["to"] not in HandoverStatus._value2member_map_:
            raise Invalid(
                [FieldError(field="to", message="Choose where to move the handover note")]
            )
        if len(values["note"]) > TEXT_LIMIT:
            raise Invalid(
                [FieldError(field="note", message="The note must be 4000 characters or fewer")]
            )
        move_handover(
            session,
            user,
            note_id,
            to=HandoverStatus(values["to"]),
            note=values["note"],
            expected_version=form_version(form),
        )
    except (Invalid, Conflict, PreconditionFailed) as exc:
        return _refused(request, session, user, note_id, exc, values)
    return _done(request, session, user, note_id, "moved")


@router.post("/handovers/{note_id}/review")
def review(
    note_id: uuid.UUID, request: Request, user: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    values = {k: str(form.get(k, "")) for k in ("review_note", "partner_response")}
    try:
        patch = HandoverPatch.model_validate(values)
        version = form_version(form)
        if version is None:
            raise PreconditionFailed()
        note = get_handover_for(session, user, note_id)
        changes = {k: v for k, v in patch.model_dump().items() if v != getattr(note, k)}
        update_handover(session, user, note_id, changes, version)
    except ValidationError as exc:
        return _refused(request, session, user, note_id, Invalid(field_errors(exc)), values)
    except (Invalid, PreconditionFailed) as exc:
        return _refused(request, session, user, note_id, exc, values)
    return _done(request, session, user, note_id, "reviewed")


@router.post("/handovers/{note_id}/comments")
def comment(
    note_id: uuid.UUID, request: Request, user: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    body = str(form.get("body", ""))
    try:
        if len(body) > TEXT_LIMIT:
            raise Invalid(
                [FieldError(field="body", message="A comment must be 4000 characters or fewer")]
            )
        comment_on_handover(session, user, note_id, body)
    except Invalid as exc:
        return _refused(request, session, user, note_id, exc, {"body": body})
    return _done(request, session, user, note_id, "commented")
