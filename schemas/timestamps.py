"""Timestamps: stored as UTC on both databases, handed back timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_aware(value: datetime, default_zone: ZoneInfo = LONDON) -> datetime:
    """A naive time from a form is wall-clock time in London, where the crews are."""
    return value if value.tzinfo else value.replace(tzinfo=default_zone)


def london_time(value: datetime) -> datetime:
    """What a person in the trust reads: wall-clock time in London (BST or GMT)."""
    return as_aware(value).astimezone(LONDON)


def _storable_in_utc(value: datetime) -> datetime:
    # "0001-01-01T00:00+01:00" is a valid timestamp that falls before year 1 in UTC, where every
    # time is stored: refused here rather than overflowing on the way to the database (a 500).
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("datetime_out_of_range", "is out of range in UTC") from None
    return value


ClientTimestamp = Annotated[AwareDatetime, AfterValidator(_storable_in_utc)]
"""A time a client's clock gave, with its offset: any, as long as it can be stored."""


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite keeps no offset, so every value is converted to UTC going in and marked UTC coming out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # One step instead of two (this and SQLite's DATETIME formatting), for the sync path's
        # four timestamps per record; the text is the same as DATETIME writes
        # (tests/test_timestamps.py holds them equal).
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime reached the database")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    @staticmethod
    def read_back(value: datetime) -> datetime:
        """What an aware time stored in such a column reads back as: the same instant in UTC
        (microseconds kept on both databases; tests/api/test_create_answer.py)."""
        return value.astimezone(UTC)

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
