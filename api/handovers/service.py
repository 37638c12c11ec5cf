"""Handover notes: showing them to the right people and the managers' filtered list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlmodel import Session

from api.auth.identity import is_manager
from api.auth.users import user_names
from api.db import detached
from api.errors import Forbidden, NotFound
from api.filtering import like_pattern, london_day_range
from api.handovers.records import HANDOVER_TABLE
from api.handovers.response_wait import LONDON, response_due, response_overdue
from api.pagination import page_after, split_page
from api.sync.bulk_insert import as_read_back
from schemas.accounts import Partner, User
from schemas.enums import HARM_NEEDING_FORMAL_REPORT, HandoverStatus
from schemas.handovers import Handover, HandoverCategory, HandoverRead
from schemas.timestamps import utcnow


def to_read(note: Handover, names: dict[int, str]) -> HandoverRead:
    return HandoverRead(
        **note.model_dump(exclude={"content_hash"}),
        reporter_name=names.get(note.reported_by, ""),
        response_due=response_due(note.raised_at) if note.raised_at else None,
        response_overdue=response_overdue(note.raised_at, note.partner_response_at, utcnow()),
    )


def handover_answer(
    session: Session, viewer: User, note_id: uuid.UUID, inserted: dict[str, Any] | None
) -> HandoverRead:
    """The note a POST answers with: built from the row the request has just `inserted` (it is
    the viewer's own, and what the database now holds: no read-back, issue 16), or read back (a
    replay)."""
    if inserted is None:
        return get_handover_for(session, viewer, note_id)
    note = detached(Handover, as_read_back(HANDOVER_TABLE, inserted))
    return to_read(note, {viewer.id: viewer.name})  # type: ignore[dict-item]


def get_handover_for(session: Session, viewer: User, note_id: uuid.UUID) -> HandoverRead:
    note = session.get(Handover, note_id)
    if note is None or (not is_manager(viewer) and note.reported_by != viewer.id):
        raise NotFound("No handover note has this id.")
    # Most often the viewer wrote it (the answer to their own POST): their name is at hand.
    names = (
        {viewer.id: viewer.name}
        if note.reported_by == viewer.id
        else user_names(session, {note.reported_by})
    )
    return to_read(note, names)  # type: ignore[arg-type]


class Attention(StrEnum):
    """What a manager must act on (the "Needs attention" menu and the manager's home)."""

    harm_unreviewed = "harm_unreviewed"  # moderate harm or worse, still new
    no_lfpse = "no_lfpse"  # moderate harm or worse, no LFPSE reference recorded
    awaiting_response = "awaiting_response"  # raised with the partner, no answer yet
    overdue = "overdue"  # ... and past the 10 working days (api/handovers/response_wait.py)


ATTENTION_LABELS = {
    Attention.harm_unreviewed: "Moderate harm or worse, not reviewed",
    Attention.no_lfpse: "Moderate harm or worse, no LFPSE reference",
    Attention.awaiting_response: "Raised, waiting for the partner",
    Attention.overdue: "Partner's answer overdue",
}


@dataclass
class HandoverFilters:
    status: str | None = None
    # An organisation includes its sites (partner.parent_id); a site is just itself.
    partner_id: int | None = None
    category: str | None = None
    harm: str | None = None
    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    attention: Attention | None = None


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
        sites = select(Partner.id).where(Partner.parent_id == filters.partner_id)
        statement = statement.where(
            or_(Handover.partner_id == filters.partner_id, Handover.partner_id.in_(sites))  # type: ignore[attr-defined]
        )
    if filters.attention:
        statement = statement.where(_attention_condition(filters.attention, utcnow()))
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


_SERIOUS = [h.value for h in HARM_NEEDING_FORMAL_REPORT]


def overdue_if_raised_before(now: datetime) -> datetime:
    """The instant before which an unanswered raise is overdue today. The one rule decides
    (response_overdue): its due day only moves later as the raise does, so the latest London day
    it calls overdue bounds them all."""
    day = now.astimezone(LONDON).date()
    for _ in range(60):  # 10 working days never span 60 calendar days
        if response_overdue(datetime.combine(day, time(12), LONDON), None, now):
            break
        day -= timedelta(days=1)
    return datetime.combine(day + timedelta(days=1), time.min, LONDON)


def _attention_condition(attention: Attention, now: datetime) -> ColumnElement[bool]:
    if attention is Attention.harm_unreviewed:
        return and_(
            Handover.harm.in_(_SERIOUS),  # type: ignore[union-attr]
            Handover.status == HandoverStatus.new.value,
        )
    if attention is Attention.no_lfpse:
        return and_(Handover.harm.in_(_SERIOUS), Handover.lfpse_reference == "")  # type: ignore[union-attr]
    awaiting = and_(
        Handover.status == HandoverStatus.raised_with_partner.value,
        Handover.partner_response_at.is_(None),  # type: ignore[union-attr]
    )
    if attention is Attention.awaiting_response:
        return awaiting
    return and_(awaiting, Handover.raised_at < overdue_if_raised_before(now))  # type: ignore[operator]


def count_handovers(session: Session, filters: HandoverFilters) -> int:
    matching_ids = filtered_handovers(filters).with_only_columns(Handover.id)  # type: ignore[arg-type]
    return int(
        session.execute(select(func.count()).select_from(matching_ids.subquery())).scalar_one()
    )
