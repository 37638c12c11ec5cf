"""The numbers behind each measure (SPEC §8), counted in the database and put into London periods.

Rows are grouped by the UTC hour in SQL (an hour maps to exactly one London hour, whatever the
season), so only a few thousand small rows come back for years of data, and the period a record
falls in is decided in London time in one place (periods.py)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlmodel import Session

from api.measures.periods import Period, london_day, period_start, periods_between, utc_bounds
from schemas.audit import AuditEvent
from schemas.enums import IdeaStatus
from schemas.handovers import Handover
from schemas.ideas import Idea


class Measure(StrEnum):
    handovers_per_week = "handovers-per-week"
    delay_minutes_per_week = "delay-minutes-per-week"
    ideas_submitted_per_month = "ideas-submitted-per-month"
    ideas_implemented_per_month = "ideas-implemented-per-month"
    first_response_hours_per_week = "first-response-hours-per-week"


@dataclass(frozen=True)
class MeasureInfo:
    title: str
    unit: str
    period: Period
    direction: str  # what improvement looks like: increase, decrease or neutral


MEASURES: dict[Measure, MeasureInfo] = {
    Measure.handovers_per_week: MeasureInfo(
        "Handover notes per week", "notes", Period.week, "neutral"
    ),
    Measure.delay_minutes_per_week: MeasureInfo(
        "Total handover delay per week", "minutes", Period.week, "decrease"
    ),
    Measure.ideas_submitted_per_month: MeasureInfo(
        "Ideas submitted per month", "ideas", Period.month, "increase"
    ),
    Measure.ideas_implemented_per_month: MeasureInfo(
        "Ideas implemented per month", "ideas", Period.month, "increase"
    ),
    Measure.first_response_hours_per_week: MeasureInfo(
        "Time to first response (median hours, by week received)", "hours", Period.week, "decrease"
    ),
}


@dataclass(frozen=True)
class Filters:
    date_from: date
    date_to: date
    partner_id: int | None = None
    team_id: int | None = None


def _hour(session: Session, column: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bucket(
    rows: Any, period: Period, combine: Callable[[list[float]], float]
) -> dict[date, float]:
    grouped: dict[date, list[float]] = defaultdict(list)
    for hour, value in rows:
        grouped[period_start(london_day(_as_utc(hour)), period)].append(float(value or 0))
    return {start: combine(values) for start, values in grouped.items()}


def values(session: Session, measure: Measure, filters: Filters) -> list[tuple[date, float]]:
    """(period start, value) for every period in the range, zeros included."""
    info = MEASURES[measure]
    start, end = utc_bounds(filters.date_from, filters.date_to, info.period)
    if measure in (Measure.handovers_per_week, Measure.delay_minutes_per_week):
        hour = _hour(session, Handover.occurred_at).label("hour")
        amount = (
            func.count()
            if measure is Measure.handovers_per_week
            else func.coalesce(func.sum(Handover.delay_minutes), 0)
        )
        statement = select(hour, amount).where(
            Handover.occurred_at >= start, Handover.occurred_at < end
        )
        if filters.partner_id:
            statement = statement.where(Handover.partner_id == filters.partner_id)
        by_period = _bucket(
            session.execute(statement.group_by(literal_column("hour"))), info.period, sum
        )
    elif measure is Measure.ideas_submitted_per_month:
        hour = _hour(session, Idea.received_at).label("hour")
        statement = select(hour, func.count()).where(
            Idea.received_at >= start, Idea.received_at < end
        )
        if filters.team_id:
            statement = statement.where(Idea.team_id == filters.team_id)
        by_period = _bucket(
            session.execute(statement.group_by(literal_column("hour"))), info.period, sum
        )
    elif measure is Measure.ideas_implemented_per_month:
        hour = _hour(session, AuditEvent.at).label("hour")
        statement = select(hour, func.count()).where(
            AuditEvent.record_kind == "idea",
            AuditEvent.action == "transition",
            AuditEvent.to_status == IdeaStatus.implemented.value,
            AuditEvent.at >= start,
            AuditEvent.at < end,
        )
        if filters.team_id:
            statement = statement.join(Idea, Idea.id == AuditEvent.record_id).where(
                Idea.team_id == filters.team_id
            )  # type: ignore[arg-type]
        by_period = _bucket(
            session.execute(statement.group_by(literal_column("hour"))), info.period, sum
        )
    else:
        statement = select(Idea.received_at, Idea.first_response_at).where(
            Idea.received_at >= start,
            Idea.received_at < end,
            Idea.first_response_at.is_not(None),  # type: ignore[union-attr]
        )
        if filters.team_id:
            statement = statement.where(Idea.team_id == filters.team_id)
        hours: dict[date, list[float]] = defaultdict(list)
        for received, responded in session.execute(statement):
            week = period_start(london_day(_as_utc(received)), Period.week)
            hours[week].append((_as_utc(responded) - _as_utc(received)).total_seconds() / 3600)
        by_period = {week: statistics.median(v) for week, v in hours.items()}
    return [
        (p, round(by_period.get(p, 0.0), 2))
        for p in periods_between(filters.date_from, filters.date_to, info.period)
    ]
