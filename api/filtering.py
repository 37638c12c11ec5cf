"""Small pieces the list filters share: safe LIKE patterns, the dates a filter may name, and
London-day date ranges."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from schemas.field_errors import DAY_RANGE, FieldError, label_for
from schemas.timestamps import LONDON

# Frontline holds nothing from before 2000 (SPEC: "after 1 January 2000") and a day past 9999 is
# not a date at all: `to=9999-12-31` was a 500 on lists, pages and measures and cut a CSV export
# short. Every date filter is held to these bounds, refused with the field named.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def day_in_range(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def _checked_day(day: date) -> date:
    if not day_in_range(day):
        raise PydanticCustomError("date_out_of_range", "is outside the dates Frontline holds")
    return day


FilterDay = Annotated[date, AfterValidator(_checked_day)]
"""A date query parameter (`from`, `to`): 422 naming it when out of range."""


def day_out_of_range(field: str) -> FieldError:
    """The same refusal for a page's filter form, shown in its error summary."""
    return FieldError(field=field, message=f"{label_for(field)} {DAY_RANGE}")


def like_pattern(text: str) -> str:
    """A case-insensitive substring pattern with the user's % and _ taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def london_day_range(
    date_from: date | None, date_to: date | None
) -> tuple[datetime | None, datetime | None]:
    """[start of date_from, start of the day after date_to) in London time; either end may be open."""
    start = datetime.combine(date_from, time.min, LONDON) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time.min, LONDON) if date_to else None
    return start, end
