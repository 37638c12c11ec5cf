"""What the sync path needs to know about each kind of record, declared once per domain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Table
from sqlmodel import Session

from schemas.accounts import User
from schemas.enums import Role
from schemas.field_errors import FieldError


@dataclass(frozen=True)
class Sender:
    """Who sent a batch, as the request's sign-in check found them (read fresh this request)."""

    id: int
    # The partner organisation of a partner organisation's user; None for the trust's staff.
    partner_id: int | None

    @classmethod
    def of(cls, user: User) -> Sender:
        partner = user.partner_id if user.role == Role.partner else None
        return cls(id=user.id, partner_id=partner)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RecordKind:
    name: str
    model: type[BaseModel]
    table: Table
    owner_column: str
    # Extra rows to write beside a new record (its aims, categories…): (table, rows).
    link_rows: Callable[[Any, BaseModel], list[tuple[Table, dict[str, Any]]]]
    # Field errors for references that do not exist or are inactive, checked in one query per batch.
    # (A Core connection, api/db.py::reading_connection: no ORM session for a few ids.)
    check_references: Callable[[Connection, list[BaseModel]], list[list[FieldError]]]
    # The table row for a valid record (id, record, sender, fingerprint, now): every column it
    # stores, the sender's marks included, so the row is what the database holds (the answer to
    # a single create is built from it, api/sync/http.py).
    to_row: Callable[[Any, BaseModel, Sender, str, Any], dict[str, Any]]
    # What else happens, in the same transaction, when records are new (not on a replay): called
    # once a batch with every new (id, record) of this kind, so its look-ups are per batch, not per
    # record (issue 16: one look-up per idea was a quarter of a batch's time).
    after_create: Callable[[Session, list[tuple[Any, BaseModel]], Sender], None] | None = None
