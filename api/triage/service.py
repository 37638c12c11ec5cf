"""What the managers' pages show beside the records: names for ids, the owners to choose from,
and the impact/effort matrix."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from api.auth.users import user_names
from api.ideas.service import OPEN_STATUSES, to_read
from schemas.accounts import Aim, Partner, Team, User
from schemas.enums import Role
from schemas.ideas import Idea, IdeaRead

MATRIX_LIMIT = 400


def names_by_id(session: Session) -> dict[str, dict[int, str]]:
    """Every team, aim and partner by id, active or not: old records keep their names."""
    return {
        "teams": dict(session.execute(select(Team.id, Team.name)).all()),  # type: ignore[arg-type]
        "aims": dict(session.execute(select(Aim.id, Aim.name)).all()),  # type: ignore[arg-type]
        "partners": dict(session.execute(select(Partner.id, Partner.name)).all()),  # type: ignore[arg-type]
    }


def possible_owners(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(User.id, User.name)
        .where(User.active.is_(True), User.role.in_([Role.manager.value, Role.admin.value]))  # type: ignore[attr-defined]
        .order_by(User.name)
    )
    return [{"id": r[0], "name": r[1]} for r in rows]


# Impact and effort are 1–3: "high impact" is 2 or 3, "high effort" is 3 (docs/triage.md).
QUADRANTS = [
    ("quick_wins", "Quick wins", "High impact, low effort"),
    ("major_projects", "Major projects", "High impact, high effort"),
    ("fill_ins", "Fill-ins", "Low impact, low effort"),
    ("thankless", "Thankless tasks", "Low impact, high effort"),
]


def quadrant(impact: int, effort: int) -> str:
    high_impact, high_effort = impact >= 2, effort >= 3
    if high_impact:
        return "major_projects" if high_effort else "quick_wins"
    return "thankless" if high_effort else "fill_ins"


@dataclass
class Matrix:
    quadrants: dict[str, list[IdeaRead]] = field(default_factory=lambda: defaultdict(list))
    unrated: int = 0


def impact_effort_matrix(session: Session, viewer: User) -> Matrix:
    open_ideas = select(Idea).where(Idea.status.in_([s.value for s in OPEN_STATUSES]))  # type: ignore[attr-defined]
    rated = list(
        session.execute(
            open_ideas.where(Idea.impact.is_not(None), Idea.effort.is_not(None))  # type: ignore[union-attr]
            .order_by(Idea.impact.desc(), Idea.effort.asc(), Idea.received_at.desc())  # type: ignore[union-attr]
            .limit(MATRIX_LIMIT)
        ).scalars()
    )
    matrix = Matrix()
    names = user_names(session, {i.submitted_by for i in rated})
    for idea in rated:
        matrix.quadrants[quadrant(idea.impact, idea.effort)].append(to_read(idea, viewer, names))  # type: ignore[arg-type]
    unrated = (
        select(func.count())
        .select_from(Idea)
        .where(
            Idea.status.in_([s.value for s in OPEN_STATUSES]),  # type: ignore[attr-defined]
            Idea.impact.is_(None) | Idea.effort.is_(None),  # type: ignore[union-attr]
        )
    )
    matrix.unrated = int(session.execute(unrated).scalar_one())
    return matrix


def select_items(
    pairs: list[tuple[Any, str]], selected: Any, any_text: str | None
) -> list[dict[str, Any]]:
    """Items for an NHS select: an optional "any" first, the current choice selected."""
    head = [{"value": "", "text": any_text}] if any_text else []
    return head + [
        {"value": str(value), "text": text, "selected": str(value) == str(selected)}
        for value, text in pairs
    ]
