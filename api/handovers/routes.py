"""Handover notes over HTTP: the JSON API (SPEC §6) and the capture page that works without JavaScript."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from api.audit.service import events_of
from api.auth.identity import CurrentUser, ManagerUser, SignedInUser, is_manager, is_partner
from api.concurrency import parse_if_match, set_etag
from api.db import SessionDep
from api.errors import error_responses
from api.filtering import FilterDay
from api.forms import FormDep, error_context, submit_form
from api.handovers.flows import comment_on_handover, move_handover, update_handover
from api.handovers.service import (
    Attention,
    HandoverFilters,
    get_handover_for,
    handover_answer,
    list_handovers,
)
from api.one_hop import post_in_one_hop
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from api.partnership.service import PartnerFilters, get_partner_note, list_partner_notes
from api.reference.service import reference_data
from api.sync.guard import limit_writes
from api.sync.http import RECORD_RESPONSES, record_response
from api.sync.ingest import submit_one
from api.sync.kinds import Sender
from api.templating import render
from schemas.audit import CommentIn, EventRead, RecordKind
from schemas.enums import Category, HandoverStatus, Harm
from schemas.free_text import MAX_RECORD_ID, no_nul
from schemas.handovers import (
    HandoverPage,
    HandoverPatch,
    HandoverRead,
    HandoverSubmission,
    HandoverTransitionIn,
    PartnerNotePage,
    PartnerNoteRead,
)
from schemas.timestamps import LONDON

api_router = APIRouter(prefix="/api/v1/handovers", tags=["handovers"])
page_router = APIRouter(tags=["pages"], include_in_schema=False)


# One worker-thread hand-over a request (api/one_hop.py): what a phone sends.
@post_in_one_hop(
    api_router,
    "",
    status_code=201,
    response_model=HandoverRead,
    responses={**RECORD_RESPONSES, **error_responses(403, 413, 429)},
)
def create_handover(body: HandoverSubmission, user: CurrentUser, session: SessionDep) -> Response:
    limit_writes(user)
    result = submit_one(session, Sender.of(user), "handover", body.id, body)
    return record_response(
        result.outcome, result.errors, lambda: handover_answer(session, user, body.id, result.row)
    )


def handover_filters(
    status: HandoverStatus | None = None,
    partner_id: Annotated[int | None, Query(gt=0, le=MAX_RECORD_ID)] = None,
    category: Category | None = None,
    harm: Harm | None = None,
    q: Annotated[str | None, Query(max_length=200), no_nul] = None,
    date_from: Annotated[
        FilterDay | None, Query(alias="from", description="London date, inclusive")
    ] = None,
    date_to: Annotated[
        FilterDay | None, Query(alias="to", description="London date, inclusive")
    ] = None,
    attention: Attention | None = None,
) -> HandoverFilters:
    """The list filters as query parameters, shared by the list and the CSV export. A partner
    organisation includes its sites."""
    return HandoverFilters(status, partner_id, category, harm, q, date_from, date_to, attention)


HandoverFiltersDep = Annotated[HandoverFilters, Depends(handover_filters)]


@api_router.get("", response_model=HandoverPage | PartnerNotePage, responses=error_responses(403))
def handovers_list(
    user: SignedInUser,
    session: SessionDep,
    filters: HandoverFiltersDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> HandoverPage | PartnerNotePage:
    """Managers: every note. A partner organisation's user: only the notes about their own
    organisation that were raised with it or shared as thanks, anonymised (`PartnerNoteRead`);
    `partner_id` then picks one of its sites. Reporters: 403."""
    if is_partner(user):
        own_filters = PartnerFilters(
            site_id=filters.partner_id,
            category=filters.category,
            date_from=filters.date_from,
            date_to=filters.date_to,
        )
        notes, next_cursor = list_partner_notes(session, user, own_filters, cursor, limit)
        return PartnerNotePage(items=notes, next_cursor=next_cursor)
    items, next_cursor = list_handovers(session, user, filters, cursor, limit)
    return HandoverPage(items=items, next_cursor=next_cursor)


@api_router.get(
    "/{note_id}", response_model=HandoverRead | PartnerNoteRead, responses=error_responses(404)
)
def handover_detail(
    note_id: uuid.UUID, user: SignedInUser, session: SessionDep, response: Response
) -> HandoverRead | PartnerNoteRead:
    """A reporter: their own note. A partner's user: a note about their organisation shared with
    it, anonymised; any other note is 404, as if it did not exist."""
    if is_partner(user):
        return get_partner_note(session, user, note_id)
    note = get_handover_for(session, user, note_id)
    set_etag(response, note.version)
    return note


@api_router.get("/{note_id}/events", response_model=list[EventRead], responses=error_responses(404))
def handover_events(note_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> list[EventRead]:
    note = get_handover_for(session, user, note_id)
    return events_of(session, RecordKind.handover, note.id, submitter_view=not is_manager(user))


@api_router.post(
    "/{note_id}/transitions",
    response_model=HandoverRead,
    responses=error_responses(403, 404, 409, 412, 413),
)
def handover_transition(
    note_id: uuid.UUID,
    body: HandoverTransitionIn,
    user: ManagerUser,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> HandoverRead:
    """new → reviewed → raised_with_partner → resolved; any state may go to resolved. 409 lists the
    allowed moves."""
    moved = move_handover(
        session,
        user,
        note_id,
        to=body.to,
        note=body.note,
        expected_version=parse_if_match(if_match, required=False),
    )
    set_etag(response, moved.version)
    return get_handover_for(session, user, note_id)


@api_router.post(
    "/{note_id}/comments",
    response_model=EventRead,
    status_code=201,
    responses=error_responses(403, 404, 413),
)
def handover_comment(
    note_id: uuid.UUID, body: CommentIn, user: ManagerUser, session: SessionDep
) -> EventRead:
    comment_on_handover(session, user, note_id, body.body)
    return events_of(session, RecordKind.handover, note_id, submitter_view=False)[-1]


@api_router.patch(
    "/{note_id}",
    response_model=HandoverRead,
    responses=error_responses(403, 404, 412, 413, 428),
)
def handover_update(
    note_id: uuid.UUID,
    body: HandoverPatch,
    user: ManagerUser,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> HandoverRead:
    """The review note and the partner's response. Needs `If-Match` with the version; 412 when stale."""
    expected = parse_if_match(if_match, required=True)
    changes = body.model_dump(include=body.model_fields_set)
    updated = update_handover(session, user, note_id, changes, expected)  # type: ignore[arg-type]
    set_etag(response, updated.version)
    return get_handover_for(session, user, note_id)


# Pages

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _handover_form_page(
    request: Request,
    session: SessionDep,
    form: dict[str, Any],
    *,
    errors: Any = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    latest = datetime.now(LONDON) + timedelta(minutes=5)
    return render(
        request,
        "handovers/new.html",
        {
            "form": form,
            **error_context(errors or []),
            "reference": reference_data(session),
            "notice": notice,
            "max_occurred_at": latest.strftime(DATETIME_LOCAL),
        },
        status_code=status_code,
    )


@page_router.get("/handovers/new")
def new_handover_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    form = {
        "id": str(uuid.uuid4()),
        "occurred_at": datetime.now(LONDON).strftime(DATETIME_LOCAL),
        "categories": [],
    }
    return _handover_form_page(request, session, form)


@page_router.post("/handovers")
def submit_handover_form(
    request: Request, user: CurrentUser, session: SessionDep, form: FormDep
) -> Response:
    return submit_form(request, session, user, form, "handover", _handover_form_page)
