"""Handover notes: showing them to the right people and the managers' filtered list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, exists, func, or_, select
from sqlmodel import Session

from api.auth.identity import is_manager
from api.auth.users import user_names
from api.errors import Forbidden, NotFound
from api.filtering import like_pattern, london_day_range
from api.handovers.response_wait import response_due, response_overdue
from api.pagination import page_after, split_page
from schemas.accounts import User
from schemas.handovers import Handover, HandoverCategory, HandoverRead
from schemas.timestamps import utcnow


def to_read(note: Handover, names: dict[int, str]) -> HandoverRead:
    return HandoverRead(
        **note.model_dump(exclude={"content_hash"}),
        reporter_name=names.get(note.reported_by, ""),
        response_due=response_due(note.raised_at) if note.raised_at else None,
        response_overdue=response_overdue(note.raised_at, note.partner_response_at, utcnow()),
    )


def get_handover_for(session: Session, viewer: User, note_id: uuid.UUID) -> HandoverRead:
    note = session.get(Handover, note_id)
    if note is None or (not is_manager(viewer) and note.reported_by != viewer.id):
        raise NotFound("No handover note has this id.")
    return to_read(note, user_names(session, {note.reported_by}))


@dataclass
class HandoverFilters:
    status: str | None = None
    partner_id: int | None = None
    category: str | None = None
    harm: str | None = None
    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def list_handovers(
    session: Session, viewer: User, filters: HandoverFilters, cursor: str | None, limit: int
) -> tuple[list[HandoverRead], str | None]:
    if not is_manager(viewer):
        raise Forbidden()
    statement = filtered_handovers(filters)
    rows = list(session.execute(page_after(statement, Handover, cursor, limit)).scalars())
    page, next_cursor = split_page(rows, limit)
    names = user_names(session, {n.reported_by for n in page})
    return [to_read(n, names) for n in page], next_cursor


def filtered_handovers(filters: HandoverFilters) -> Select[tuple[Handover]]:
    """The managers' filters as one statement, shared by the list, its page and the CSV export."""
    statement = select(Handover)
    if filters.status:
        statement = statement.where(Handover.status == filters.status)
    if filters.partner_id:
        statement = statement.where(Handover.partner_id == filters.partner_id)
    if filters.harm:
        statement = statement.where(Handover.harm == filters.harm)
    if filters.category:
        statement = statement.where(
            exists().where(
                HandoverCategory.handover_id == Handover.id,
                HandoverCategory.category == filters.category,
            )
        )
    if filters.q:
        pattern = like_pattern(filters.q)
        statement = statement.where(
            or_(
                func.lower(Handover.narrative).like(pattern, escape="\\"),
                func.lower(Handover.location_detail).like(pattern, escape="\\"),
                func.lower(Handover.immediate_action).like(pattern, escape="\\"),
            )
        )
    start, end = london_day_range(filters.date_from, filters.date_to)
    if start:
        statement = statement.where(Handover.occurred_at >= start)
    if end:
        statement = statement.where(Handover.occurred_at < end)
    return statement
