"""What managers do to a handover note — move it, comment, record the review note and the partner's
response — each with its version check, audit event and a notice to the crew member."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from api.audit.service import record_event
from api.errors import Conflict, Invalid, NotFound
from api.handovers.workflow import TRANSITIONS, allowed_moves
from api.record_updates import check_version, compare_and_set
from schemas.accounts import User
from schemas.audit import Action, RecordKind
from schemas.enums import HandoverStatus
from schemas.field_errors import FieldError, nhs_number_problems
from schemas.free_text import is_blank
from schemas.handovers import Handover
from schemas.timestamps import utcnow

NOUN = "handover note"


def _load(session: Session, note_id: uuid.UUID) -> Handover:
    note = session.get(Handover, note_id)
    if note is None:
        raise NotFound("No handover note has this id.")
    return note


def move_handover(
    session: Session,
    actor: User,
    note_id: uuid.UUID,
    *,
    to: HandoverStatus,
    note: str = "",
    expected_version: int | None = None,
) -> Handover:
    record = _load(session, note_id)
    if problems := nhs_number_problems({"note": note}):
        raise Invalid(problems)
    check_version(record, expected_version, NOUN)
    current = HandoverStatus(record.status)
    if to not in TRANSITIONS[current]:
        raise Conflict(
            {
                "message": f"A handover note that is {current.value} cannot move to {to.value}.",
                "status": current.value,
                "allowed": [s.value for s in allowed_moves(current)],
            }
        )
    changes: dict[str, Any] = {"status": to.value}
    if to is HandoverStatus.raised_with_partner and record.raised_at is None:
        changes["raised_at"] = utcnow()
    compare_and_set(session, record, record.version, changes, NOUN)
    record_event(
        session,
        kind=RecordKind.handover,
        record_id=record.id,
        actor=actor,
        action=Action.transition,
        submitter_id=record.reported_by,
        from_status=current.value,
        to_status=to.value,
        note=note,
    )
    return record


def comment_on_handover(session: Session, actor: User, note_id: uuid.UUID, body: str) -> None:
    record = _load(session, note_id)
    if is_blank(body):
        raise Invalid([FieldError(field="body", message="Enter a comment")])
    if problems := nhs_number_problems({"body": body}):
        raise Invalid(problems)
    record_event(
        session,
        kind=RecordKind.handover,
        record_id=record.id,
        actor=actor,
        action=Action.comment,
        submitter_id=record.reported_by,
        note=body,
    )


def update_handover(
    session: Session,
    actor: User,
    note_id: uuid.UUID,
    changes: dict[str, Any],
    expected_version: int,
) -> Handover:
    """The review note and the partner's response; both are shown to the crew member under /mine."""
    record = _load(session, note_id)
    check_version(record, expected_version, NOUN)
    if not changes:
        return record
    compare_and_set(session, record, expected_version, changes, NOUN)
    record_event(
        session,
        kind=RecordKind.handover,
        record_id=record.id,
        actor=actor,
        action=Action.update,
        submitter_id=record.reported_by,
        note="; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in changes.items()),
    )
    return record
