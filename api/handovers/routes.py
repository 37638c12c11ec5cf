"""Handover notes over HTTP: the JSON API (SPEC §6) and the capture page that works without JavaScript."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.auth.identity import CurrentUser, ManagerUser
from api.db import SessionDep
from api.forms import FormDep, error_context, submit_form
from api.handovers.service import HandoverFilters, get_handover_for, list_handovers
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from api.reference.service import reference_data
from api.sync.guard import limit_writes
from api.sync.http import RECORD_RESPONSES, record_response
from api.sync.ingest import submit_one
from api.templating import render
from schemas.enums import Category, HandoverStatus, Harm
from schemas.handovers import HandoverPage, HandoverRead, HandoverSubmission
from schemas.timestamps import LONDON

api_router = APIRouter(prefix="/api/v1/handovers", tags=["handovers"])
page_router = APIRouter(tags=["pages"], include_in_schema=False)


@api_router.post("", status_code=201, response_model=HandoverRead, responses=RECORD_RESPONSES)
def create_handover(body: HandoverSubmission, user: CurrentUser, session: SessionDep) -> Response:
    limit_writes(user)
    data = body.model_dump(mode="json", exclude={"id"})
    result = submit_one(session, user.id, "handover", body.id, data)  # type: ignore[arg-type]
    return record_response(
        result.outcome, result.errors, lambda: get_handover_for(session, user, body.id)
    )


@api_router.get("", response_model=HandoverPage)
def handovers_list(
    user: ManagerUser,
    session: SessionDep,
    status: HandoverStatus | None = None,
    partner_id: Annotated[int | None, Query(gt=0)] = None,
    category: Category | None = None,
    harm: Harm | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> HandoverPage:
    filters = HandoverFilters(status, partner_id, category, harm, q, date_from, date_to)
    items, next_cursor = list_handovers(session, user, filters, cursor, limit)
    return HandoverPage(items=items, next_cursor=next_cursor)


@api_router.get("/{note_id}", response_model=HandoverRead)
def handover_detail(note_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> HandoverRead:
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
