"""Ideas: taking one in, showing it to the right people, and the managers' filtered list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import Session, col

from api.auth.identity import is_manager
from api.auth.users import user_names
from api.db import detached
from api.errors import Forbidden, NotFound
from api.filtering import london_day_range
from api.ideas.records import IDEA_TABLE
from api.ideas.search import matching
from api.pagination import Sort, page_after, split_page
from api.sync.bulk_insert import as_read_back
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


def idea_answer(
    session: Session, viewer: User, idea_id: uuid.UUID, inserted: dict[str, Any] | None
) -> IdeaRead:
    """The idea a POST answers with: built from the row the request has just `inserted` (it is
    the viewer's own, and what the database now holds: no read-back, issue 16), or read back (a
    replay)."""
    if inserted is None:
        return get_idea_for(session, viewer, idea_id)
    idea = detached(Idea, as_read_back(IDEA_TABLE, inserted))
    return to_read(idea, viewer, {viewer.id: viewer.name})  # type: ignore[dict-item]


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


def _flag_condition(
    flag: Flag,
    now: datetime,
    status: ColumnElement[str] = Idea.status,  # type: ignore[assignment]
) -> ColumnElement[bool]:
    if flag is Flag.needs_first_response:
        return and_(
            Idea.status == IdeaStatus.submitted,
            Idea.first_response_at.is_(None),  # type: ignore[union-attr]
            Idea.received_at <= now - FIRST_RESPONSE_DUE,
        )
    return and_(
        status.in_([s.value for s in OPEN_STATUSES]),
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
    statement = select(Idea).where(*_conditions(session, filters, now, listing=True))
    rows = list(session.execute(page_after(statement, Idea, cursor, limit, sort)).scalars())
    page, next_cursor = split_page(rows, limit, sort)
    names = user_names(session, {i.submitted_by for i in page})
    return [to_read(i, viewer, names, now) for i in page], next_cursor


def filtered_ideas(session: Session, filters: IdeaFilters, now: datetime) -> Select[tuple[Idea]]:
    """The managers' filters as one statement, shared by the queue, the API list and the export."""
    return select(Idea).where(*_conditions(session, filters, now, listing=True))


def _status_condition(
    column: ColumnElement[str], filters: IdeaFilters
) -> ColumnElement[bool] | None:
    """The status menu, or the queue's default of open ideas (a chosen status wins over it): the
    one rule, for an idea's own status and for the copy its aim and waste links carry."""
    if filters.status:
        return column == filters.status
    if filters.open_only:
        return column.in_([s.value for s in OPEN_STATUSES])
    return None


def _unindexed(session: Session, column: ColumnElement[str]) -> ColumnElement[str]:
    """`+column` on SQLite: the same value, but the planner may not use an index for it. Without
    statistics SQLite takes `status IN (5 open statuses)` for a narrow filter and sorted nine in ten
    ideas to show 25 (1 million VM steps at 100,000 ideas); told not to, it walks the sort's index
    and stops after a page. PostgreSQL keeps statistics and chooses well by itself."""
    if session.get_bind().dialect.name != "sqlite":
        return column
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _conditions(
    session: Session, filters: IdeaFilters, now: datetime, *, listing: bool
) -> list[ColumnElement[bool]]:
    """The filters as WHERE terms on `idea`. `listing`: for a page in a sort order, where the open
    ideas' status is not an index to start from (see `_unindexed`); a count reads it, unless it
    counts a search's matches."""
    conditions: list[ColumnElement[bool]] = []
    searching = bool(filters.q and filters.q.strip())
    status_column: ColumnElement[str] = Idea.status  # type: ignore[assignment]
    if (listing or searching) and not filters.status:
        # A page walks its sort's index; a search starts from the words' matches.
        status_column = _unindexed(session, status_column)
    if filters.flag:
        conditions.append(_flag_condition(filters.flag, now, status_column))
    if filters.owner_id:
        conditions.append(col(Idea.owner_id) == filters.owner_id)
    if (status := _status_condition(status_column, filters)) is not None:
        conditions.append(status)
    if filters.team_id:
        conditions.append(col(Idea.team_id) == filters.team_id)
    if filters.aim:
        # The key columns, not `*`: SQLite then answers from the primary key's index alone.
        conditions.append(
            select(col(IdeaAim.idea_id))
            .where(col(IdeaAim.idea_id) == col(Idea.id), col(IdeaAim.aim_id) == filters.aim)
            .exists()
        )
    if filters.waste:
        conditions.append(
            select(col(IdeaWaste.idea_id))
            .where(col(IdeaWaste.idea_id) == col(Idea.id), col(IdeaWaste.waste) == filters.waste)
            .exists()
        )
    if searching:
        conditions.append(matching(session, filters.q or ""))
    start, end = london_day_range(filters.date_from, filters.date_to)
    if start:
        conditions.append(col(Idea.received_at) >= start)
    if end:
        conditions.append(col(Idea.received_at) < end)
    return conditions


def _only_a_link(filters: IdeaFilters) -> type[IdeaAim] | type[IdeaWaste] | None:
    """The link table that alone answers a count: an aim or a waste chosen, with or without a
    status or the open default, and no filter on the idea itself."""
    on_idea = (
        filters.flag,
        filters.owner_id,
        filters.team_id,
        filters.q and filters.q.strip(),
        filters.date_from,
        filters.date_to,
    )
    if any(on_idea) or bool(filters.aim) == bool(filters.waste):
        return None
    return IdeaAim if filters.aim else IdeaWaste


def count_ideas(session: Session, filters: IdeaFilters) -> int:
    """How many ideas match the filters: the queue says so above its first page. Each count reads
    one index range where it can (migration 0015): an aim or waste alone counts its links, whose
    status is their idea's (each idea links to an aim or a waste at most once)."""
    link = _only_a_link(filters)
    where: list[ColumnElement[bool]]
    if link is IdeaAim:
        where = [col(IdeaAim.aim_id) == filters.aim]
    elif link is IdeaWaste:
        where = [col(IdeaWaste.waste) == filters.waste]
    else:
        where = _conditions(session, filters, utcnow(), listing=False)
    table: Any = link or Idea
    if link is not None and (status := _status_condition(table.status, filters)) is not None:
        where.append(status)
    return int(session.execute(select(func.count()).select_from(table).where(*where)).scalar_one())
