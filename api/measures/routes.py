"""Measures for managers: `/measures` (charts), `/api/v1/measures/{measure}` (the same data as JSON),
and the partnership review pack `/partners/{id}`."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.auth.identity import ManagerUser
from api.db import SessionDep
from api.errors import Invalid, error_responses
from api.filtering import FilterDay
from api.forms import FormDep, error_context
from api.measures.equity import equity_counts
from api.measures.partner_pack import build_pack, pack_period, trend_filters
from api.measures.series import MEASURES, Filters, Measure
from api.measures.service import chart, chart_words, resolve_range
from api.measures.settings import add_event, add_pdsa, pdsa_choices, remove_event, save_setting
from api.reference.service import reference_data
from api.templating import render
from api.triage import query_params as qp
from api.triage.service import select_items
from schemas.field_errors import FieldError, field_errors
from schemas.free_text import MAX_RECORD_ID
from schemas.measures import ChartEventIn, ChartPdsaIn, ChartSettingIn

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
        int | None,
        Query(
            gt=0,
            le=MAX_RECORD_ID,
            description="the handover measures: an organisation and its sites",
        ),
    ] = None,
    team_id: Annotated[
        int | None, Query(gt=0, le=MAX_RECORD_ID, description="the idea measures only")
    ] = None,
) -> dict[str, Any]:
    """Points with mean, process limits, special-cause flags and rules, and the series' assurance;
    then the manager's target, baseline and marks ("annotations") and a plain-words "summary".
    Periods are ISO weeks (Monday) or calendar months in London time; an empty period is 0 (null
    for time to first response in a week with no ideas). Without `from`, the chart starts at the
    first period holding the trust's data (at most 52 weeks or 24 months back), whatever the
    filter."""
    info = MEASURES[measure]
    scope = Filters(
        date.min,
        date.max,
        partner_id=partner_id if info.by_partner else None,
        team_id=team_id if info.by_team else None,
    )
    first, last = resolve_range(session, measure, date_from, date_to)
    filters = Filters(first, last, partner_id=scope.partner_id, team_id=scope.team_id)
    return chart_words(session, measure, filters)


@page_router.get("/measures")
def measures_page(request: Request, user: ManagerUser, session: SessionDep) -> Response:
    return _measures_page(request, session)


def _measures_page(request: Request, session: Session) -> Response:
    params = request.query_params
    partner_id = qp.positive_int(params, "partner_id")
    team_id = qp.positive_int(params, "team_id")
    date_from, date_to, errors = qp.days(params)
    charts = []
    for measure in Measure:  # data-driven: a new Measure is a new chart here
        info = MEASURES[measure]
        scope = Filters(
            date.min,
            date.max,
            partner_id=partner_id if info.by_partner else None,
            team_id=team_id if info.by_team else None,
        )
        try:
            first, last = resolve_range(session, measure, date_from, date_to)
        except Invalid as exc:
            named = {e.field for e in errors}
            errors = [*errors, *(e for e in exc.errors if e.field not in named)]
            first, last = resolve_range(session, measure, None, None)
        filters = Filters(first, last, partner_id=scope.partner_id, team_id=scope.team_id)
        charts.append(chart(session, measure, filters))
    reference = reference_data(session)
    return render(
        request,
        "measures/index.html",
        {
            "charts": charts,
            "errors": {e.field: e.message for e in errors},
            "error_list": [{"text": e.message, "href": f"#{e.field}"} for e in errors],
            "partner_id": partner_id,
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


@page_router.get("/measures/{measure}/shape")
def shape_page(
    measure: Measure, request: Request, user: ManagerUser, session: SessionDep
) -> Response:
    """One chart with the forms that shape it: target, baseline, changes, notes, PDSA cycles."""
    return _shape_page(
        request, session, measure, qp.positive_int(request.query_params, "partner_id")
    )


def _shape_page(
    request: Request,
    session: Session,
    measure: Measure,
    partner_id: int | None,
    form_errors: list[FieldError] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    info = MEASURES[measure]
    partner_id = partner_id if info.by_partner else None
    first, last = resolve_range(session, measure, None, None)
    shown = chart(session, measure, Filters(first, last, partner_id=partner_id))
    shaped = form_errors or []
    partner_name = ""
    if partner_id:
        partner_name = next(
            (p["name"] for p in reference_data(session)["partners"] if p["id"] == partner_id), ""
        )
    return render(
        request,
        "measures/shape.html",
        {
            "c": shown,
            "partner_name": partner_name,
            "errors": {e.field: e.message for e in shaped},
            "error_list": [{"text": e.message, "href": f"#{e.field}"} for e in shaped],
            "values": values or {},
            "pdsa_cycles": select_items(
                pdsa_choices(session), (values or {}).get("pdsa_cycle_id"), "Choose a PDSA cycle"
            ),
        },
        status_code=status_code,
    )


def _back(measure: Measure, partner_id: int | None) -> RedirectResponse:
    query = f"?partner_id={partner_id}" if partner_id else ""
    return RedirectResponse(f"/measures/{measure.value}/shape{query}", status_code=303)


def _form_partner(form: Any) -> int | None:
    raw = str(form.get("partner_id", "") or "")
    return int(raw) if raw.isdecimal() and 0 < int(raw) <= MAX_RECORD_ID else None


@page_router.post("/measures/{measure}/settings")
def save_chart_settings(
    measure: Measure, request: Request, user: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    """A chart's target and baseline (the baseline's limits are fixed; later points judged by them)."""
    values = {k: str(form.get(k, "")).strip() or None for k in ("target", "baseline_to")}
    try:
        body = ChartSettingIn.model_validate(values)
    except ValidationError as exc:
        return _shape_page(
            request, session, measure, _form_partner(form), field_errors(exc), values, 422
        )
    save_setting(session, user, measure.value, _form_partner(form), body)
    return _back(measure, _form_partner(form))


@page_router.post("/measures/{measure}/events")
def add_chart_event(
    measure: Measure, request: Request, user: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    """Mark the chart: a change (limits recalculated from that period, with the reason) or a note."""
    values = {k: str(form.get(k, "")) for k in ("kind", "day", "text")}
    missing = [
        FieldError(field=field, message=message)
        for field, message in (
            ("kind", "Select a change of limits or a note"),
            ("day", "Enter the date it marks"),
        )
        if not values[field].strip()
    ]
    if missing:
        return _shape_page(request, session, measure, _form_partner(form), missing, values, 422)
    try:
        body = ChartEventIn.model_validate(
            {k: (v or None) if k != "text" else v for k, v in values.items()}
        )
    except ValidationError as exc:
        return _shape_page(
            request, session, measure, _form_partner(form), field_errors(exc), values, 422
        )
    add_event(session, user, measure.value, _form_partner(form), body)
    return _back(measure, _form_partner(form))


@page_router.post("/measures/{measure}/pdsa")
def add_chart_pdsa(
    measure: Measure, request: Request, user: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    """Mark a PDSA cycle on the chart whose measure it tests."""
    try:
        body = ChartPdsaIn.model_validate({"pdsa_cycle_id": form.get("pdsa_cycle_id") or None})
        add_pdsa(session, user, measure.value, _form_partner(form), body.pdsa_cycle_id)
    except ValidationError:
        missing = [FieldError(field="pdsa_cycle_id", message="Choose a PDSA cycle")]
        return _shape_page(request, session, measure, _form_partner(form), missing, {}, 422)
    except Invalid as exc:
        return _shape_page(request, session, measure, _form_partner(form), exc.errors, {}, 422)
    return _back(measure, _form_partner(form))


@page_router.post("/measures/{measure}/events/{event_id}/delete")
def delete_chart_event(
    measure: Measure,
    event_id: uuid.UUID,
    request: Request,
    user: ManagerUser,
    session: SessionDep,
    form: FormDep,
) -> Response:
    remove_event(session, user, measure.value, event_id)
    return _back(measure, _form_partner(form))


@page_router.get("/partners/{partner_id}")
def partner_pack(
    partner_id: int, request: Request, user: ManagerUser, session: SessionDep
) -> Response:
    """The review pack for one partner: counts, delays, the trend, anonymised notes; printable."""
    date_from, date_to, errors = pack_period(request.query_params)
    pack = build_pack(session, partner_id, date_from, date_to)
    trend = chart(
        session,
        Measure.handovers_per_week,
        trend_filters(session, partner_id, date_from, date_to),
        title=f"Handover concerns per week: {pack.partner.name}",
        where=f"at {pack.partner.name}",
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
