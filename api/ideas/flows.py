"""What managers do to an idea — move it, comment, set owner/impact/effort — each in one place with
its side effects: the version check, the audit event, the first-response time, the submitter told."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from api.audit.service import record_event
from api.auth.identity import is_manager
from api.errors import Conflict, Invalid, NotFound
from api.ideas.workflow import (
    NEEDS_EQUITY_PAUSE,
    NEEDS_REASON,
    NEEDS_TARGET,
    TRANSITIONS,
    allowed_moves,
)
from api.record_updates import check_version, compare_and_set
from schemas.accounts import User
from schemas.audit import Action, RecordKind
from schemas.enums import IdeaStatus
from schemas.field_errors import FieldError, nhs_number_problems
from schemas.free_text import is_blank
from schemas.ideas import Idea
from schemas.timestamps import utcnow

NOUN = "idea"


def _load(session: Session, idea_id: uuid.UUID) -> Idea:
    idea = session.get(Idea, idea_id)
    if idea is None:
        raise NotFound("No idea has this id.")
    return idea


def _first_response(session: Session, idea: Idea, actor: User) -> None:
    if idea.first_response_at is None and is_manager(actor):
        session.execute(
            update(Idea)
            .where(Idea.id == idea.id, Idea.first_response_at.is_(None))  # type: ignore[arg-type,union-attr]
            .values(first_response_at=utcnow())
        )


def move_idea(
    session: Session,
    actor: User,
    idea_id: uuid.UUID,
    *,
    to: IdeaStatus,
    note: str = "",
    duplicate_of: uuid.UUID | None = None,
    equity_note: str = "",
    expected_version: int | None = None,
) -> Idea:
    idea = _load(session, idea_id)
    check_version(idea, expected_version, NOUN)
    current = IdeaStatus(idea.status)
    if to not in TRANSITIONS[current]:
        raise Conflict(
            {
                "message": f"An idea that is {current.value} cannot move to {to.value}.",
                "status": current.value,
                "allowed": [s.value for s in allowed_moves(current)],
            }
        )
    errors: list[FieldError] = []
    if to in NEEDS_REASON and is_blank(note):
        errors.append(
            FieldError(field="note", message="Give the reason; the submitter will read it")
        )
    if to in NEEDS_EQUITY_PAUSE and is_blank(equity_note):
        errors.append(
            FieldError(
                field="equity_note",
                message="Answer the Equity Pause: does everyone benefit equally? Who could be left out?",
            )
        )
    target = None
    if to in NEEDS_TARGET:
        target = session.get(Idea, duplicate_of) if duplicate_of else None
        if target is None or target.id == idea.id:
            errors.append(
                FieldError(field="duplicate_of", message="Give the idea this one duplicates")
            )
    errors += nhs_number_problems({"note": note, "equity_note": equity_note})
    if errors:
        raise Invalid(errors)
    if len(note) > 4000 or len(equity_note) > 4000:
        raise Invalid([FieldError(field="note", message="Notes must be 4000 characters or fewer")])

    compare_and_set(
        session,
        idea,
        idea.version,
        {"status": to.value, "duplicate_of": target.id if target else None},
        NOUN,
    )
    if not is_blank(equity_note):
        record_event(
            session,
            kind=RecordKind.idea,
            record_id=idea.id,
            actor=actor,
            action=Action.equity_pause,
            submitter_id=idea.submitted_by,
            note=equity_note,
            visible_to_submitter=False,
        )
    record_event(
        session,
        kind=RecordKind.idea,
        record_id=idea.id,
        actor=actor,
        action=Action.transition,
        submitter_id=idea.submitted_by,
        from_status=current.value,
        to_status=to.value,
        note=note,
    )
    _first_response(session, idea, actor)
    return idea


def comment_on_idea(session: Session, actor: User, idea_id: uuid.UUID, body: str) -> None:
    idea = _load(session, idea_id)
    if is_blank(body):
        raise Invalid([FieldError(field="body", message="Enter a comment")])
    if problems := nhs_number_problems({"body": body}):
        raise Invalid(problems)
    if len(body) > 4000:
        raise Invalid(
            [FieldError(field="body", message="A comment must be 4000 characters or fewer")]
        )
    record_event(
        session,
        kind=RecordKind.idea,
        record_id=idea.id,
        actor=actor,
        action=Action.comment,
        submitter_id=idea.submitted_by,
        note=body,
    )
    _first_response(session, idea, actor)


def update_idea(
    session: Session,
    actor: User,
    idea_id: uuid.UUID,
    changes: dict[str, Any],
    expected_version: int,
) -> Idea:
    """Owner, impact and effort (the keys present in `changes`); internal, not shown to the submitter."""
    idea = _load(session, idea_id)
    check_version(idea, expected_version, NOUN)
    if "owner_id" in changes and changes["owner_id"] is not None:
        owner = session.get(User, changes["owner_id"])
        if owner is None or not owner.active or not is_manager(owner):
            raise Invalid(
                [FieldError(field="owner_id", message="Choose an active manager as owner")]
            )
    if not changes:
        return idea
    compare_and_set(session, idea, expected_version, changes, NOUN)
    # The history reads by names, not ids: "owner: Sam Manager", not "owner: 12".
    described = dict(changes)
    if described.get("owner_id") is not None:
        owner = session.get(User, described["owner_id"])
        described["owner_id"] = owner.name if owner is not None else described["owner_id"]
    summary = ", ".join(
        f"{k.replace('_id', '')}: {v if v is not None else 'none'}" for k, v in described.items()
    )
    record_event(
        session,
        kind=RecordKind.idea,
        record_id=idea.id,
        actor=actor,
        action=Action.update,
        submitter_id=idea.submitted_by,
        note=summary,
        visible_to_submitter=False,
    )
    return idea
