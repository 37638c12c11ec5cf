"""Keyset (cursor) pagination: stable under inserts, fast at any depth. A cursor carries the sort it
was made for, the last row's sort value and id."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, or_

from api.errors import Invalid
from schemas.field_errors import FieldError

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class Sort(StrEnum):
    newest = "newest"  # received_at, newest first
    oldest = "oldest"  # received_at, oldest first
    updated = "updated"  # updated_at, most recently changed first


_COLUMN = {Sort.newest: "received_at", Sort.oldest: "received_at", Sort.updated: "updated_at"}
_DESCENDING = {Sort.newest: True, Sort.oldest: False, Sort.updated: True}


def encode_cursor(sort: Sort, value: datetime, record_id: uuid.UUID) -> str:
    raw = json.dumps([sort.value, value.isoformat(), str(record_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[datetime, uuid.UUID]:
    """The cursor's position, or a 422: a cursor is opaque, but anyone can send anything."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        made_for, stamp, record_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if made_for != sort.value:
            raise ValueError("cursor made for another sort")
        if not isinstance(stamp, str) or not isinstance(record_id, str):
            raise TypeError("not a cursor made here")
        value = datetime.fromisoformat(stamp)
        # Compared with stored UTC times: it must have an offset and exist in UTC.
        if value.tzinfo is None:
            raise ValueError("cursor time without an offset")
        value.astimezone(UTC)
        return value, uuid.UUID(record_id)
    except (ValueError, TypeError, OverflowError) as exc:
        raise Invalid([FieldError(field="cursor", message="cursor is not valid")]) from exc


def page_after(
    statement: Select[Any], table: Any, cursor: str | None, limit: int, sort: Sort = Sort.newest
) -> Select[Any]:
    """Rows after the cursor in the sort's order; one more than asked, to know whether a page follows."""
    column = getattr(table, _COLUMN[sort])
    descending = _DESCENDING[sort]
    if cursor:
        value, record_id = decode_cursor(cursor, sort)
        if descending:
            after = or_(column < value, and_(column == value, table.id < record_id))
        else:
            after = or_(column > value, and_(column == value, table.id > record_id))
        statement = statement.where(after)
    if descending:
        return statement.order_by(column.desc(), table.id.desc()).limit(limit + 1)
    return statement.order_by(column.asc(), table.id.asc()).limit(limit + 1)


def split_page(
    rows: list[Any], limit: int, sort: Sort = Sort.newest
) -> tuple[list[Any], str | None]:
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    last = page[-1]
    return page, encode_cursor(sort, getattr(last, _COLUMN[sort]), last.id)
