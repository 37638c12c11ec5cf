"""What the managers' pages show beside the records: names for ids, the owners to choose from,
and the impact/effort matrix."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from api.auth.users import user_names
from api.filtering import like_pattern
from api.ideas.service import OPEN_STATUSES, to_read
from schemas.accounts import Aim, Partner, Team, User
from schemas.enums import IdeaStatus, Role
from schemas.ideas import Idea, IdeaRead


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
_RANGES = {
    "quick_wins": ((2, 3), (1, 2)),
    "major_projects": ((2, 3), (3,)),
    "fill_ins": ((1,), (1, 2)),
    "thankless": ((1,), (3,)),
}
PER_QUADRANT = 25


def quadrant(impact: int, effort: int) -> str:
    return next(k for k, (i, e) in _RANGES.items() if impact in i and effort in e)


@dataclass
class Matrix:
    quadrants: dict[str, list[IdeaRead]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    unrated: int = 0


def impact_effort_matrix(session: Session, viewer: User) -> Matrix:
    """Per quadrant, how many open ideas sit there and the 25 received most recently; each query
    rides the (impact, effort, status, received_at) index, so it stays quick on a large queue."""
    open_values = [s.value for s in OPEN_STATUSES]
    matrix = Matrix()
    shown: list[Idea] = []
    for key, (impacts, efforts) in _RANGES.items():
        where = (
            Idea.impact.in_(impacts),  # type: ignore[union-attr]
            Idea.effort.in_(efforts),  # type: ignore[union-attr]
            Idea.status.in_(open_values),  # type: ignore[attr-defined]
        )
        matrix.counts[key] = int(
            session.execute(select(func.count()).select_from(Idea).where(*where)).scalar_one()
        )
        ideas = list(
            session.execute(
                select(Idea).where(*where).order_by(Idea.received_at.desc()).limit(PER_QUADRANT)  # type: ignore[attr-defined]
            ).scalars()
        )
        shown += ideas
        matrix.quadrants[key] = ideas  # type: ignore[assignment]
    names = user_names(session, {i.submitted_by for i in shown})
    matrix.quadrants = {
        k: [to_read(i, viewer, names) for i in v] for k, v in matrix.quadrants.items()
    }  # type: ignore[arg-type]
    # Open minus rated: counting "impact or effort is null" directly reads every row (180 ms at
    # 100,000 ideas); counting open ideas rides the status index.
    open_total = select(func.count()).select_from(Idea).where(Idea.status.in_(open_values))  # type: ignore[attr-defined]
    matrix.unrated = int(session.execute(open_total).scalar_one()) - sum(matrix.counts.values())
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


ORIGINALS_SHOWN = 10


def original_candidates(session: Session, q: str, exclude: uuid.UUID) -> list[dict[str, Any]]:
    """Ideas whose title holds every word typed, newest first, for choosing the original of a
    duplicate: never the idea itself, nor another duplicate (the chain would lead nowhere)."""
    words = q.split()[:8]
    if not words:
        return []
    conditions = [func.lower(Idea.title).like(like_pattern(w), escape="\\") for w in words]
    rows = session.execute(
        select(Idea.id, Idea.title, Idea.status)
        .where(*conditions, Idea.id != exclude, Idea.status != IdeaStatus.duplicate.value)
        .order_by(Idea.received_at.desc())  # type: ignore[attr-defined]
        .limit(ORIGINALS_SHOWN)
    )
    return [{"id": r[0], "title": r[1], "status": r[2]} for r in rows]


def duplicate_links(
    session: Session, idea_id: uuid.UUID, original_id: uuid.UUID | None
) -> dict[str, Any]:
    """The original this idea duplicates, and the ideas marked as duplicates of this one."""
    original = None
    if original_id is not None:
        row = session.execute(select(Idea.id, Idea.title).where(Idea.id == original_id)).first()
        original = {"id": row[0], "title": row[1]} if row else None
    duplicates = [
        {"id": r[0], "title": r[1]}
        for r in session.execute(
            select(Idea.id, Idea.title)
            .where(Idea.duplicate_of == idea_id)
            .order_by(Idea.received_at)  # type: ignore[arg-type]
        )
    ]
    return {"original": original, "duplicates": duplicates}


def organisation_choices(session: Session) -> list[tuple[int, str]]:
    """Partner organisations for a filter menu, each followed by its sites: choosing the
    organisation covers its sites, choosing a site covers only that site."""
    rows = session.execute(
        select(Partner.id, Partner.name, Partner.parent_id).order_by(func.lower(Partner.name))
    ).all()
    names = {r[0]: r[1] for r in rows}
    sites: dict[int, list[tuple[int, str]]] = {}
    for pid, name, parent in rows:
        if parent is not None and parent in names:
            sites.setdefault(parent, []).append((pid, name))
    choices: list[tuple[int, str]] = []
    for pid, name, parent in rows:
        if parent is not None and parent in names:
            continue
        children = sites.get(pid, [])
        choices.append(
            (
                pid,
                f"{name} (and its {len(children)} site{'s' if len(children) > 1 else ''})"
                if children
                else name,
            )
        )
        choices += [(cid, f"{cname} (a site of {name})") for cid, cname in children]
    return choices
