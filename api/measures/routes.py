"""Measures for managers: `/measures` (charts), `/api/v1/measures/{measure}` (the same data as JSON),
and the partnership review pack `/partners/{id}`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.auth.identity import ManagerUser
from api.db import SessionDep
from api.errors import Invalid, error_responses
from api.filtering import FilterDay
from api.forms import error_context
from api.measures.equity import equity_counts
from api.measures.partner_pack import build_pack
from api.measures.series import Filters, Measure
from api.measures.service import as_json, chart, compute, resolve_range
from api.reference.service import reference_data
from api.templating import render
from api.triage import query_params as qp
from api.triage.service import select_items
from schemas.field_errors import FieldError
from schemas.free_text import MAX_RECORD_ID
from schemas.timestamps import LONDON, utcnow

api_router = APIRouter(prefix="/api/v1/measures", tags=["measures"])
page_router = APIRouter(tags=["pages"], include_in_schema=False)


@api_router.get("/{measure}", responses=error_responses(403))
def measure_json(
    measure: Measure,
    user: ManagerUser,
    session: SessionDep,
    date_from: Annotated[
        FilterDay | None, Query(alias="from", description="London date, inclusive")
    ] = None,
    date_to: Annotated[
        FilterDay | None, Query(alias="to", description="London date, inclusive")
    ] = None,
    partner_id: Annotated[
        int | None, Query(gt=0, le=MAX_RECORD_ID, description="handovers-per-week only")
    ] = None,
    team_id: Annotated[
        int | None, Query(gt=0, le=MAX_RECORD_ID, description="the idea measures only")
    ] = None,
) -> dict[str, Any]:
    """Points with mean, process limits, special-cause flags and rules, and the series' assurance.
    Periods are ISO weeks (Monday) or calendar months in London time; an empty period is 0."""
    first, last = resolve_range(measure, date_from, date_to)
    filters = Filters(first, last, partner_id=partner_id, team_id=team_id)
    return as_json(measure, compute(session, measure, filters))


@page_router.get("/measures")
def measures_page(request: Request, user: ManagerUser, session: SessionDep) -> Response:
    params = request.query_params
    partner_id = qp.positive_int(params, "partner_id")
    team_id = qp.positive_int(params, "team_id")
    date_from, date_to, errors = qp.days(params)
    charts = []
    for measure in Measure:
        try:
            first, last = resolve_range(measure, date_from, date_to)
        except Invalid as exc:
            named = {e.field for e in errors}
            errors = [*errors, *(e for e in exc.errors if e.field not in named)]
            first, last = resolve_range(measure, None, None)

        def filters(first: date, last: date, measure: Measure = measure) -> Filters:
            handovers = measure is Measure.handovers_per_week
            return Filters(
                first, last, partner_id=partner_id if handovers else None, team_id=team_id
            )

        try:
            charts.append(chart(session, measure, filters(first, last)))
        except Invalid as exc:  # a period too long to chart: said, and the default drawn
            named = {e.field for e in errors}
            errors = [*errors, *(e for e in exc.errors if e.field not in named)]
            charts.append(chart(session, measure, filters(*resolve_range(measure, None, None))))
    reference = reference_data(session)
    return render(
        request,
        "measures/index.html",
        {
            "charts": charts,
            "errors": {e.field: e.message for e in errors},
            "error_list": [{"text": e.message, "href": f"#{e.field}"} for e in errors],
            "choices": {
                "partner_id": select_items(
                    [(p["id"], p["name"]) for p in reference["partners"]],
                    partner_id,
                    "All partners",
                ),
                "team_id": select_items(
                    [(t["id"], t["name"]) for t in reference["teams"]], team_id, "All teams"
                ),
            },
            "partners": reference["partners"],
            "equity": equity_counts(session, team_id),
            "date_from": params.get("from", ""),
            "date_to": params.get("to", ""),
        },
        status_code=422 if errors else 200,
    )


@page_router.get("/partners/{partner_id}")
def partner_pack(
    partner_id: int, request: Request, user: ManagerUser, session: SessionDep
) -> Response:
    """The review pack for one partner: counts, delays, the trend, anonymised notes; printable."""
    params = request.query_params
    today = utcnow().astimezone(LONDON).date()
    asked_from, asked_to, errors = qp.days(params)
    date_to = asked_to or today
    date_from = asked_from or date_to - timedelta(weeks=26) + timedelta(days=1)
    if date_from > date_to:
        if not errors:
            errors = [
                FieldError(field="from", message="The start date must be on or before the end date")
            ]
        date_from, date_to = date_to - timedelta(weeks=26) + timedelta(days=1), date_to
    pack = build_pack(session, partner_id, date_from, date_to)
    trend = chart(
        session,
        Measure.handovers_per_week,
        Filters(date_from, date_to, partner_id=partner_id),
        title=f"Handover notes per week: {pack.partner.name}",
    )
    return render(
        request,
        "measures/partner.html",
        {
            "pack": pack,
            "trend": trend,
            **error_context(errors),
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
        },
        status_code=422 if errors else 200,
    )
