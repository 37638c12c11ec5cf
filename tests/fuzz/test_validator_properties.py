"""Property tests (Hypothesis) for the small parsers in front of the database: the If-Match
version (api/concurrency.py) and the list cursor (api/pagination.py). Whatever a client sends,
the answer is a value or the one clear refusal (a 422 naming the field, or a 428), never another
exception (a 500); and what the server hands out reads back as itself."""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.concurrency import PreconditionRequired, etag, parse_if_match
from api.errors import Invalid
from api.pagination import Sort, decode_cursor, encode_cursor

pytestmark = pytest.mark.no_database  # pure code (tests/conftest.py)

PROPERTY = settings(
    max_examples=int(os.environ.get("FRONTLINE_PROPERTY_EXAMPLES", "40")) * 5,
    derandomize=True,
    database=None,
    deadline=None,
)

# Digits int() cannot read ("²"), digits it can ("٣"), and what a header may carry.
AWKWARD = st.sampled_from(["²", "٣", "¹⁰", "W/", '"', " ", "-", "+", "0x1", "1_0", "\x00", "é"])
HEADER_TEXT = st.lists(st.text(max_size=4) | AWKWARD | st.integers(0, 99).map(str)).map("".join)


@PROPERTY
@given(version=st.integers(0, 10**15), weak=st.booleans())
def test_a_records_etag_reads_back_as_its_version(version: int, weak: bool) -> None:
    header = ("W/" if weak else "") + etag(version)
    assert parse_if_match(header, required=True) == version


@PROPERTY
@given(header=st.none() | HEADER_TEXT, required=st.booleans())
def test_any_if_match_is_a_version_or_a_clear_refusal(header: str | None, required: bool) -> None:
    blank = header is None or not header.strip()
    try:
        version = parse_if_match(header, required=required)
    except PreconditionRequired:
        assert required and blank
    except Invalid as refusal:
        assert not blank
        assert [e.field for e in refusal.errors] == ["If-Match"]
    else:
        assert (version is None) == blank
        assert version is None or version >= 0


# Stored times come back in UTC; a cursor made from one may be read in any offset.
stored_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@PROPERTY
@given(sort=st.sampled_from(Sort), when=stored_times, record_id=st.uuids())
def test_a_cursor_reads_back_as_the_position_it_was_made_at(
    sort: Sort, when: datetime, record_id: uuid.UUID
) -> None:
    assert decode_cursor(encode_cursor(sort, when, record_id), sort) == (when, record_id)


def _cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
any_times = st.datetimes(timezones=st.none() | offsets).map(datetime.isoformat)
cursor_parts = st.one_of(
    st.sampled_from([s.value for s in Sort]),
    any_times,
    st.uuids().map(str),
    st.text(max_size=8),
    st.integers(),
    st.floats(allow_nan=False),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
forged_cursors = st.one_of(
    st.text(max_size=200),
    st.lists(cursor_parts, max_size=4).map(_cursor_of),
    st.tuples(st.sampled_from([s.value for s in Sort]), any_times, st.uuids().map(str))
    .map(list)
    .map(_cursor_of),
    st.dictionaries(st.text(max_size=3), cursor_parts, max_size=3).map(_cursor_of),
)


@PROPERTY
@given(cursor=forged_cursors, sort=st.sampled_from(Sort))
def test_any_cursor_is_a_position_in_utc_or_a_422(cursor: str, sort: Sort) -> None:
    try:
        when, record_id = decode_cursor(cursor, sort)
    except Invalid as refusal:
        assert [e.field for e in refusal.errors] == ["cursor"]
    else:
        # What the query compares with stored UTC times: an instant that exists in UTC.
        assert when.tzinfo is not None
        assert when.astimezone(UTC).tzinfo is UTC
        assert isinstance(record_id, uuid.UUID)
