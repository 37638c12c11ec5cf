"""PDSA cycles on ideas being tried out: only on ideas that are accepted or testing (SPEC §8)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from api.errors import Conflict, NotFound
from schemas.accounts import User
from schemas.enums import IdeaStatus
from schemas.free_text import MAX_RECORD_ID
from schemas.ideas import Idea
from schemas.pdsa import (
    PdsaCycle,
    PdsaCycleIn,
    PdsaCycleRead,
    PdsaPoint,
    PdsaPointIn,
    PdsaPointRead,
)
from schemas.timestamps import utcnow

TESTABLE = frozenset({IdeaStatus.accepted, IdeaStatus.testing})


def _idea(session: Session, idea_id: uuid.UUID) -> Idea:
    idea = session.get(Idea, idea_id)
    if idea is None:
        raise NotFound("No idea has this id.")
    return idea


def cycles_of(session: Session, idea_id: uuid.UUID) -> list[PdsaCycleRead]:
    cycles = list(
        session.execute(
            select(PdsaCycle).where(PdsaCycle.idea_id == idea_id).order_by(PdsaCycle.created_at)
        ).scalars()  # type: ignore[arg-type]
    )
    points: dict[int, list[PdsaPointRead]] = {c.id: [] for c in cycles}  # type: ignore[misc]
    if cycles:
        rows = session.execute(
            select(PdsaPoint).where(PdsaPoint.cycle_id.in_(points)).order_by(PdsaPoint.day)  # type: ignore[attr-defined]
        ).scalars()
        for point in rows:
            points[point.cycle_id].append(PdsaPointRead(day=point.day, value=point.value))
    return [
        PdsaCycleRead(**c.model_dump(exclude={"created_by", "updated_at"}), points=points[c.id])  # type: ignore[index]
        for c in cycles
    ]


def add_cycle(
    session: Session, actor: User, idea_id: uuid.UUID, data: PdsaCycleIn
) -> PdsaCycleRead:
    idea = _idea(session, idea_id)
    if idea.status not in TESTABLE:
        raise Conflict(
            {
                "message": "PDSA cycles are for ideas that are accepted or being tested.",
                "status": idea.status,
            }
        )
    cycle = PdsaCycle(idea_id=idea.id, created_by=actor.id, **data.model_dump())  # type: ignore[arg-type]
    session.add(cycle)
    session.flush()
    return PdsaCycleRead(**cycle.model_dump(exclude={"created_by", "updated_at"}), points=[])


def _cycle(session: Session, idea_id: uuid.UUID, cycle_id: int) -> PdsaCycle:
    cycle = session.get(PdsaCycle, cycle_id) if 0 < cycle_id <= MAX_RECORD_ID else None
    if cycle is None or cycle.idea_id != idea_id:
        raise NotFound("No PDSA cycle has this id on this idea.")
    return cycle


def update_cycle(session: Session, idea_id: uuid.UUID, cycle_id: int, data: PdsaCycleIn) -> None:
    cycle = _cycle(session, idea_id, cycle_id)
    for key, value in data.model_dump().items():
        setattr(cycle, key, value)
    cycle.updated_at = utcnow()


def record_point(session: Session, idea_id: uuid.UUID, cycle_id: int, point: PdsaPointIn) -> None:
    """One value per day: recording a day again replaces its value (a correction, not a second point)."""
    _cycle(session, idea_id, cycle_id)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(PdsaPoint).values(cycle_id=cycle_id, day=point.day, value=point.value)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["cycle_id", "day"], set_={"value": point.value}
        )
    )
