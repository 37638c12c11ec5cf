"""The managers' idea queue (`/triage`) and idea page (`/triage/ideas/{id}`): plain forms first,
htmx swaps the queue and the idea panel in place."""

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
from api.ideas.flows import comment_on_idea, move_idea, update_idea
from api.ideas.service import Flag, IdeaFilters, count_ideas, get_idea_for, list_ideas
from api.ideas.workflow import NEEDS_EQUITY_PAUSE, NEEDS_REASON, NEEDS_TARGET, allowed_moves
from api.learning.service import tried_in_teams
from api.pagination import Sort
from api.pdsa.service import TESTABLE, add_cycle, record_point
from api.pdsa.view import has_cycles, pdsa_view
from api.reference.service import reference_data
from api.templating import is_htmx, render
from api.triage import query_params as qp
from api.triage.service import (
    QUADRANTS,
    duplicate_links,
    impact_effort_matrix,
    names_by_id,
    original_candidates,
    possible_owners,
    select_items,
)
from schemas.accounts import User
from schemas.audit import RecordKind
from schemas.enums import IdeaStatus, Waste
from schemas.field_errors import FieldError, field_errors, in_form_order
from schemas.free_text import MAX_RECORD_ID
from schemas.pdsa import PdsaCycleIn, PdsaPointIn

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 25
DONE_MESSAGES = {
    "moved": "The idea was moved. The submitter has been told.",
    "rated": "Owner, impact and effort were saved.",
    "commented": "Your comment was added. The submitter has been told.",
    "cycle": "The PDSA cycle was added.",
    "point": "The value was recorded.",
}


@router.get("/triage")
def queue(request: Request, user: ManagerUser, session: SessionDep) -> Response:
    params = request.query_params
    include_closed = params.get("include_closed") == "1"
    filters = IdeaFilters(
        status=qp.choice(params, "status", IdeaStatus),
        team_id=qp.positive_int(params, "team_id"),
        aim=qp.positive_int(params, "aim"),
        waste=qp.choice(params, "waste", Waste),
        q=qp.text(params, "q"),
        flag=qp.choice(params, "flag", Flag),
        owner_id=qp.positive_int(params, "owner_id"),
        open_only=not include_closed,
    )
    sort = qp.choice(params, "sort", Sort) or Sort.newest
    view = "matrix" if params.get("view") == "matrix" else "list"
    context: dict[str, Any] = {
        "filters": filters,
        "sort": sort,
        "view": view,
        "include_closed": include_closed,
        "choices": _choices(session, filters, sort),
        "applied": _applied(filters, include_closed),
        "names": names_by_id(session),
        "owners": possible_owners(session),
        "export_query": export_query(filters),
    }
    if view == "matrix":
        context.update(matrix=impact_effort_matrix(session, user), quadrants=QUADRANTS)
    else:
        cursor = qp.text(params, "cursor", 300)
        try:
            items, next_cursor = list_ideas(session, user, filters, cursor, PAGE_SIZE, sort)
        except Invalid:  # a cursor from another sort or a mangled link: start from the top
            items, next_cursor = list_ideas(session, user, filters, None, PAGE_SIZE, sort)
        context.update(
            items=items,
            total=count_ideas(session, filters),
            next_cursor=next_cursor,
            next_query=_next_query(request, next_cursor),
        )
    fragment = is_htmx(request) and request.headers.get("hx-target") == "queue"
    # The fragment also carries the filter panel's summary, which is outside it.
    context["filters_in_use_oob"] = fragment
    template = "triage/_queue.html" if fragment else "triage/queue.html"
    return render(request, template, context)


def _applied(filters: IdeaFilters, include_closed: bool) -> int:
    """How many filters are in use, for the folded filter panel's summary on a phone."""
    chosen = [
        filters.status,
        filters.team_id,
        filters.aim,
        filters.waste,
        filters.q,
        filters.flag,
        filters.owner_id,
    ]
    return sum(1 for value in chosen if value) + int(include_closed)


def export_query(filters: IdeaFilters) -> str:
    """The queue's filters as the CSV export's query: the file holds what the list shows."""
    pairs = [
        ("status", filters.status),
        ("team_id", filters.team_id),
        ("aim", filters.aim),
        ("waste", filters.waste),
        ("q", filters.q),
        ("flag", filters.flag),
        ("owner_id", filters.owner_id),
        ("open_only", "true" if filters.open_only and not filters.status else None),
    ]
    return urlencode([(k, str(v)) for k, v in pairs if v])


