"""The organisation's reference lists (teams, partners, aims) as the forms and the API need them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from schemas.accounts import Aim, Partner, Team
from schemas.enums import (
    Benefit,
    Category,
    GoodPractice,
    HandoverStatus,
    Harm,
    IdeaStatus,
    JourneyType,
    NoteType,
    Waste,
    label,
)


def known_ids(
    session: Session, model: type[Team] | type[Partner] | type[Aim], ids: Iterable[int]
) -> set[int]:
    """Which of these ids exist, active or not: a note written offline before a partner was
    deactivated still names where it happened (the forms offer only active ones)."""
    wanted = set(ids)
    if not wanted:
        return set()
    rows = session.execute(select(model.id).where(model.id.in_(wanted)))  # type: ignore[union-attr]
    return {row[0] for row in rows}


def _options(values: Iterable[str]) -> list[dict[str, str]]:
    return [{"value": v, "label": label(v)} for v in values]


def reference_data(session: Session) -> dict[str, Any]:
    teams = session.execute(select(Team).where(Team.active.is_(True)).order_by(Team.name)).scalars()  # type: ignore[attr-defined]
    partners = session.execute(
        select(Partner).where(Partner.active.is_(True)).order_by(Partner.name)  # type: ignore[attr-defined]
    ).scalars()
    aims = session.execute(select(Aim).where(Aim.active.is_(True)).order_by(Aim.id)).scalars()  # type: ignore[attr-defined]
    return {
        "teams": [{"id": t.id, "name": t.name} for t in teams],
        "partners": [{"id": p.id, "name": p.name, "kind": p.kind} for p in partners],
        "aims": [{"id": a.id, "name": a.name, "description": a.description} for a in aims],
        "wastes": _options(Waste),
        "benefits": _options(Benefit),
        "journey_types": _options(JourneyType),
        "note_types": _options(NoteType),
        "categories": _options(Category),
        "good_practice": _options(GoodPractice),
        "harms": _options(Harm),
        "idea_statuses": _options(IdeaStatus),
        "handover_statuses": _options(HandoverStatus),
    }
