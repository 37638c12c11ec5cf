"""The numbers behind each measure (SPEC §8), read from the per-day summary and put into London
periods.

Counts come from `measure_day` (schemas/measures.py), which database triggers keep in the same
transaction as the records (migration 0008, docs/decisions/0008-measure-day-summary.md; on
PostgreSQL with the deltas not yet folded into it, api/measures/summary.py): a chart over
three years reads at most a few thousand small rows, never the notes. Time to first response is a
mean over the ideas received in the chart's weeks (a narrow, indexed read of two timestamps), since
an idea still waiting counts with its age at the moment of asking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import FromClause, func, select
from sqlmodel import Session

from api.measures.periods import (
    Period,
    london_day,
    next_start,
    period_start,
    periods_between,
    utc_bounds,
)
from api.measures.summary import fold_before_reading, measure_rows
from schemas.accounts import Partner
from schemas.ideas import Idea
from schemas.timestamps import utcnow


class Measure(StrEnum):
    handovers_per_week = "handovers-per-week"
    delay_minutes_per_week = "delay-minutes-per-week"
    ideas_submitted_per_month = "ideas-submitted-per-month"
    ideas_implemented_per_month = "ideas-implemented-per-month"
    first_response_hours_per_week = "first-response-hours-per-week"
    ideas_waiting_per_week = "ideas-waiting-per-week"
    good_practice_per_week = "good-practice-per-week"


@dataclass(frozen=True)
class MeasureInfo:
    title: str
    unit: str
    period: Period
    direction: str  # what improvement looks like: increase, decrease or neutral
    subject: str  # what the plain-words summary talks about ("Handover delays")
    kinds: tuple[str, ...]  # measure_day kinds it reads (its first day of data)
    by_partner: bool = False  # takes `partner_id`
    by_team: bool = False  # takes `team_id`
    non_negative: bool = True  # counts and durations: a lower limit below zero is drawn at zero


MEASURES: dict[Measure, MeasureInfo] = {
    Measure.handovers_per_week: MeasureInfo(
        "Handover concerns per week",
        "notes",
        Period.week,
        "neutral",
        "Handover concerns",
        ("handover_concern",),
        by_partner=True,
    ),
    Measure.delay_minutes_per_week: MeasureInfo(
        "Total handover delay per week",
        "minutes",
        Period.week,
        "decrease",
        "Handover delays",
        ("handover_concern",),
        by_partner=True,
    ),
    Measure.good_practice_per_week: MeasureInfo(
        "Good-practice handovers per week",
        "notes",
        Period.week,
        "increase",
        "Good-practice notes",
        ("handover_good_practice",),
        by_partner=True,
    ),
    Measure.ideas_submitted_per_month: MeasureInfo(
        "Ideas submitted per month",
        "ideas",
        Period.month,
        "increase",
        "Ideas submitted",
        ("idea_received",),
        by_team=True,
    ),
    Measure.ideas_implemented_per_month: MeasureInfo(
        "Ideas implemented per month",
        "ideas",
        Period.month,
        "increase",
        "Ideas implemented",
        ("idea_implemented",),
        by_team=True,
    ),
    Measure.first_response_hours_per_week: MeasureInfo(
        "Time to first response (mean hours, by week received; waiting ideas count their age)",
        "hours",
        Period.week,
        "decrease",
        "Time to first response",
        ("idea_received",),
        by_team=True,
    ),
    Measure.ideas_waiting_per_week: MeasureInfo(
        "Ideas waiting for a first response (at the end of each week)",
        "ideas",
        Period.week,
        "decrease",
        "Ideas waiting for a first response",
        ("idea_received",),
        by_team=True,
    ),
}


@dataclass(frozen=True)
class Filters:
    date_from: date
    date_to: date
    partner_id: int | None = None
    team_id: int | None = None


Value = int | Decimal | None


def partner_scope(session: Session, partner_id: int) -> list[int]:
    """An organisation and its sites (one level, `partner.parent_id`); a site is just itself."""
    children = session.execute(select(Partner.id).where(Partner.parent_id == partner_id)).scalars()
    return [partner_id, *(c for c in children if c is not None)]


def _summary_filters(
    session: Session, rows: FromClause, info: MeasureInfo, filters: Filters
) -> list[Any]:
    where: list[Any] = [rows.c.kind.in_(info.kinds)]
    if info.by_partner and filters.partner_id:
        where.append(rows.c.partner_id.in_(partner_scope(session, filters.partner_id)))
    if info.by_team and filters.team_id:
        where.append(rows.c.team_id == filters.team_id)
    return where


def first_day(session: Session, measure: Measure, filters: Filters) -> date | None:
    """The first London day holding data for this measure and filter (None: no data at all)."""
    info = MEASURES[measure]
    fold_before_reading(session)
    rows = measure_rows(session)
    where = _summary_filters(session, rows, info, filters)
    # Summed by day: on PostgreSQL a day's count may still be spread over deltas (a note added
    # and one taken away are two rows whose sum is nothing).
    return session.execute(
        select(rows.c.day)
        .where(*where)
        .group_by(rows.c.day)
        .having(func.sum(rows.c.n) != 0)
        .order_by(rows.c.day)
        .limit(1)
    ).scalar()


def _daily(
    session: Session, kind: str, info: MeasureInfo, filters: Filters, first: date, last: date
) -> list[tuple[date, int, int]]:
    fold_before_reading(session)
    rows = measure_rows(session)
    where = _summary_filters(session, rows, info, filters)
    where[0] = rows.c.kind == kind
    statement = (
        select(rows.c.day, func.sum(rows.c.n), func.sum(rows.c.total))
        .where(*where, rows.c.day >= first, rows.c.day <= last)
        .group_by(rows.c.day)
    )
    return [(day, int(n or 0), int(total or 0)) for day, n, total in session.execute(statement)]


def _by_period(rows: Iterable[tuple[date, int]], period: Period) -> dict[date, int]:
    sums: dict[date, int] = defaultdict(int)
    for day, amount in rows:
        sums[period_start(day, period)] += amount
    return sums


def values(session: Session, measure: Measure, filters: Filters) -> list[tuple[date, Value]]:
    """(period start, value) for every period in the range: an empty period is 0 for a count, and
    None (no point) for time to first response in a week when no idea arrived."""
    info = MEASURES[measure]
    periods = list(periods_between(filters.date_from, filters.date_to, info.period))
    if not periods:
        return []
    first, last = periods[0], next_start(periods[-1], info.period) - timedelta(days=1)
    if measure is Measure.first_response_hours_per_week:
        return _first_response(session, filters, periods)
    if measure is Measure.ideas_waiting_per_week:
        return _waiting(session, info, filters, periods, last)
    rows = _daily(session, info.kinds[0], info, filters, first, last)
    use_total = measure is Measure.delay_minutes_per_week
    sums = _by_period(((day, total if use_total else n) for day, n, total in rows), info.period)
    return [(p, sums.get(p, 0)) for p in periods]


def _waiting(
    session: Session, info: MeasureInfo, filters: Filters, periods: list[date], last: date
) -> list[tuple[date, Value]]:
    """Ideas received by the end of each week and not yet answered then: everything received up to
    that day less everything first answered up to it (a running total from the first day)."""
    received = _daily(session, "idea_received", info, filters, date.min, last)
    responded = _daily(session, "idea_responded", info, filters, date.min, last)
    change: dict[date, int] = defaultdict(int)
    for day, n, _ in received:
        change[day] += n
    for day, n, _ in responded:
        change[day] -= n
    out: list[tuple[date, Value]] = []
    days = sorted(change)
    running, i = 0, 0
    for p in periods:
        week_end = p + timedelta(days=6)
        while i < len(days) and days[i] <= week_end:
            running += change[days[i]]
            i += 1
        out.append((p, running))
    return out


def _first_response(
    session: Session, filters: Filters, periods: list[date]
) -> list[tuple[date, Value]]:
    """SPEC §8: the mean hours to first response of the ideas received each week; an idea still
    waiting counts with its age so far; a week with no idea has no point (None)."""
    start, end = utc_bounds(periods[0], periods[-1], Period.week)
    statement = select(Idea.received_at, Idea.first_response_at).where(
        Idea.received_at >= start, Idea.received_at < end
    )
    if filters.team_id:
        statement = statement.where(Idea.team_id == filters.team_id)
    now = utcnow()
    seconds: dict[date, list[float]] = defaultdict(list)
    for received, responded in session.execute(statement):
        received = _as_utc(received)
        answered = _as_utc(responded) if responded is not None else now
        week = period_start(london_day(received), Period.week)
        seconds[week].append(max((answered - received).total_seconds(), 0.0))
    out: list[tuple[date, Value]] = []
    for p in periods:
        ages = seconds.get(p)
        if not ages:
            out.append((p, None))
        else:
            mean_hours = Decimal(sum(ages) / len(ages) / 3600)
            out.append((p, mean_hours.quantize(Decimal("0.01"))))
    return out


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