def _choices(session: Session, filters: IdeaFilters, sort: Sort) -> dict[str, list[dict[str, Any]]]:
    """The filter form's select items, with the current choice selected."""
    reference = reference_data(session)
    return {
        "status": select_items(
            [(o["value"], o["label"]) for o in reference["idea_statuses"]],
            filters.status,
            "Any status",
        ),
        "flag": select_items(
            [
                (Flag.needs_first_response, "Needs a first response (7 days)"),
                (Flag.stalled, "Stalled (no update for 30 days)"),
            ],
            filters.flag,
            "All ideas",
        ),
        "team_id": select_items(
            [(t["id"], t["name"]) for t in reference["teams"]], filters.team_id, "Any team"
        ),
        "aim": select_items(
            [(a["id"], a["name"]) for a in reference["aims"]], filters.aim, "Any aim"
        ),
        "waste": select_items(
            [(o["value"], o["label"]) for o in reference["wastes"]], filters.waste, "Any waste"
        ),
        "owner_id": select_items(
            [(o["id"], o["name"]) for o in possible_owners(session)], filters.owner_id, "Anyone"
        ),
        "sort": select_items(
            [
                (Sort.newest, "Newest first"),
                (Sort.oldest, "Oldest first"),
                (Sort.updated, "Recently updated"),
            ],
            sort,
            None,
        ),
    }


