"""The caller's own submissions with their status and feedback (`/mine`, `/api/v1/me/submissions`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import and_, or_, select, update
from sqlmodel import Session

from api.errors import Invalid, NotFound
from api.handovers.service import to_read as handover_read
from api.ideas.service import to_read as idea_read
from schemas.accounts import Aim, Partner, Team, User
from schemas.audit import Action, AuditEvent, Notification, NotificationRead, RecordKind
from schemas.enums import HandoverStatus, IdeaStatus, Role, label
from schemas.field_errors import FieldError, nhs_number_problems
from schemas.handovers import Handover, HandoverRead
from schemas.ideas import Idea, IdeaRead
from schemas.timestamps import utcnow

MAX_OWN = 500


class Feedback(BaseModel):
    at: datetime
    text: str
    # Who it came from, as the submitter reads it: "reviewer" or "you" (a reply). A new kind of
    # feedback (a partner's response) is one more row source below, with its own word here.
    source: str = "reviewer"


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
        .order_by(Idea.received_at.desc(), Idea.created_at.desc())
        .limit(MAX_OWN)  # type: ignore[attr-defined]
    ).scalars()
    notes = session.execute(
        select(Handover)
        .where(Handover.reported_by == user.id)
        .order_by(Handover.received_at.desc(), Handover.created_at.desc())
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


FeedbackRows = Iterable[tuple[str, Feedback]]
# The reader's own records, by kind: feedback is always matched by kind and id together. An id
# alone once let a note that borrowed an idea's id read that idea's feedback (issue #10).
OwnRecords = dict[RecordKind, list[uuid.UUID]]

# Who an audit event's feedback comes from, as the submitter reads it.
_SOURCE = {Action.reply: "you", Action.acknowledge: "partner"}


def _audit_feedback(session: Session, own: OwnRecords) -> FeedbackRows:
    """Moves, comments, replies and the partner's acknowledgement the submitter may see."""
    mine = [
        and_(AuditEvent.record_kind == kind.value, AuditEvent.record_id.in_(ids))  # type: ignore[attr-defined]
        for kind, ids in own.items()
        if ids
    ]
    if not mine:
        return
    events = session.execute(
        select(AuditEvent)
        .where(or_(*mine), AuditEvent.visible_to_submitter.is_(True))  # type: ignore[attr-defined]
        .order_by(AuditEvent.at, AuditEvent.id)  # type: ignore[arg-type]
    ).scalars()
    for event in events:
        text = _describe(event)
        if text:
            source = _SOURCE.get(Action(event.action), "reviewer")
            yield str(event.record_id), Feedback(at=event.at, text=text, source=source)


def _note_feedback(session: Session, own: OwnRecords) -> FeedbackRows:
    """What is kept on the note itself: the manager's review note, and the partner organisation's
    response (SPEC §4) whether its own user gave it at /partner or a manager recorded it from a
    meeting. Read from the note, so each shows once, as it stands now."""
    ids = own.get(RecordKind.handover, [])
    if not ids:
        return
    notes = session.execute(
        select(Handover).where(
            Handover.id.in_(ids),  # type: ignore[attr-defined]
            or_(Handover.partner_response != "", Handover.review_note != ""),
        )
    ).scalars()
    for note in notes:
        if note.review_note:
            text = f"Review note: {note.review_note}"
            yield str(note.id), Feedback(at=note.updated_at, text=text)
        if note.partner_response:
            at = note.partner_response_at or note.updated_at
            text = f"The partner organisation responded: {note.partner_response}"
            yield str(note.id), Feedback(at=at, text=text, source="partner")


# Where feedback on a record comes from: each source gives (record id, entry) rows; the list a
# submitter reads is all of them merged by time. Another kind of feedback is one more source.
FEEDBACK_SOURCES: list[Callable[[Session, OwnRecords], FeedbackRows]] = [
    _audit_feedback,
    _note_feedback,
]


def _feedback(session: Session, own: OwnRecords) -> dict[str, list[Feedback]]:
    if not any(own.values()):
        return {}
    feedback: dict[str, list[Feedback]] = defaultdict(list)
    for source in FEEDBACK_SOURCES:
        for record_id, entry in source(session, own):
            feedback[record_id].append(entry)
    for entries in feedback.values():
        entries.sort(key=lambda entry: entry.at)
    return dict(feedback)


def _describe(event: AuditEvent) -> str:
    if event.action == Action.transition:
        moved = f"Moved to {label(event.to_status or '')}."
        return f"{moved} {event.note}" if event.note else moved
    if event.action == Action.comment:
        return f"Comment: {event.note}"
    if event.action == Action.reply:
        return f"Your reply: {event.note}"
    if event.action == Action.acknowledge:
        return "The partner organisation has read this note."
    # Action.partner_response is told from the note itself (_partner_feedback), not twice.
    return ""


# /mine: both kinds in one list ----------------------------------------------------------------

PER_PAGE = 20
KIND_CHOICES = {"idea": "Improvement ideas", "handover": "Handover notes"}
STATUS_CHOICES = {s.value: label(s.value) for s in (*IdeaStatus, *HandoverStatus)}


