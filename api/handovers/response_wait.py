"""The one rule for when a partner's answer is overdue (SPEC §4): a note raised with the partner and
not answered within 10 working days (Monday to Friday, less England's bank holidays, counted in
London time from the day after it was raised) is flagged to the trust and to the partner."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

WORKING_DAYS_TO_RESPOND = 10
LONDON = ZoneInfo("Europe/London")


@lru_cache(maxsize=32)
def _bank_holidays(year: int) -> frozenset[date]:
    import holidays  # a large package, loaded the first time a wait is counted, not at start

    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def response_due(raised_at: datetime) -> date:
    """The last working day on which an answer is still in time."""
    day = raised_at.astimezone(LONDON).date()
    counted = 0
    while counted < WORKING_DAYS_TO_RESPOND:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def response_overdue(
    raised_at: datetime | None, answered_at: datetime | None, now: datetime
) -> bool:
    """Raised, still unanswered, and the due day has passed (in London)."""
    if raised_at is None or answered_at is not None:
        return False
    return now.astimezone(LONDON).date() > response_due(raised_at)
