"""Ideas: taking one in, showing it to the right people, and the managers' filtered list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, or_, select
from sqlmodel import Session

from api.auth.users import user_names
from api.errors import Forbidden, NotFound
from api.filtering import like_pattern, london_day_range
from api.pagination import page_after, split_page
from schemas.accounts import User
from schemas.enums import Role
from schemas.ideas import Idea, IdeaAim, IdeaRead, IdeaWaste

ANONYMOUS = "Anonymous"


def to_read(idea: Idea, viewer: User, names: dict[int, str]) -> IdeaRead:
    own = idea.submitted_by == viewer.id
    visible = own or idea.show_name
    return IdeaRead(
        **idea.model_dump(exclude={"content_hash", "submitted_by"}),
        submitted_by=idea.submitted_by if visible else None,
        submitter_name=names.get(idea.submitted_by, "") if visible else ANONYMOUS,
    )


def get_idea_for(session: Session, viewer: User, idea_id: uuid.UUID) -> IdeaRead:
    idea = session.get(Idea, idea_id)
    if idea is None:
        raise NotFound("No idea has this id.")
    if viewer.role == Role.reporter and idea.submitted_by != viewer.id:
        # Reporters see only their own; say "not found" so ids of others' ideas are not confirmed.
        raise NotFound("No idea has this id.")
    return to_read(idea, viewer, user_names(session, {idea.submitted_by}))


@dataclass
class IdeaFilters:
    status: str | None = None
    team_id: int | None = None
    aim: int | None = None
    waste: str | None = None
    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def list_ideas(
    session: Session, viewer: User, filters: IdeaFilters, cursor: str | None, limit: int
) -> tuple[list[IdeaRead], str | None]:
    if viewer.role == Role.reporter:
        raise Forbidden()
    statement = select(Idea)
    if filters.status:
        statement = statement.where(Idea.status == filters.status)
    if filters.team_id:
        statement = statement.where(Idea.team_id == filters.team_id)
    if filters.aim:
        statement = statement.where(
            exists().where(IdeaAim.idea_id == Idea.id, IdeaAim.aim_id == filters.aim)
        )
    if filters.waste:
        statement = statement.where(
            exists().where(IdeaWaste.idea_id == Idea.id, IdeaWaste.waste == filters.waste)
        )
    if filters.q:
        pattern = like_pattern(filters.q)
        statement = statement.where(
            or_(
                func.lower(Idea.title).like(pattern, escape="\\"),
                func.lower(Idea.problem).like(pattern, escape="\\"),
                func.lower(Idea.proposal).like(pattern, escape="\\"),
            )
        )
    start, end = london_day_range(filters.date_from, filters.date_to)
    if start:
        statement = statement.where(Idea.received_at >= start)
    if end:
        statement = statement.where(Idea.received_at < end)
    rows = list(session.execute(page_after(statement, Idea, cursor, limit)).scalars())
    page, next_cursor = split_page(rows, limit)
    names = user_names(session, {i.submitted_by for i in page})
    return [to_read(i, viewer, names) for i in page], next_cursor