def _next_query(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor" and v]
    return urlencode([*kept, ("cursor", cursor)])


def _idea_page(
    request: Request,
    session: Session,
    user: User,
    idea_id: uuid.UUID,
    *,
    errors: list[FieldError] | None = None,
    form: dict[str, Any] | None = None,
    message: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    idea = get_idea_for(session, user, idea_id)
    current = IdeaStatus(idea.status)
    form = form or {}
    originals_q = str(form.get("dup_q", "")).strip()[:200]
    context = {
        "idea": idea,
        **duplicate_links(session, idea.id, idea.duplicate_of),
        "originals_q": originals_q,
        "originals": original_candidates(session, originals_q, idea.id) if originals_q else None,
        "pdsa": pdsa_view(session, idea.id)
        if IdeaStatus(idea.status) in TESTABLE or has_cycles(session, idea.id)
        else None,
        "pdsa_open": IdeaStatus(idea.status) in TESTABLE,
        "events": events_of(session, RecordKind.idea, idea.id, submitter_view=False),
        "tried_in": tried_in_teams(session, [idea.id]).get(idea.id, 0),
        "moves": allowed_moves(current),
        "needs_reason": [s.value for s in NEEDS_REASON],
        "needs_target": [s.value for s in NEEDS_TARGET],
        "needs_equity": [s.value for s in NEEDS_EQUITY_PAUSE],
        "names": names_by_id(session),
        "owners": possible_owners(session),
        "form": form,
        **error_context(errors or []),
        "message": message,
        "problem": problem,
    }
    template = "triage/_idea.html" if is_htmx(request) else "triage/idea.html"
    return render(request, template, context, status_code=status_code)


@router.get("/triage/ideas/{idea_id}")
def idea_page(
    idea_id: uuid.UUID, request: Request, user: ManagerUser, session: SessionDep
) -> Response:
    done = request.query_params.get("done", "")
    form: dict[str, Any] = {}
    if dup_q := qp.text(request.query_params, "dup_q"):
        # The no-JavaScript search for a duplicate's original: the page again, with the ideas
        # whose titles match and the "duplicate" move chosen.
        form = {"to": IdeaStatus.duplicate.value, "dup_q": dup_q}
    return _idea_page(request, session, user, idea_id, message=DONE_MESSAGES.get(done), form=form)


@router.get("/triage/ideas/{idea_id}/originals")
def originals(
    idea_id: uuid.UUID, request: Request, user: ManagerUser, session: SessionDep
) -> Response:
    """The search-as-you-type results for a duplicate's original (htmx), as choosable radios."""
    get_idea_for(session, user, idea_id)
    q = qp.text(request.query_params, "dup_q") or ""
    return render(
        request,
        "triage/_originals.html",
        {"originals": original_candidates(session, q, idea_id) if q else None, "originals_q": q},
    )


def _after_change(
    request: Request, session: Session, user: User, idea_id: uuid.UUID, done: str
) -> Response:
    if is_htmx(request):
        return _idea_page(request, session, user, idea_id, message=DONE_MESSAGES[done])
    return RedirectResponse(f"/triage/ideas/{idea_id}?done={done}", status_code=303)


def _refused(
    request: Request,
    session: Session,
    user: User,
    idea_id: uuid.UUID,
    exc: Exception,
    form: dict[str, Any],
) -> Response:
    """The page again, saying why, with what the manager typed; nothing was changed."""
    session.rollback()
    if isinstance(exc, Invalid):
        return _idea_page(
            request, session, user, idea_id, errors=exc.errors, form=form, status_code=422
        )
    if isinstance(exc, PreconditionFailed):
        return _idea_page(
            request,
            session,
            user,
            idea_id,
            form=form,
            status_code=412,
            problem="Someone else changed this idea while you had it open. This is the latest "
            "version; check it and try again.",
        )
    assert isinstance(exc, Conflict)
    return _idea_page(
        request,
        session,
        user,
        idea_id,
        form=form,
        status_code=409,
        problem=exc.detail["message"] if isinstance(exc.detail, dict) else str(exc.detail),
    )


@router.post("/triage/ideas/{idea_id}/move")
def move(
    idea_id: uuid.UUID, request: Request, user: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    values = {
        k: str(form.get(k, "")) for k in ("to", "note", "duplicate_of", "equity_note", "dup_q")
    }
    try:
        to = IdeaStatus(values["to"]) if values["to"] in IdeaStatus._value2member_map_ else None
        if to is None:
            raise Invalid([FieldError(field="to", message="Choose where to move the idea")])
        target = _uuid_or_none(values["duplicate_of"], field="duplicate_of")
        move_idea(
            session,
            user,
            idea_id,
            to=to,
            note=values["note"],
            duplicate_of=target,
            equity_note=values["equity_note"],
            expected_version=form_version(form),
        )
    except (Invalid, Conflict, PreconditionFailed) as exc:
        return _refused(request, session, user, idea_id, exc, values)
    return _after_change(request, session, user, idea_id, "moved")


def _uuid_or_none(value: str, *, field: str) -> uuid.UUID | None:
    value = value.strip().rsplit("/", 1)[-1]  # a pasted link to the idea works too
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Invalid(
            [FieldError(field=field, message="Search for the original idea and choose it")]
        ) from exc


@router.post("/triage/ideas/{idea_id}/rate")
def rate(
    idea_id: uuid.UUID, request: Request, user: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    values = {k: str(form.get(k, "")).strip() for k in ("owner_id", "impact", "effort")}
    changes: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key in ("owner_id", "impact", "effort"):
        raw = values[key]
        if raw == "":
            changes[key] = None
        elif raw.isdecimal() and (1 <= int(raw) <= (MAX_RECORD_ID if key == "owner_id" else 3)):
            changes[key] = int(raw)
        else:
            errors.append(FieldError(field=key, message=f"Choose a valid {key.replace('_id', '')}"))
    try:
        if errors:
            raise Invalid(errors)
        version = form_version(form)
        if version is None:
            raise PreconditionFailed()
        update_idea(session, user, idea_id, changes, version)
    except (Invalid, PreconditionFailed) as exc:
        return _refused(request, session, user, idea_id, exc, values)
    return _after_change(request, session, user, idea_id, "rated")


@router.post("/triage/ideas/{idea_id}/comments")
def comment(
    idea_id: uuid.UUID, request: Request, user: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    body = str(form.get("body", ""))
    try:
        comment_on_idea(session, user, idea_id, body)
    except Invalid as exc:
        return _refused(request, session, user, idea_id, exc, {"body": body})
    return _after_change(request, session, user, idea_id, "commented")


@router.post("/triage/ideas/{idea_id}/pdsa")
def new_cycle(
    idea_id: uuid.UUID, request: Request, user: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    # In the form's order: its error summary lists the problems top down.
    fields = (
        "plan",
        "measure_name",
        "measure_unit",
        "start_date",
        "end_date",
        "do",
        "study",
        "act",
    )
    values = {k: str(form.get(k, "")) for k in fields}
    try:
        data = PdsaCycleIn.model_validate(
            {k: v for k, v in values.items() if v.strip() or k == "plan"}
        )
        add_cycle(session, user, idea_id, data)
    except ValidationError as exc:
        errors = in_form_order(field_errors(exc), fields)
        return _refused(request, session, user, idea_id, Invalid(errors), values)
    except Conflict as exc:
        return _refused(request, session, user, idea_id, exc, values)
    return _after_change(request, session, user, idea_id, "cycle")


@router.post("/triage/ideas/{idea_id}/pdsa/{cycle_id}/points")
def new_point(
    idea_id: uuid.UUID,
    cycle_id: int,
    request: Request,
    user: ManagerUser,
    session: SessionDep,
    form: FormDep,
) -> Response:
    values = {"day": str(form.get("day", "")), "value": str(form.get("value", ""))}
    try:
        point = PdsaPointIn.model_validate(values)
        record_point(session, idea_id, cycle_id, point)
    except ValidationError as exc:
        return _refused(request, session, user, idea_id, Invalid(field_errors(exc)), values)
    return _after_change(request, session, user, idea_id, "point")
