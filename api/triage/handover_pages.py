"""Handover notes for managers: the filtered list (`/handovers`) and a note's page
(`/handovers/{id}`) with its moves, review note, the partner's response, comments and history."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.audit.service import events_of
from api.auth.identity import ManagerUser
from api.db import SessionDep
from api.errors import Conflict, Invalid, PreconditionFailed
from api.forms import FormDep, error_context, form_version
from api.handovers.flows import (
    comment_on_handover,
    move_handover,
    raise_many,
    record_lfpse_reference,
    respond_many,
    update_handover,
)
from api.handovers.service import (
    ATTENTION_LABELS,
    Attention,
    HandoverFilters,
    count_handovers,
    get_handover_for,
    list_handovers,
)
from api.handovers.workflow import allowed_moves
from api.reference.service import reference_data
from api.templating import is_htmx, render
from api.triage import query_params as qp
from api.triage.service import names_by_id, organisation_choices, select_items
from schemas.accounts import User
from schemas.audit import RecordKind
from schemas.enums import Category, HandoverStatus, Harm
from schemas.field_errors import FieldError, field_errors
from schemas.handovers import Handover, HandoverPatch
from schemas.timestamps import london_time

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 25
DONE_MESSAGES = {
    "moved": "The handover note was moved. The crew member has been told.",
    "reviewed": "Saved. The crew member sees the review note and the partner's response.",
    "commented": "Your comment was added. The crew member has been told.",
    "lfpse": "The LFPSE reference was saved.",
}
TEXT_LIMIT = 4000


def _filters(params: Any) -> tuple[HandoverFilters, list[FieldError]]:
    """The list's filters, and the dates refused as out of range (for the error summary)."""
    date_from, date_to, date_errors = qp.days(params)
    return HandoverFilters(
        status=qp.choice(params, "status", HandoverStatus),
        partner_id=qp.positive_int(params, "partner_id"),
        category=qp.choice(params, "category", Category),
        harm=qp.choice(params, "harm", Harm),
        q=qp.text(params, "q"),
        date_from=date_from,
        date_to=date_to,
        attention=qp.choice(params, "attention", Attention),
    ), date_errors


def _filter_query(filters: HandoverFilters) -> str:
    """The filters as a query string: the CSV export's, and where a bulk action comes back to."""
    pairs = [
        ("status", filters.status),
        ("partner_id", filters.partner_id),
        ("category", filters.category),
        ("harm", filters.harm),
        ("q", filters.q),
        ("from", filters.date_from.isoformat() if filters.date_from else None),
        ("to", filters.date_to.isoformat() if filters.date_to else None),
        ("attention", filters.attention),
    ]
    return urlencode([(k, str(v)) for k, v in pairs if v])


def _list_page(
    request: Request,
    session: Session,
    user: User,
    filters: HandoverFilters,
    *,
    cursor: str | None = None,
    outcome: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        items, next_cursor = list_handovers(session, user, filters, cursor, PAGE_SIZE)
    except Invalid:
        items, next_cursor = list_handovers(session, user, filters, None, PAGE_SIZE)
    reference = reference_data(session)
    query = _filter_query(filters)
    applied = sum(1 for part in query.split("&") if part)
    context = {
        "items": items,
        "total": count_handovers(session, filters),
        "next_query": urlencode([*parse_qsl(query), ("cursor", next_cursor)])
        if next_cursor
        else None,
        "filters": filters,
        "filter_query": query,
        "applied": applied,
        "names": names_by_id(session),
        "outcome": outcome,
        "form": form or {},
        **error_context(errors or []),
        "choices": {
            "status": select_items(
                [(o["value"], o["label"]) for o in reference["handover_statuses"]],
                filters.status,
                "Any status",
            ),
            "attention": select_items(
                [(a.value, text) for a, text in ATTENTION_LABELS.items()],
                filters.attention,
                "All notes",
            ),
            "partner_id": select_items(
                organisation_choices(session), filters.partner_id, "Any organisation"
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
        "date_from": filters.date_from.isoformat() if filters.date_from else "",
        "date_to": filters.date_to.isoformat() if filters.date_to else "",
    }
    fragment = is_htmx(request) and request.headers.get("hx-target") == "handover-results"
    # The fragment also carries the filter panel's summary, which is outside it.
    context["filters_in_use_oob"] = fragment
    template = "triage/_handover_results.html" if fragment else "triage/handovers.html"
    return render(request, template, context, status_code=status_code)


@router.get("/handovers")
def handover_list(request: Request, user: ManagerUser, session: SessionDep) -> Response:
    params = request.query_params
    filters, date_errors = _filters(params)
    return _list_page(
        request,
        session,
        user,
        filters,
        cursor=qp.text(params, "cursor", 300),
        errors=date_errors,
        status_code=422 if date_errors else 200,
    )


BULK_ACTIONS = {
    "raise": "raised with the partner",
    "respond": "given the partner's answer",
}


@router.post("/handovers/bulk")
def bulk(request: Request, user: ManagerUser, session: SessionDep, form: FormDep) -> Response:
    """Several notes at once at a partner meeting: raise them, or record one answer for all.
    The page comes back (not a redirect) with what happened to each note; the filters ride in
    the form's query string."""
    filters, _ = _filters(request.query_params)
    action = str(form.get("action", ""))
    response = str(form.get("partner_response", ""))
    values = {"partner_response": response, "action": action}
    versions: dict[uuid.UUID, int | None] = {}
    for raw in form.getlist("ids")[: PAGE_SIZE * 4]:
        try:
            note_id = uuid.UUID(str(raw))
        except ValueError:
            continue
        version = str(form.get(f"version-{note_id}", ""))
        versions[note_id] = int(version) if version.isdecimal() else None
    errors: list[FieldError] = []
    if action not in BULK_ACTIONS:
        errors.append(FieldError(field="action", message="Choose what to do with the notes"))
    if not versions:
        errors.append(
            FieldError(field="ids", message="Select at least one handover note from the list")
        )
    if action == "respond":
        if not response.strip():
            errors.append(
                FieldError(field="partner_response", message="Enter what the partner said")
            )
        else:
            try:
                HandoverPatch.model_validate({"partner_response": response})
            except ValidationError as exc:
                errors += field_errors(exc)
    if errors:
        return _list_page(
            request, session, user, filters, errors=errors, form=values, status_code=422
        )
    if action == "raise":
        result = raise_many(session, user, versions)
    else:
        result = respond_many(session, user, versions, response)
    names = names_by_id(session)
    refused = []
    for note_id, reason in result.refused:
        note = session.get(Handover, note_id)
        where = names["partners"].get(note.partner_id, "") if note else "A note"
        when = (london_time(note.occurred_at).strftime("%-d %b %H:%M")) if note else ""
        refused.append({"id": note_id, "what": f"{where} {when}".strip(), "reason": reason})
    outcome = {
        "done": len(result.done),
        "verb": BULK_ACTIONS[action],
        "refused": refused,
    }
    return _list_page(request, session, user, filters, outcome=outcome)


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


@router.post("/handovers/{note_id}/lfpse")
def lfpse(
    note_id: uuid.UUID, request: Request, user: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    values = {"lfpse_reference": str(form.get("lfpse_reference", ""))[:200]}
    try:
        record_lfpse_reference(
            session, user, note_id, values["lfpse_reference"], form_version(form)
        )
    except (Invalid, PreconditionFailed) as exc:
        session.rollback()
        return _refused(request, session, user, note_id, exc, values)
    return _done(request, session, user, note_id, "lfpse")
