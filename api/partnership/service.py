"""What a partner organisation's user may see and do: the notes about their organisation (and its
sites) that were raised with them or shared as thanks, anonymised; acknowledging and answering
them, each an audit event that reaches the crew member and the trust's managers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlmodel import Session

from api.audit.service import record_event
from api.errors import NotFound
from api.filtering import london_day_range
from api.handovers.response_wait import response_due, response_overdue
from api.pagination import page_after, split_page
from api.push import messages
from api.push import service as push
from api.record_updates import compare_and_set
from schemas.accounts import Partner, User
from schemas.audit import Action, RecordKind
from schemas.enums import HandoverStatus, NoteType, Role
from schemas.handovers import Handover, HandoverCategory, PartnerNoteRead
from schemas.timestamps import utcnow

NOUN = "handover note"
NOT_FOUND = "No handover note about your organisation has this id."


def organisation_ids(session: Session, partner_id: int) -> list[int]:
    """The organisation and its sites (one level, SPEC §2)."""
    sites = session.execute(select(Partner.id).where(Partner.parent_id == partner_id)).scalars()
    return [partner_id, *sites]


def organisation_sites(session: Session, partner_id: int) -> list[tuple[int, str]]:
    """(id, name) of the organisation and its sites, the organisation first: the site menu."""
    rows = session.execute(
        select(Partner.id, Partner.name)
        .where(or_(Partner.id == partner_id, Partner.parent_id == partner_id))
        .order_by((Partner.id != partner_id), Partner.name)
    ).all()
    return [(row[0], row[1]) for row in rows]


def shared_with_partner() -> ColumnElement[bool]:
    """The one rule for which notes a partner sees: raised with them (now or before; a note raised
    before raised_at was stamped counts by its status), or good practice, shared as thanks at once.
    New and reviewed concerns stay the trust's own until a manager raises them."""
    return or_(
        Handover.raised_at.is_not(None),  # type: ignore[union-attr]
        Handover.status == HandoverStatus.raised_with_partner.value,
        Handover.note_type == NoteType.good_practice.value,
    )


@dataclass
class PartnerFilters:
    """The partner's menus: a site, a category, a date range (London days) and what kind of note."""

    site_id: int | None = None
    category: str | None = None
    note_type: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def visible_notes(
    session: Session, user: User, filters: PartnerFilters | None = None
) -> Select[tuple[Handover]]:
    assert user.partner_id is not None
    ids = organisation_ids(session, user.partner_id)
    filters = filters or PartnerFilters()
    statement = select(Handover).where(
        Handover.partner_id.in_(ids),  # type: ignore[attr-defined]
        shared_with_partner(),
    )
    if filters.site_id:
        statement = statement.where(Handover.partner_id == filters.site_id)
    if filters.category:
        statement = statement.where(
            exists().where(
                HandoverCategory.handover_id == Handover.id,
                HandoverCategory.category == filters.category,
            )
        )
    if filters.note_type:
        statement = statement.where(Handover.note_type == filters.note_type)
    start, end = london_day_range(filters.date_from, filters.date_to)
    if start:
        statement = statement.where(Handover.occurred_at >= start)
    if end:
        statement = statement.where(Handover.occurred_at < end)
    return statement


def to_partner_read(note: Handover, partner_names: dict[int, str]) -> PartnerNoteRead:
    """Field by field, never a dump of the row: the crew member, the vehicle and the trust's own
    review note stay out."""
    return PartnerNoteRead(
        id=note.id,
        occurred_at=note.occurred_at,
        partner_id=note.partner_id,
        partner_name=partner_names.get(note.partner_id, ""),
        location_detail=note.location_detail,
        journey_type=note.journey_type,
        note_type=note.note_type,
        categories=list(note.categories),
        good_practice=list(note.good_practice),
        delay_minutes=note.delay_minutes,
        harm=note.harm,
        narrative=note.narrative,
        immediate_action=note.immediate_action,
        status=note.status,
        raised_at=note.raised_at,
        response_due=response_due(note.raised_at) if note.raised_at else None,
        response_overdue=response_overdue(note.raised_at, note.partner_response_at, utcnow()),
        partner_response=note.partner_response,
        partner_response_at=note.partner_response_at,
        partner_acknowledged_at=note.partner_acknowledged_at,
        received_at=note.received_at,
    )


