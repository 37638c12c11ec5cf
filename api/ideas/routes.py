"""Ideas over HTTP: the JSON API (SPEC §6) and the capture page that works without JavaScript."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from api.audit.service import events_of
from api.auth.identity import ManagerUser, SignedInUser, is_manager
from api.concurrency import parse_if_match, set_etag
from api.db import SessionDep
from api.errors import error_responses
from api.filtering import FilterDay
from api.forms import FormDep, error_context, submit_form
from api.ideas.flows import comment_on_idea, move_idea, update_idea
from api.ideas.service import Flag, IdeaFilters, get_idea_for, idea_answer, list_ideas
from api.one_hop import post_in_one_hop
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Sort
from api.reference.service import reference_data
from api.sync.guard import limit_writes
from api.sync.http import RECORD_RESPONSES, record_response
from api.sync.ingest import submit_one
from api.sync.kinds import Sender
from api.templating import render
from schemas.audit import CommentIn, EventRead, RecordKind
from schemas.enums import IdeaStatus, Waste
from schemas.free_text import MAX_RECORD_ID, no_nul
from schemas.ideas import IdeaPage, IdeaPatch, IdeaRead, IdeaSubmission, IdeaTransitionIn

api_router = APIRouter(prefix="/api/v1/ideas", tags=["ideas"])
page_router = APIRouter(tags=["pages"], include_in_schema=False)


# One worker-thread hand-over a request (api/one_hop.py): what a phone sends.
@post_in_one_hop(
    api_router,
    "",
    status_code=201,
    response_model=IdeaRead,
    responses={**RECORD_RESPONSES, **error_responses(403, 413, 429)},
)
def create_idea(body: IdeaSubmission, user: SignedInUser, session: SessionDep) -> Response:
    limit_writes(user)
    result = submit_one(session, Sender.of(user), "idea", body.id, body)
    return record_response(
        result.outcome, result.errors, lambda: idea_answer(session, user, body.id, result.row)
    )


def idea_filters(
    status: IdeaStatus | None = None,
    team_id: Annotated[int | None, Query(gt=0, le=MAX_RECORD_ID)] = None,
    aim: Annotated[int | None, Query(gt=0, le=MAX_RECORD_ID)] = None,
    waste: Waste | None = None,
    q: Annotated[str | None, Query(max_length=200), no_nul] = None,
    date_from: Annotated[
        FilterDay | None, Query(alias="from", description="London date, inclusive")
    ] = None,
    date_to: Annotated[
        FilterDay | None, Query(alias="to", description="London date, inclusive")
    ] = None,
    flag: Flag | None = None,
    owner_id: Annotated[int | None, Query(gt=0, le=MAX_RECORD_ID)] = None,
    open_only: Annotated[
        bool, Query(description="Only open ideas (submitted to implemented), as /triage shows")
    ] = False,
) -> IdeaFilters:
    """The list filters as query parameters, shared by the list and the CSV export."""
    return IdeaFilters(
        status, team_id, aim, waste, q, date_from, date_to, flag, owner_id, open_only
    )


IdeaFiltersDep = Annotated[IdeaFilters, Depends(idea_filters)]


@api_router.get("", response_model=IdeaPage, responses=error_responses(403))
def ideas_list(
    user: ManagerUser,
    session: SessionDep,
    filters: IdeaFiltersDep,
    sort: Sort = Sort.newest,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> IdeaPage:
    """Filters combine; `q` is full-text (words, prefix-matched on SQLite); `flag` picks ideas that
    need a first response (7 days) or have stalled (30 days without an update)."""
    items, next_cursor = list_ideas(session, user, filters, cursor, limit, sort)
    return IdeaPage(items=items, next_cursor=next_cursor)


@api_router.get("/{idea_id}", response_model=IdeaRead, responses=error_responses(404))
def idea_detail(
    idea_id: uuid.UUID, user: SignedInUser, session: SessionDep, response: Response
) -> IdeaRead:
    idea = get_idea_for(session, user, idea_id)
    set_etag(response, idea.version)
    return idea


@api_router.get("/{idea_id}/events", response_model=list[EventRead], responses=error_responses(404))
def idea_events(idea_id: uuid.UUID, user: SignedInUser, session: SessionDep) -> list[EventRead]:
    """The audit trail; a submitter sees the comments and moves on their own idea, not internal notes."""
    idea = get_idea_for(session, user, idea_id)
    own_view = not is_manager(user)
    return events_of(session, RecordKind.idea, idea.id, submitter_view=own_view)


@api_router.post(
    "/{idea_id}/transitions",
    response_model=IdeaRead,
    responses=error_responses(403, 404, 409, 412, 413),
)
def idea_transition(
    idea_id: uuid.UUID,
    body: IdeaTransitionIn,
    user: ManagerUser,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> IdeaRead:
    """Move an idea along its workflow. 409 lists the allowed moves; declining needs a `note`
    (the submitter reads it), duplicate needs `duplicate_of`, accepting or declining needs the
    Equity Pause answer in `equity_note`."""
    moved = move_idea(
        session,
        user,
        idea_id,
        to=body.to,
        note=body.note,
        duplicate_of=body.duplicate_of,
        equity_note=body.equity_note,
        expected_version=parse_if_match(if_match, required=False),
    )
    set_etag(response, moved.version)
    return get_idea_for(session, user, idea_id)


@api_router.post(
    "/{idea_id}/comments",
    response_model=EventRead,
    status_code=201,
    responses=error_responses(403, 404, 413),
)
def idea_comment(
    idea_id: uuid.UUID, body: CommentIn, user: ManagerUser, session: SessionDep
) -> EventRead:
    comment_on_idea(session, user, idea_id, body.body)
    return events_of(session, RecordKind.idea, idea_id, submitter_view=False)[-1]


@api_router.patch(
    "/{idea_id}",
    response_model=IdeaRead,
    responses=error_responses(403, 404, 412, 413, 428),
)
def idea_update(
    idea_id: uuid.UUID,
    body: IdeaPatch,
    user: ManagerUser,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> IdeaRead:
    """Owner, impact (1–3) and effort (1–3). Needs `If-Match` with the version; 412 when stale."""
    expected = parse_if_match(if_match, required=True)
    changes = body.model_dump(include=body.model_fields_set)
    updated = update_idea(session, user, idea_id, changes, expected)  # type: ignore[arg-type]
    set_etag(response, updated.version)
    return get_idea_for(session, user, idea_id)


# Pages


def idea_form_page(
    request: Request,
    session: SessionDep,
    form: dict[str, Any],
    *,
    errors: Any = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "ideas/new.html",
        {
            "form": form,
            **error_context(errors or []),
            "reference": reference_data(session),
            "notice": notice,
        },
        status_code=status_code,
    )


@page_router.get("/ideas/new")
def new_idea_page(request: Request, user: SignedInUser, session: SessionDep) -> Response:
    # The id for the no-JavaScript path; with JavaScript the page makes its own (SPEC O9).
    form = {
        "id": str(uuid.uuid4()),
        "team_id": user.team_id,
        "show_name": True,
        "aims": [],
        "wastes": [],
        "benefits": [],
    }
    return idea_form_page(request, session, form)


@page_router.post("/ideas")
def submit_idea_form(
    request: Request, user: SignedInUser, session: SessionDep, form: FormDep
) -> Response:
    return submit_form(request, session, user, form, "idea", idea_form_page)
