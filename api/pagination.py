"""Keyset (cursor) pagination over (received_at, id), newest first: stable under inserts."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_

from api.errors import Invalid
from schemas.field_errors import FieldError

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def encode_cursor(received_at: datetime, record_id: uuid.UUID) -> str:
    raw = json.dumps([received_at.isoformat(), str(record_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, record_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(stamp), uuid.UUID(record_id)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise Invalid([FieldError(field="cursor", message="cursor is not valid")]) from exc


def page_after(statement: Select[Any], table: Any, cursor: str | None, limit: int) -> Select[Any]:
    """Rows after the cursor, newest first; one more than asked to know whether a page follows."""
    if cursor:
        stamp, record_id = decode_cursor(cursor)
        statement = statement.where(
            or_(
                table.received_at < stamp,
                and_(table.received_at == stamp, table.id < record_id),
            )
        )
    return statement.order_by(table.received_at.desc(), table.id.desc()).limit(limit + 1)


def split_page(rows: list[Any], limit: int) -> tuple[list[Any], str | None]:
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    last = page[-1]
    return page, encode_cursor(last.received_at, last.id)
