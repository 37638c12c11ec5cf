"""Small pieces the list filters share: safe LIKE patterns and London-day date ranges."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from schemas.timestamps import LONDON


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
