"""What managers do to a handover note — move it, comment, record the review note and the partner's
response — each with its version check, audit event and a notice to the crew member."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from api.audit.service import record_event
from api.errors import Conflict, Invalid, NotFound, PreconditionFailed
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
    if changes.get("partner_response", "").strip() and record.partner_response_at is None:
        # The first answer stops the 10-working-day clock (api/handovers/response_wait.py).
        changes = {**changes, "partner_response_at": utcnow()}
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


# An LFPSE reference as the national system prints it: letters, digits, and "-" or "/" between
# them, 4 to 40 characters with at least one digit (e.g. "LFPSE-2026-0012345"). Upper-cased.
LFPSE_PATTERN = re.compile(r"[A-Z0-9](?:[A-Z0-9]|[-/](?=[A-Z0-9])){3,39}")


def record_lfpse_reference(
    session: Session, actor: User, note_id: uuid.UUID, reference: str, expected_version: int | None
) -> Handover:
    """The national patient safety report's reference for a note with harm; audited, internal."""
    record = _load(session, note_id)
    value = "".join(reference.split()).upper()
    if value and (not LFPSE_PATTERN.fullmatch(value) or not any(c.isdigit() for c in value)):
        raise Invalid(
            [
                FieldError(
                    field="lfpse_reference",
                    message="Enter the LFPSE reference as it was given, for example "
                    "LFPSE-2026-0012345: letters, numbers and dashes, 4 to 40 characters",
                )
            ]
        )
    if problems := nhs_number_problems({"lfpse_reference": value}):
        raise Invalid(problems)
    check_version(record, expected_version, NOUN)
    if value == record.lfpse_reference:
        return record
    compare_and_set(session, record, record.version, {"lfpse_reference": value}, NOUN)
    record_event(
        session,
        kind=RecordKind.handover,
        record_id=record.id,
        actor=actor,
        action=Action.update,
        submitter_id=record.reported_by,
        note=f"LFPSE reference: {value or 'removed'}",
        visible_to_submitter=False,
    )
    return record


@dataclass
class BulkOutcome:
    """What a bulk action did: each note done, or left alone with the reason."""

    done: list[uuid.UUID] = field(default_factory=list)
    refused: list[tuple[uuid.UUID, str]] = field(default_factory=list)


def _one_by_one(session: Session, versions: dict[uuid.UUID, int | None], act: Any) -> BulkOutcome:
    """Each note in its own savepoint: one note that cannot move leaves the others moved."""
    outcome = BulkOutcome()
    for note_id, version in versions.items():
        try:
            with session.begin_nested():
                act(note_id, version)
        except PreconditionFailed:
            outcome.refused.append(
                (note_id, "someone else changed it since you opened the list; open it to check")
            )
        except (Conflict, Invalid, NotFound) as exc:
            reason = exc.detail.get("message") if isinstance(exc.detail, dict) else None
            outcome.refused.append((note_id, reason or "it cannot take this action"))
        else:
            outcome.done.append(note_id)
    return outcome


def raise_many(
    session: Session, actor: User, versions: dict[uuid.UUID, int | None], note: str = ""
) -> BulkOutcome:
    """Raise the chosen notes with their partner in one go. A note still `new` is reviewed and
    raised in the same step: two moves, two audit events, as if done one after the other on its
    page (the manager reviewed it at the meeting). Already raised or resolved: left alone."""

    def act(note_id: uuid.UUID, version: int | None) -> None:
        record = _load(session, note_id)
        check_version(record, version, NOUN)
        status = HandoverStatus(record.status)
        if status is HandoverStatus.raised_with_partner:
            raise Conflict({"message": "it was already raised with the partner"})
        if status is HandoverStatus.resolved:
            raise Conflict({"message": "it is resolved"})
        if status is HandoverStatus.new:
            move_handover(
                session,
                actor,
                note_id,
                to=HandoverStatus.reviewed,
                note="",
                expected_version=record.version,
            )
        move_handover(
            session,
            actor,
            note_id,
            to=HandoverStatus.raised_with_partner,
            note=note,
            expected_version=record.version,
        )

    return _one_by_one(session, versions, act)


def respond_many(
    session: Session, actor: User, versions: dict[uuid.UUID, int | None], response: str
) -> BulkOutcome:
    """One answer from the partner (given at the meeting) recorded on each chosen note that was
    raised with them and has no answer yet; each note's change is its own audit event."""

    def act(note_id: uuid.UUID, version: int | None) -> None:
        record = _load(session, note_id)
        check_version(record, version, NOUN)
        if record.status != HandoverStatus.raised_with_partner.value:
            raise Conflict({"message": "it has not been raised with the partner"})
        if record.partner_response.strip():
            raise Conflict({"message": "it already has an answer; open it to change that"})
        update_handover(
            session, actor, note_id, {"partner_response": response}, expected_version=record.version
        )

    return _one_by_one(session, versions, act)
