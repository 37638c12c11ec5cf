"""A measure as charts and JSON: its numbers (series.py) through the SPC engine (spc.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup
from sqlmodel import Session

from api.errors import Invalid
from api.measures.charts import data_table, summary_text, xmr_svg
from api.measures.periods import default_range
from api.measures.series import MEASURES, Filters, Measure, values
from api.measures.spc import SpcResult, xmr
from schemas.field_errors import FieldError
from schemas.timestamps import LONDON, utcnow

MAX_POINTS = 400  # about eight years of weeks: beyond that a chart stops being readable


@dataclass(frozen=True)
class Chart:
    measure: Measure
    title: str
    result: SpcResult
    svg: Markup
    table: Markup
    summary: str


def resolve_range(
    measure: Measure, date_from: date | None, date_to: date | None
) -> tuple[date, date]:
    today = utcnow().astimezone(LONDON).date()
    first, last = default_range(MEASURES[measure].period, today)
    first, last = date_from or first, date_to or last
    if first > last:
        raise Invalid(
            [FieldError(field="from", message="The start date must be on or before the end date")]
        )
    return first, last


def compute(session: Session, measure: Measure, filters: Filters) -> SpcResult:
    points = values(session, measure, filters)
    if len(points) > MAX_POINTS:
        raise Invalid(
            [
                FieldError(
                    field="from", message=f"Choose a shorter period (at most {MAX_POINTS} points)"
                )
            ]
        )
    return xmr(points, direction=MEASURES[measure].direction)


def as_json(measure: Measure, result: SpcResult) -> dict[str, Any]:
    """SPEC §8: {"measure", "period", "points": [...], "assurance"} (plus the icon and trial flag)."""
    return {"measure": measure.value, "period": MEASURES[measure].period.value, **result.as_json()}


def chart(
    session: Session, measure: Measure, filters: Filters, *, title: str | None = None
) -> Chart:
    info = MEASURES[measure]
    result = compute(session, measure, filters)
    heading = title or info.title
    return Chart(
        measure=measure,
        title=heading,
        result=result,
        svg=xmr_svg(
            result,
            title=heading,
            y_label=info.unit.capitalize(),
            unit=info.unit,
            period=info.period.value,
            chart_id=f"chart-{measure.value}",
        ),
        table=data_table(result, caption=heading, unit=info.unit, period=info.period.value),
        summary=summary_text(result, unit=info.unit, period=info.period.value),
    )
