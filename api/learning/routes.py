"""The learning library over HTTP: `GET /api/v1/learning`, the page `/learning`, and "Try this in my
team" (`/learning/{id}/try`: the idea form filled from the original, which posts to /ideas as any
idea does). Every member of staff may use them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.auth.identity import StaffUser
from api.db import SessionDep
from api.errors import Invalid, error_responses
from api.ideas.routes import idea_form_page
from api.ideas.service import IdeaFilters
from api.learning.service import learning_idea, list_learning, spread_form
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from api.pdsa.view import cycle_chart
from api.reference.service import reference_data
from api.templating import render
from api.triage import query_params as qp
from api.triage.service import select_items
from schemas.enums import Waste
from schemas.free_text import MAX_RECORD_ID, no_nul
from schemas.learning import LearningPage

api_router = APIRouter(prefix="/api/v1/learning", tags=["learning"])
page_router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 10


@api_router.get("", response_model=LearningPage, responses=error_responses(403, 422))
def learning_api(
    user: StaffUser,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200), no_nul] = None,
    aim: Annotated[int | None, Query(gt=0, le=MAX_RECORD_ID)] = None,
    waste: Waste | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> LearningPage:
    """Implemented and shared ideas, most recently changed first, with what was tried (PDSA cycles
    and their values) and how many teams have tried each since. `q` is full text."""
    filters = IdeaFilters(q=q, aim=aim, waste=waste.value if waste else None)
    items, next_cursor = list_learning(session, user, filters, cursor, limit)
    return LearningPage(items=items, next_cursor=next_cursor)


@page_router.get("/learning")
def learning_page(request: Request, user: StaffUser, session: SessionDep) -> Response:
    params = request.query_params
    waste = qp.choice(params, "waste", Waste)
    filters = IdeaFilters(q=qp.text(params, "q"), aim=qp.positive_int(params, "aim"), waste=waste)
    cursor = qp.text(params, "cursor", 300)
    try:
        items, next_cursor = list_learning(session, user, filters, cursor, PAGE_SIZE)
    except Invalid:  # a mangled "next page" link: start from the top
        items, next_cursor = list_learning(session, user, filters, None, PAGE_SIZE)
    charts = {
        cycle.id: cycle_chart(cycle, f"learning-{cycle.id}")
        for item in items
        for cycle in item.pdsa
    }
    reference = reference_data(session)
    next_query = None
    if next_cursor:
        kept = [(k, v) for k, v in params.multi_items() if k != "cursor" and v]
        next_query = urlencode([*kept, ("cursor", next_cursor)])
    context: dict[str, Any] = {
        "items": items,
        "charts": charts,
        "filters": filters,
        "searched": bool(filters.q or filters.aim or filters.waste),
        "next_query": next_query,
        "choices": {
            "aim": select_items(
                [(a["id"], a["name"]) for a in reference["aims"]], filters.aim, "Any aim"
            ),
            "waste": select_items(
                [(o["value"], o["label"]) for o in reference["wastes"]], filters.waste, "Any waste"
            ),
        },
    }
    return render(request, "learning/index.html", context)


@page_router.get("/learning/{idea_id}/try")
def try_in_my_team(
    idea_id: uuid.UUID, request: Request, user: StaffUser, session: SessionDep
) -> Response:
    """The idea form filled from the original; sending it records `spread_from`. Not at
    /ideas/new?…: the service worker keeps /ideas/new (any query) as the offline form, and this
    filled copy must not become it."""
    original = learning_idea(session, user, idea_id)
    notice = (
        f"You are starting “{original.title}” from {original.team_name} in your team. "
        "Change anything that is different for you. It will count on the original as tried "
        "in your team."
    )
    return idea_form_page(request, session, spread_form(original, user), notice=notice)
