"""Periods for the measures: ISO weeks (starting Monday) and calendar months, in Europe/London."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from schemas.timestamps import LONDON


class Period(StrEnum):
    week = "week"
    month = "month"


def period_start(day: date, period: Period) -> date:
    if period is Period.week:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_start(start: date, period: Period) -> date:
    if period is Period.week:
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def periods_between(first: date, last: date, period: Period) -> Iterator[date]:
    """Every period touching [first, last], so an empty period is a point (value 0), not a gap."""
    start = period_start(first, period)
    end = period_start(last, period)
    while start <= end:
        yield start
        start = next_start(start, period)


def london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def utc_bounds(first: date, last: date, period: Period) -> tuple[datetime, datetime]:
    """The UTC instants from the start of the first period to the end of the last, London time."""
    start = datetime.combine(period_start(first, period), time.min, LONDON)
    end = datetime.combine(next_start(period_start(last, period), period), time.min, LONDON)
    return start.astimezone(UTC), end.astimezone(UTC)


def default_range(period: Period, today: date, count: int | None = None) -> tuple[date, date]:
    """The last 52 weeks or 24 months up to today."""
    if period is Period.week:
        return today - timedelta(weeks=(count or 52) - 1), today
    months = (count or 24) - 1
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(year, month + 1, 1), today
