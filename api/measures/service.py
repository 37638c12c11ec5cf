"""A measure as charts and JSON: its numbers (series.py), what managers set on it (settings.py),
through the SPC engine (spc.py), drawn (charts.py) and told in words (narrative.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup
from sqlmodel import Session

from api.errors import Invalid
from api.measures.charts import data_table, summary_text, xmr_svg
from api.measures.narrative import headline
from api.measures.periods import default_range, period_start
from api.measures.series import MEASURES, Filters, Measure, first_day, values
from api.measures.settings import ChartShape, shape_of
from api.measures.spc import SpcResult, xmr
from schemas.field_errors import FieldError
from schemas.measures import ChartEvent
from schemas.timestamps import LONDON, utcnow

MAX_POINTS = 400  # about eight years of weeks: beyond that a chart stops being readable


@dataclass(frozen=True)
class Annotation:
    """A mark on a chart: a change of limits (with its reason) or a note on a point."""

    number: int
    kind: str  # "change", "note" or "pdsa"
    start: date  # the period it marks
    day: date
    text: str
    id: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "day": self.day.isoformat(),
            "text": self.text,
        }


@dataclass(frozen=True)
class Chart:
    measure: Measure
    title: str
    result: SpcResult
    svg: Markup
    table: Markup
    summary: str  # the full description (the SVG's <desc>)
    headline: str = ""  # one or two plain sentences
    annotations: list[Annotation] = field(default_factory=list)
    shape: ChartShape = field(default_factory=ChartShape)
    partner_id: int | None = None
    unit: str = ""


def resolve_range(
    session: Session | None,
    measure: Measure,
    date_from: date | None,
    date_to: date | None,
) -> tuple[date, date]:
    """`from`/`to` as given; without `from`, the first period holding data (at most 52 weeks or 24
    months back), so the months before a trust used Frontline are neither zeros nor signals.

    The trust's data, whatever the chart's filter: a partner's (or team's) weeks with nothing since
    the trust began are real zeros, and a partner's chart here draws the same series, mean and
    limits as its review pack (partner_pack.trend_filters)."""
    today = utcnow().astimezone(LONDON).date()
    period = MEASURES[measure].period
    earliest, last = default_range(period, date_to or today)
    last = date_to or last
    first = date_from
    if first is None:
        first = earliest
        if session is not None:
            data_from = first_day(session, measure, Filters(earliest, last))
            first = max(earliest, data_from) if data_from else last
            first = min(first, last)
    if first > last:
        raise Invalid(
            [FieldError(field="from", message="The start date must be on or before the end date")]
        )
    return first, last


def _index_of(starts: list[date], day: date, period: Any) -> int | None:
    target = period_start(day, period)
    return starts.index(target) if target in starts else None


def compute(
    session: Session, measure: Measure, filters: Filters, shape: ChartShape | None = None
) -> tuple[SpcResult, list[Annotation]]:
    info = MEASURES[measure]
    # Periods that have not begun (a `to` in the future) have no records yet, not zero of them;
    # the period under way is drawn as it stands, never judged as a whole one.
    this_period = period_start(utcnow().astimezone(LONDON).date(), info.period)
    points = [point for point in values(session, measure, filters) if point[0] <= this_period]
    if len(points) > MAX_POINTS:
        raise Invalid(
            [
                FieldError(
                    field="from", message=f"Choose a shorter period (at most {MAX_POINTS} points)"
                )
            ]
        )
    shape = shape or shape_of(session, measure.value, filters.partner_id)
    starts = [start for start, _ in points]
    rebase_at: list[int] = []
    annotations: list[Annotation] = []
    for event in shape.events:
        index = _index_of(starts, event.day, info.period)
        if index is None:
            continue
        if event.kind == "change" and index > 0:
            rebase_at.append(index)
        annotations.append(_annotation(len(annotations) + 1, event, starts[index]))
    baseline = None
    if shape.baseline_to is not None:
        end = _index_of(starts, shape.baseline_to, info.period)
        if end is None and starts and shape.baseline_to >= starts[-1]:
            end = len(starts) - 1
        first_rebase = min(rebase_at, default=len(starts))
        if end is not None and end + 1 >= 2 and end < first_rebase:
            baseline = end + 1
    result = xmr(
        points,
        direction=info.direction,
        target=shape.target,  # type: ignore[arg-type]
        rebase_at=sorted(set(rebase_at)),
        baseline_points=baseline,
        non_negative=info.non_negative,
        partial_last=bool(starts) and starts[-1] == this_period,
    )
    return result, annotations


def _annotation(number: int, event: ChartEvent, start: date) -> Annotation:
    return Annotation(
        number=number,
        kind=event.kind,
        start=start,
        day=event.day,
        text=event.text,
        id=str(event.id),
    )


def as_json(
    measure: Measure,
    result: SpcResult,
    annotations: list[Annotation] | None = None,
    shape: ChartShape | None = None,
    words: str = "",
) -> dict[str, Any]:
    """SPEC §8: {"measure", "period", "points": [...], "assurance"} exactly, then what a manager set
    and the plain-words summary: "target", "baseline_to", "annotations", "summary"."""
    shape = shape or ChartShape()
    return {
        "measure": measure.value,
        "period": MEASURES[measure].period.value,
        **result.as_json(),
        "target": result.target,
        "baseline_to": shape.baseline_to.isoformat() if shape.baseline_to else None,
        "annotations": [a.as_json() for a in annotations or []],
        "summary": words,
    }


def chart(
    session: Session,
    measure: Measure,
    filters: Filters,
    *,
    title: str | None = None,
    where: str = "",
) -> Chart:
    info = MEASURES[measure]
    shape = shape_of(session, measure.value, filters.partner_id)
    result, annotations = compute(session, measure, filters, shape)
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
            annotations=[
                (a.number, starts_index(result, a.start), a.kind, a.text) for a in annotations
            ],
        ),
        table=data_table(result, caption=heading, unit=info.unit, period=info.period.value),
        summary=summary_text(result, unit=info.unit, period=info.period.value),
        headline=headline(result, subject=info.subject, where=where, period=info.period.value),
        annotations=annotations,
        shape=shape,
        partner_id=filters.partner_id,
        unit=info.unit,
    )


def starts_index(result: SpcResult, start: date) -> int:
    return next(i for i, p in enumerate(result.points) if p.start == start)


def chart_words(session: Session, measure: Measure, filters: Filters) -> dict[str, Any]:
    """The JSON twin of one chart."""
    info = MEASURES[measure]
    shape = shape_of(session, measure.value, filters.partner_id)
    result, annotations = compute(session, measure, filters, shape)
    words = headline(result, subject=info.subject, period=info.period.value)
    return as_json(measure, result, annotations, shape, words)
