"""The caller's own submissions with their status and feedback (`/mine`, `/api/v1/me/submissions`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import and_, or_, select, update
from sqlmodel import Session

from api.handovers.service import to_read as handover_read
from api.ideas.service import to_read as idea_read
from schemas.accounts import User
from schemas.audit import Action, AuditEvent, Notification, NotificationRead, RecordKind
from schemas.enums import label
from schemas.handovers import Handover, HandoverRead
from schemas.ideas import Idea, IdeaRead
from schemas.timestamps import utcnow

MAX_OWN = 500


class Feedback(BaseModel):
    at: datetime
    text: str


class MySubmissions(BaseModel):
    ideas: list[IdeaRead]
    handovers: list[HandoverRead]
    # By record id: what reviewers said and did that the submitter may see, oldest first.
    feedback: dict[str, list[Feedback]] = {}


def my_submissions(session: Session, user: User) -> MySubmissions:
    """Newest first, the latest 500 of each kind: what a phone can usefully keep offline."""
    ideas = session.execute(
        select(Idea)
        .where(Idea.submitted_by == user.id)
        .order_by(Idea.received_at.desc())
        .limit(MAX_OWN)  # type: ignore[attr-defined]
    ).scalars()
    notes = session.execute(
        select(Handover)
        .where(Handover.reported_by == user.id)
        .order_by(Handover.received_at.desc())
        .limit(MAX_OWN)  # type: ignore[attr-defined]
    ).scalars()
    names = {user.id: user.name}  # type: ignore[dict-item]
    idea_list = [idea_read(i, user, names) for i in ideas]
    note_list = [handover_read(n, names) for n in notes]
    return MySubmissions(
        ideas=idea_list,
        handovers=note_list,
        feedback=_feedback(
            session,
            {
                RecordKind.idea: [i.id for i in idea_list],
                RecordKind.handover: [n.id for n in note_list],
            },
        ),
    )


def _feedback(
    session: Session, own: dict[RecordKind, list[uuid.UUID]]
) -> dict[str, list[Feedback]]:
    """What reviewers said about the reader's own records, each matched by kind and id: an id
    alone once let a note that borrowed an idea's id read that idea's feedback (issue #10)."""
    mine = [
        and_(AuditEvent.record_kind == kind.value, AuditEvent.record_id.in_(ids))  # type: ignore[attr-defined]
        for kind, ids in own.items()
        if ids
    ]
    if not mine:
        return {}
    events = session.execute(
        select(AuditEvent)
        .where(or_(*mine), AuditEvent.visible_to_submitter.is_(True))  # type: ignore[attr-defined]
        .order_by(AuditEvent.at, AuditEvent.id)  # type: ignore[arg-type]
    ).scalars()
    feedback: dict[str, list[Feedback]] = defaultdict(list)
    for event in events:
        text = _describe(event)
        if text:
            feedback[str(event.record_id)].append(Feedback(at=event.at, text=text))
    return dict(feedback)


def _describe(event: AuditEvent) -> str:
    if event.action == Action.transition:
        moved = f"Moved to {label(event.to_status or '')}."
        return f"{moved} {event.note}" if event.note else moved
    if event.action == Action.comment:
        return f"Comment: {event.note}"
    # The partner organisation's own answer to the crew member's note (SPEC §4).
    if event.action == Action.acknowledge:
        return "The partner organisation has read this note."
    if event.action == Action.partner_response:
        return f"The partner organisation responded: {event.note}"
    return ""


def notifications_for(session: Session, user: User, *, mark_read: bool) -> list[NotificationRead]:
    """The latest 50 updates about the user's own submissions; `mark_read` marks them all read."""
    rows = list(
        session.execute(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(50)  # type: ignore[attr-defined,union-attr]
        ).scalars()
    )
    result = [
        NotificationRead(
            id=n.id,
            record_kind=n.record_kind,
            record_id=n.record_id,
            text=n.text,  # type: ignore[arg-type]
            created_at=n.created_at,
            read=n.read_at is not None,
        )
        for n in rows
    ]
    if mark_read and any(n.read_at is None for n in rows):
        session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))  # type: ignore[union-attr]
            .values(read_at=utcnow())
        )
    return result