def _names(session: Session, user: User) -> dict[int, str]:
    assert user.partner_id is not None
    return dict(organisation_sites(session, user.partner_id))


def list_partner_notes(
    session: Session, user: User, filters: PartnerFilters, cursor: str | None, limit: int
) -> tuple[list[PartnerNoteRead], str | None]:
    """Newest received first, with the same cursor pagination as the managers' list."""
    statement = visible_notes(session, user, filters)
    rows = list(session.execute(page_after(statement, Handover, cursor, limit)).scalars())
    page, next_cursor = split_page(rows, limit)
    names = _names(session, user)
    return [to_partner_read(n, names) for n in page], next_cursor


def overdue_count(session: Session, user: User) -> int:
    """Notes raised with the organisation still waiting for its answer past the due day."""
    statement = visible_notes(session, user).where(
        Handover.raised_at.is_not(None),  # type: ignore[union-attr]
        Handover.partner_response_at.is_(None),  # type: ignore[union-attr]
        Handover.status == HandoverStatus.raised_with_partner.value,
    )
    now = utcnow()
    return sum(
        1
        for note in session.execute(statement).scalars()
        if response_overdue(note.raised_at, note.partner_response_at, now)
    )


def _load_visible(session: Session, user: User, note_id: uuid.UUID) -> Handover:
    # Another organisation's note and a note not shared yet look the same as no note: 404.
    note = session.execute(
        visible_notes(session, user).where(Handover.id == note_id)
    ).scalar_one_or_none()
    if note is None:
        raise NotFound(NOT_FOUND)
    return note


def get_partner_note(session: Session, user: User, note_id: uuid.UUID) -> PartnerNoteRead:
    return to_partner_read(_load_visible(session, user, note_id), _names(session, user))


def acknowledge(session: Session, user: User, note_id: uuid.UUID) -> PartnerNoteRead:
    """ "We have read this." Stamped once; acknowledging again changes nothing and records nothing."""
    note = _load_visible(session, user, note_id)
    if note.partner_acknowledged_at is None:
        compare_and_set(session, note, note.version, {"partner_acknowledged_at": utcnow()}, NOUN)
        record_event(
            session,
            kind=RecordKind.handover,
            record_id=note.id,
            actor=user,
            action=Action.acknowledge,
            submitter_id=note.reported_by,
        )
    return to_partner_read(note, _names(session, user))


def respond(session: Session, user: User, note_id: uuid.UUID, body: str) -> PartnerNoteRead:
    """The partner's answer (what they found, what they changed). A later answer replaces the shown
    one; every answer stays in the audit trail. Answering also acknowledges."""
    note = _load_visible(session, user, note_id)
    now = utcnow()
    changes = {
        "partner_response": body,
        "partner_response_by": user.id,
        "partner_response_at": now,
    }
    if note.partner_acknowledged_at is None:
        changes["partner_acknowledged_at"] = now
    compare_and_set(session, note, note.version, changes, NOUN)
    record_event(
        session,
        kind=RecordKind.handover,
        record_id=note.id,
        actor=user,
        action=Action.partner_response,
        submitter_id=note.reported_by,
        note=body,
    )
    # The trust's managers hear of it too (no text in the notification: it shows on a lock screen).
    message = messages.handover_partner_answered_for_managers(note.id)
    push.notify_role(session, Role.manager, **message.model_dump(), exclude_user_id=user.id)
    return to_partner_read(note, _names(session, user))