def reference_of(record_id: uuid.UUID | str) -> str:
    """The reference a person reads, as the confirmation page and the phone show it."""
    return str(record_id)[:8].upper()


@dataclass
class MineFilters:
    kind: str = ""
    status: str = ""
    page: int = 1


def parse_filters(kind: str, status: str, page: str) -> tuple[MineFilters, list[FieldError]]:
    """The /mine menus as typed in the address; anything unknown is named, not guessed."""
    errors: list[FieldError] = []
    if kind not in ("", *KIND_CHOICES):
        errors.append(FieldError(field="kind", message="Choose ideas, handover notes or all"))
        kind = ""
    if status not in ("", *STATUS_CHOICES):
        errors.append(FieldError(field="status", message="Choose a status from the list"))
        status = ""
    number = int(page) if page.isdecimal() and 0 < int(page) <= 10_000 else 0
    if not number:
        if page:
            errors.append(FieldError(field="page", message="Page must be a whole number from 1"))
        number = 1
    return MineFilters(kind=kind, status=status, page=number), errors


@dataclass
class MineEntry:
    """One of the user's records in the list: what it is, named so a person knows which."""

    kind: str
    id: uuid.UUID
    reference: str
    name: str
    status: str
    received_at: datetime
    #: When the user made it (on the phone): records sent together in one batch share a
    #: `received_at`, and are then listed as they were made, the latest first.
    created_at: datetime
    occurred_at: datetime | None = None
    note_type: str = ""
    summary: str = ""
    feedback: list[Feedback] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"/mine/{self.kind}s/{self.id}"


def _idea_entry(idea: Idea) -> MineEntry:
    return MineEntry(
        kind="idea",
        id=idea.id,
        reference=reference_of(idea.id),
        name=idea.title,
        status=idea.status,
        received_at=idea.received_at,
        created_at=idea.created_at,
        summary=idea.problem,
    )


def _note_entry(note: Handover, partner_names: dict[int, str]) -> MineEntry:
    partner = partner_names.get(note.partner_id, "Unknown organisation")
    what = "Good practice" if note.note_type == "good_practice" else "Handover note"
    return MineEntry(
        kind="handover",
        id=note.id,
        reference=reference_of(note.id),
        name=f"{what}: {partner}",
        status=note.status,
        received_at=note.received_at,
        created_at=note.created_at,
        occurred_at=note.occurred_at,
        note_type=note.note_type,
        summary=note.narrative,
    )


def partner_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Partner.id, Partner.name)).all())  # type: ignore[arg-type]


def my_timeline(session: Session, user: User, filters: MineFilters) -> tuple[list[MineEntry], bool]:
    """Newest first across both kinds, one page of PER_PAGE, and whether there are older ones.
    Each kind is read only as far as this page needs (both are indexed by submitter)."""
    wanted = filters.page * PER_PAGE + 1
    entries: list[MineEntry] = []
    statuses_idea = {s.value for s in IdeaStatus}
    statuses_note = {s.value for s in HandoverStatus}
    if filters.kind in ("", "idea") and (not filters.status or filters.status in statuses_idea):
        query = select(Idea).where(Idea.submitted_by == user.id)
        if filters.status:
            query = query.where(Idea.status == filters.status)
        ideas = session.execute(
            query.order_by(Idea.received_at.desc(), Idea.created_at.desc()).limit(wanted)  # type: ignore[attr-defined]
        ).scalars()
        entries += [_idea_entry(i) for i in ideas]
    if filters.kind in ("", "handover") and (not filters.status or filters.status in statuses_note):
        query = select(Handover).where(Handover.reported_by == user.id)
        if filters.status:
            query = query.where(Handover.status == filters.status)
        notes = session.execute(
            query.order_by(Handover.received_at.desc(), Handover.created_at.desc()).limit(wanted)  # type: ignore[attr-defined]
        ).scalars()
        names = partner_names(session)
        entries += [_note_entry(n, names) for n in notes]
    entries.sort(key=lambda e: (e.received_at, e.created_at, str(e.id)), reverse=True)
    start = (filters.page - 1) * PER_PAGE
    page = entries[start : start + PER_PAGE]
    own: OwnRecords = defaultdict(list)
    for entry in page:
        own[RecordKind(entry.kind)].append(entry.id)
    feedback = _feedback(session, own)
    for entry in page:
        entry.feedback = feedback.get(str(entry.id), [])
    return page, len(entries) > start + PER_PAGE


def record_names(session: Session, record_ids: set[uuid.UUID]) -> dict[str, str]:
    """ "Idea: <title> (REF)" or "Handover note: <partner> (REF)" by record id, so every update in
    /mine names its record (notifications stay content-free for lock screens)."""
    if not record_ids:
        return {}
    names: dict[str, str] = {}
    for idea in session.execute(select(Idea).where(Idea.id.in_(record_ids))).scalars():  # type: ignore[attr-defined]
        names[str(idea.id)] = f"Idea: {idea.title} ({reference_of(idea.id)})"
    partners = partner_names(session)
    notes = session.execute(select(Handover).where(Handover.id.in_(record_ids))).scalars()  # type: ignore[attr-defined]
    for note in notes:
        names[str(note.id)] = f"{_note_entry(note, partners).name} ({reference_of(note.id)})"
    return names


