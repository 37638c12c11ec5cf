"""Ideas: taking one in, showing it to the right people, and the managers' filtered list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlmodel import Session

from api.auth.identity import is_manager
from api.auth.users import user_names
from api.errors import Forbidden, NotFound
from api.filtering import london_day_range
from api.ideas.search import matching
from api.pagination import Sort, page_after, split_page
from schemas.accounts import User
from schemas.enums import IdeaStatus
from schemas.ideas import Idea, IdeaAim, IdeaRead, IdeaWaste
from schemas.timestamps import utcnow

ANONYMOUS = "Anonymous"


def to_read(
    idea: Idea, viewer: User, names: dict[int, str], now: datetime | None = None
) -> IdeaRead:
    own = idea.submitted_by == viewer.id
    visible = own or idea.show_name
    return IdeaRead(
        **idea.model_dump(exclude={"content_hash", "submitted_by"}),
        submitted_by=idea.submitted_by if visible else None,
        submitter_name=names.get(idea.submitted_by, "") if visible else ANONYMOUS,
        flags=[f.value for f in flags_of(idea, now or utcnow())],
    )


def get_idea_for(session: Session, viewer: User, idea_id: uuid.UUID) -> IdeaRead:
    idea = session.get(Idea, idea_id)
    if idea is None:
        raise NotFound("No idea has this id.")
    if not is_manager(viewer) and idea.submitted_by != viewer.id:
        # Reporters (and partners' users) see only their own; say "not found" so ids of others' ideas are not confirmed.
        raise NotFound("No idea has this id.")
    # Most often the viewer wrote it (the answer to their own POST): their name is at hand.
    names = (
        {viewer.id: viewer.name}
        if idea.submitted_by == viewer.id
        else user_names(session, {idea.submitted_by})
    )
    return to_read(idea, viewer, names)  # type: ignore[arg-type]


FIRST_RESPONSE_DUE = timedelta(days=7)
STALLED_AFTER = timedelta(days=30)
OPEN_STATUSES = frozenset(
    {
        IdeaStatus.submitted,
        IdeaStatus.under_review,
        IdeaStatus.accepted,
        IdeaStatus.testing,
        IdeaStatus.implemented,
    }
)


class Flag(StrEnum):
    needs_first_response = "needs_first_response"  # submitted, no manager action for 7 days
    stalled = "stalled"  # still open, no update for 30 days


def flags_of(idea: Idea, now: datetime) -> list[Flag]:
    flags = []
    if (
        idea.status == IdeaStatus.submitted
        and idea.first_response_at is None
        and now - idea.received_at >= FIRST_RESPONSE_DUE
    ):
        flags.append(Flag.needs_first_response)
    if idea.status in OPEN_STATUSES and now - idea.updated_at >= STALLED_AFTER:
        flags.append(Flag.stalled)
    return flags


def _flag_condition(flag: Flag, now: datetime) -> ColumnElement[bool]:
    if flag is Flag.needs_first_response:
        return and_(
            Idea.status == IdeaStatus.submitted,
            Idea.first_response_at.is_(None),  # type: ignore[union-attr]
            Idea.received_at <= now - FIRST_RESPONSE_DUE,
        )
    return and_(
        Idea.status.in_([s.value for s in OPEN_STATUSES]),  # type: ignore[attr-defined]
        Idea.updated_at <= now - STALLED_AFTER,
    )


@dataclass
class IdeaFilters:
    status: str | None = None
    team_id: int | None = None
    aim: int | None = None
    waste: str | None = None
    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    flag: Flag | None = None
    owner_id: int | None = None
    # The queue's default: open ideas only (a status chosen from the menu wins over it).
    open_only: bool = False


def list_ideas(
    session: Session,
    viewer: User,
    filters: IdeaFilters,
    cursor: str | None,
    limit: int,
    sort: Sort = Sort.newest,
) -> tuple[list[IdeaRead], str | None]:
    if not is_manager(viewer):
        raise Forbidden()
    now = utcnow()
    statement = filtered_ideas(session, filters, now)
    rows = list(session.execute(page_after(statement, Idea, cursor, limit, sort)).scalars())
    page, next_cursor = split_page(rows, limit, sort)
    names = user_names(session, {i.submitted_by for i in page})
    return [to_read(i, viewer, names, now) for i in page], next_cursor


def filtered_ideas(session: Session, filters: IdeaFilters, now: datetime) -> Select[tuple[Idea]]:
    """The managers' filters as one statement, shared by the queue, the API list and the export."""
    statement = select(Idea)
    if filters.flag:
        statement = statement.where(_flag_condition(filters.flag, now))
    if filters.owner_id:
        statement = statement.where(Idea.owner_id == filters.owner_id)
    if filters.status:
        statement = statement.where(Idea.status == filters.status)
    elif filters.open_only:
        statement = statement.where(Idea.status.in_([s.value for s in OPEN_STATUSES]))  # type: ignore[attr-defined]
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
    if filters.q and filters.q.strip():
        statement = statement.where(matching(session, filters.q))
    start, end = london_day_range(filters.date_from, filters.date_to)
    if start:
        statement = statement.where(Idea.received_at >= start)
    if end:
        statement = statement.where(Idea.received_at < end)
    return statement


def count_ideas(session: Session, filters: IdeaFilters) -> int:
    """How many ideas match the filters: the queue says so above its first page."""
    matching_ids = filtered_ideas(session, filters, utcnow()).with_only_columns(Idea.id)  # type: ignore[arg-type]
    return int(
        session.execute(select(func.count()).select_from(matching_ids.subquery())).scalar_one()
    )
