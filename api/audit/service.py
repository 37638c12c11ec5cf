"""Recording what managers did to a record, and telling the person who submitted it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlmodel import Session

from api.auth.users import user_names
from api.push import messages
from api.push import service as push
from schemas.accounts import User
from schemas.audit import Action, AuditEvent, EventRead, Notification, RecordKind
from schemas.enums import HandoverStatus, IdeaStatus, label
from schemas.push import PushMessage
from schemas.timestamps import utcnow

KIND_WORDS = {RecordKind.idea: "Your idea", RecordKind.handover: "Your handover note"}


def record_event(
    session: Session,
    *,
    kind: RecordKind,
    record_id: uuid.UUID,
    actor: User,
    action: Action,
    submitter_id: int,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
    visible_to_submitter: bool = True,
) -> AuditEvent:
    """One audit event; when the submitter may see it and someone else did it, a notification too
    (in this transaction, so the change and its notice commit together)."""
    event = AuditEvent(
        record_kind=kind,
        record_id=record_id,
        actor_id=actor.id,  # type: ignore[arg-type]
        at=utcnow(),
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        visible_to_submitter=visible_to_submitter,
    )
    session.add(event)
    session.flush()
    if visible_to_submitter and submitter_id != actor.id:
        text = notification_text(kind, action, to_status)
        session.add(
            Notification(
                user_id=submitter_id,
                event_id=event.id,  # type: ignore[arg-type]
                record_kind=kind,
                record_id=record_id,
                text=text,
            )
        )
        message = push_message(kind, action, record_id, to_status)
        if message is not None:
            push.notify(session, submitter_id, **message.model_dump())
    return event


def push_message(
    kind: str, action: str, record_id: uuid.UUID, to_status: str | None
) -> PushMessage | None:
    """The phone notification for what happened; the wording lives in api/push/messages.py."""
    if kind == RecordKind.idea:
        if action == Action.transition and to_status:
            return messages.idea_status_changed(record_id, IdeaStatus(to_status))
        if action == Action.comment:
            return messages.idea_commented(record_id)
        return None
    if action == Action.acknowledge:
        return messages.handover_partner_acknowledged(record_id)
    if action == Action.partner_response:
        return messages.handover_partner_responded(record_id)
    if action == Action.transition and to_status:
        return messages.handover_status_changed(record_id, HandoverStatus(to_status))
    if action == Action.comment:
        return messages.handover_commented(record_id)
    if action == Action.update:
        return messages.handover_reviewed(record_id)
    return None


def notification_text(kind: RecordKind, action: Action, to_status: str | None) -> str:
    """Words without any record content: safe on a lock screen (E18)."""
    subject = KIND_WORDS[kind]
    if action is Action.transition and to_status:
        return f"{subject} is now: {label(to_status)}"
    if action is Action.comment:
        return f"{subject} has a new comment from a reviewer"
    if action is Action.acknowledge:
        return f"{subject} was read by the partner organisation"
    if action is Action.partner_response:
        return f"{subject} has a response from the partner organisation"
    return f"{subject} was updated"


def events_of(
    session: Session, kind: RecordKind, record_id: uuid.UUID, *, submitter_view: bool
) -> list[EventRead]:
    statement = (
        select(AuditEvent)
        .where(AuditEvent.record_kind == kind, AuditEvent.record_id == record_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )  # type: ignore[arg-type]
    if submitter_view:
        statement = statement.where(AuditEvent.visible_to_submitter.is_(True))  # type: ignore[attr-defined]
    events = list(session.execute(statement).scalars())
    names = user_names(session, {e.actor_id for e in events})
    return [
        EventRead(
            id=e.id,
            at=e.at,
            actor_id=e.actor_id,
            actor_name=names.get(e.actor_id, ""),  # type: ignore[arg-type]
            action=e.action,
            from_status=e.from_status,
            to_status=e.to_status,
            note=e.note,
        )
        for e in events
    ]
