"""The SQLite fast path for timestamps writes exactly what SQLAlchemy's own two steps would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from schemas.timestamps import UTCDateTime

pytestmark = pytest.mark.no_database  # pure code (tests/conftest.py)

DIALECT = sqlite.dialect()
FAST = UTCDateTime().bind_processor(DIALECT)
SQLITE_DATETIME = DateTime().dialect_impl(DIALECT).bind_processor(DIALECT)

aware = st.builds(
    lambda naive, minutes: naive.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)


@given(aware)
def test_the_fast_path_writes_what_sqlalchemy_writes(value: datetime) -> None:
    two_steps = SQLITE_DATETIME(UTCDateTime().process_bind_param(value, DIALECT))
    assert FAST(value) == two_steps


def test_whole_seconds_keep_their_microseconds() -> None:
    assert FAST(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "2026-03-29 01:00:00.000000"


def test_none_and_naive() -> None:
    assert FAST(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        FAST(datetime(2026, 1, 1))