# One record of the user's own, in full -----------------------------------------------------


def own_record(session: Session, user: User, kind: str, record_id: uuid.UUID) -> Idea | Handover:
    """The user's own idea or note; anyone else's (whatever the role) is "not found", so ids of
    other people's records are not confirmed."""
    record = session.get(Idea if kind == "idea" else Handover, record_id)
    owner = getattr(record, "submitted_by" if kind == "idea" else "reported_by", None)
    if record is None or owner != user.id:
        raise NotFound("You have no record with this id.")
    return record


def record_details(session: Session, kind: str, record: Idea | Handover) -> list[tuple[str, str]]:
    """The record as the submitter wrote it, as (question, answer) rows."""

    def listed(values: Iterable[str]) -> str:
        return ", ".join(label(v) for v in values) or "None given"

    if isinstance(record, Idea):
        aims = dict(session.execute(select(Aim.id, Aim.name)).all())  # type: ignore[arg-type]
        teams = dict(session.execute(select(Team.id, Team.name)).all())  # type: ignore[arg-type]
        return [
            ("What gets in the way today?", record.problem),
            ("What would you change?", record.proposal),
            ("Strategic aims", ", ".join(aims.get(a, str(a)) for a in record.aims)),
            ("Wastes", listed(record.wastes)),
            ("Benefits", listed(record.benefits)),
            ("Team", teams.get(record.team_id, "")),
            ("Who could be left out", record.equity_prompt or "Not answered"),
            ("Your name", "Shown to reviewers" if record.show_name else "Shown as Anonymous"),
        ]
    rows = [
        ("Type of note", label(record.note_type)),
        ("Where", partner_names(session).get(record.partner_id, "Unknown organisation")),
    ]
    if record.note_type == "good_practice":
        rows.append(("What went well", listed(record.good_practice)))
    else:
        rows.append(("What went wrong", listed(record.categories)))
        rows.append(
            ("Delay", f"{record.delay_minutes} minutes" if record.delay_minutes else "None given")
        )
        rows.append(("Harm", label(record.harm) if record.harm else "Not given"))
    rows += [
        ("What happened", record.narrative),
        ("Where exactly", record.location_detail or "Not given"),
        ("Journey", label(record.journey_type) if record.journey_type else "Not given"),
        ("What was done at the time", record.immediate_action or "Not given"),
        ("Vehicle call sign", record.vehicle or "Not given"),
    ]
    if record.review_note:
        rows.append(("Review note", record.review_note))
    return rows


def record_feedback(session: Session, kind: str, record_id: uuid.UUID) -> list[Feedback]:
    return _feedback(session, {RecordKind(kind): [record_id]}).get(str(record_id), [])


def can_reply(feedback: list[Feedback]) -> bool:
    """A reply answers a reviewer: there must be a comment from one."""
    return any(
        entry.source == "reviewer" and entry.text.startswith("Comment:") for entry in feedback
    )


REPLY_MAX = 4000


def reply_to_reviewer(
    session: Session, user: User, kind: str, record_id: uuid.UUID, body: str
) -> AuditEvent:
    """The submitter answers a reviewer's comment on their own record (SPEC §4): an audit event
    that notifies the record's owner (an idea's owner_id) or, where there is none, the managers."""
    record = own_record(session, user, kind, record_id)
    if not body.strip():
        raise Invalid([FieldError(field="body", message="Enter your reply")])
    if len(body) > REPLY_MAX:
        raise Invalid(
            [
                FieldError(
                    field="body", message=f"Your reply must be {REPLY_MAX} characters or fewer"
                )
            ]
        )
    if problems := nhs_number_problems({"body": body}):
        raise Invalid(problems)
    if not can_reply(record_feedback(session, kind, record_id)):
        raise Invalid(
            [FieldError(field="body", message="There is no reviewer's comment to reply to yet")]
        )
    record_kind = RecordKind.idea if kind == "idea" else RecordKind.handover
    event = AuditEvent(
        record_kind=record_kind,
        record_id=record_id,
        actor_id=user.id,  # type: ignore[arg-type]
        at=utcnow(),
        action=Action.reply,
        note=body,
        visible_to_submitter=True,
    )
    session.add(event)
    session.flush()
    owner = getattr(record, "owner_id", None)
    if owner is not None and owner != user.id:
        recipients = [owner]
    else:
        recipients = list(
            session.execute(
                select(User.id).where(
                    User.role.in_([Role.manager, Role.admin]),  # type: ignore[attr-defined]
                    User.active.is_(True),  # type: ignore[attr-defined]
                    User.id != user.id,
                )
            ).scalars()
        )
    subject = "An idea" if kind == "idea" else "A handover note"
    for recipient in recipients:
        session.add(
            Notification(
                user_id=recipient,
                event_id=event.id,  # type: ignore[arg-type]
                record_kind=record_kind,
                record_id=record_id,
                text=f"{subject} has a reply from the person who submitted it",
            )
        )
    return event


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
