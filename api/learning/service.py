"""The learning library: implemented and shared ideas for every member of staff, searched and
filtered with the ideas' own filters (api/ideas/service.py, api/ideas/search.py), and "Try this in
my team" — a new idea that records the one it spreads (`spread_from`), counted per original."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from api.auth.users import user_names
from api.errors import NotFound
from api.ideas.records import LEARNING_STATUSES
from api.ideas.service import ANONYMOUS, IdeaFilters, filtered_ideas
from api.pagination import Sort, page_after, split_page
from api.pdsa.service import cycles_of
from schemas.accounts import Aim, Team, User
from schemas.enums import IdeaStatus
from schemas.ideas import Idea
from schemas.learning import LearningItem
from schemas.timestamps import utcnow

# Most recently finished first: what a team has just learnt is what others want to hear.
SORT = Sort.updated


def tried_in_teams(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many teams have started an idea spread from each of `ids` (a duplicate does not count)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Idea.spread_from, func.count(func.distinct(Idea.team_id)))
        .where(
            Idea.spread_from.in_(wanted),  # type: ignore[union-attr]
            Idea.status != IdeaStatus.duplicate.value,
        )
        .group_by(Idea.spread_from)
    )
    return {row[0]: int(row[1]) for row in rows}


def _items(session: Session, viewer: User, ideas: list[Idea]) -> list[LearningItem]:
    names = user_names(session, {i.submitted_by for i in ideas})
    teams: dict[Any, str] = dict(session.execute(select(Team.id, Team.name)).all())  # type: ignore[arg-type]
    aims: dict[Any, str] = dict(session.execute(select(Aim.id, Aim.name)).all())  # type: ignore[arg-type]
    spread = tried_in_teams(session, [i.id for i in ideas])
    return [
        LearningItem(
            id=i.id,
            title=i.title,
            problem=i.problem,
            proposal=i.proposal,
            wastes=list(i.wastes),
            aims=list(i.aims),
            aim_names=[aims.get(a, "Unknown aim") for a in i.aims],
            benefits=list(i.benefits),
            team_id=i.team_id,
            team_name=teams.get(i.team_id, "Unknown team"),
            status=i.status,
            submitter_name=names.get(i.submitted_by, "")
            if i.show_name or i.submitted_by == viewer.id
            else ANONYMOUS,
            received_at=i.received_at,
            updated_at=i.updated_at,
            pdsa=cycles_of(session, i.id),
            tried_in_teams=spread.get(i.id, 0),
            spread_from=i.spread_from,
        )
        for i in ideas
    ]


def list_learning(
    session: Session,
    viewer: User,
    filters: IdeaFilters,
    cursor: str | None,
    limit: int,
) -> tuple[list[LearningItem], str | None]:
    """Only `q`, `aim` and `waste` of the filters apply: the library is what worked, nothing else."""
    wanted = IdeaFilters(q=filters.q, aim=filters.aim, waste=filters.waste)
    statement = filtered_ideas(session, wanted, utcnow()).where(
        Idea.status.in_([s.value for s in LEARNING_STATUSES])  # type: ignore[attr-defined]
    )
    rows = list(session.execute(page_after(statement, Idea, cursor, limit, SORT)).scalars())
    page, next_cursor = split_page(rows, limit, SORT)
    return _items(session, viewer, page), next_cursor


def learning_idea(session: Session, viewer: User, idea_id: uuid.UUID) -> LearningItem:
    """One idea of the library; anything else is "not found" (not every idea is for everyone)."""
    idea = session.get(Idea, idea_id)
    if idea is None or IdeaStatus(idea.status) not in LEARNING_STATUSES:
        raise NotFound("This idea is not in the learning library.")
    return _items(session, viewer, [idea])[0]


def spread_form(original: LearningItem, viewer: User) -> dict[str, Any]:
    """The idea form, filled from the original for the reader's own team."""
    return {
        "id": str(uuid.uuid4()),
        "title": original.title,
        "problem": original.problem,
        "proposal": original.proposal,
        "aims": list(original.aims),
        "wastes": list(original.wastes),
        "benefits": list(original.benefits),
        "team_id": viewer.team_id,
        "show_name": True,
        "spread_from": str(original.id),
    }
