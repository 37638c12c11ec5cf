"""The caller's own submissions with their status and feedback (`/mine`, `/api/v1/me/submissions`)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session

from api.handovers.service import to_read as handover_read
from api.ideas.service import to_read as idea_read
from schemas.accounts import User
from schemas.handovers import Handover, HandoverRead
from schemas.ideas import Idea, IdeaRead

MAX_OWN = 500


class MySubmissions(BaseModel):
    ideas: list[IdeaRead]
    handovers: list[HandoverRead]


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
    return MySubmissions(
        ideas=[idea_read(i, user, names) for i in ideas],
        handovers=[handover_read(n, names) for n in notes],
    )
