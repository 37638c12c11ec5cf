"""The organisation's reference lists (teams, partners, aims) as the forms and the API need them."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Integer, Table, bindparam, literal_column, select, union_all
from sqlmodel import Session

from api.driver import read_rows
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

Listed = type[Team] | type[Partner] | type[Aim]


def known_ids(connection: Connection, model: Listed, ids: Iterable[int]) -> set[int]:
    """Which of these ids exist, active or not: a note written offline before a partner was
    deactivated still names where it happened (the forms offer only active ones)."""
    return known_ids_of(connection, {model: ids})[model]


def known_ids_of(
    connection: Connection, wanted: dict[Listed, Iterable[int]]
) -> dict[Listed, set[int]]:
    """known_ids for several lists in one statement (a sync batch checks its teams and aims
    together: one round trip, issue 16). Plain columns of the tables on a Core connection
    (api/db.py::reading_connection), no ORM session, on the driver's cursor (api/driver.py)."""
    asked = {model: _padded(sorted(set(ids))) for model, ids in wanted.items()}
    found: dict[Listed, set[int]] = {model: set() for model in wanted}
    models = tuple(model for model, ids in asked.items() if ids)
    if not models:
        return found
    statement = _known(models, tuple(len(asked[model]) for model in models))
    parameters = {
        f"ids{position}_{index}": record_id
        for position, model in enumerate(models)
        for index, record_id in enumerate(asked[model])
    }
    for position, record_id in read_rows(connection, statement, parameters):
        found[models[position]].add(record_id)
    return found


def _padded(ids: list[int]) -> list[int]:
    """The ids, the last repeated up to the next power of two (an id twice in an IN list finds
    what it finds once): a statement per power of two, not per number of ids, so a batch naming
    any number of teams and aims (up to 100 and 2,000) uses one of a few dozen statements, and no
    sender can make the server compile a new one for every batch."""
    if not ids:
        return ids
    size = 1 << (len(ids) - 1).bit_length()
    return ids + [ids[-1]] * (size - len(ids))


@lru_cache(maxsize=256)
def _known(models: tuple[Listed, ...], counts: tuple[int, ...]) -> Any:
    """Built once for these lists and numbers of ids (powers of two, `_padded`), the ids bound at
    each execution, one parameter each: the driver's cursor takes no expanding parameter
    (api/driver.py::read_rows)."""
    parts = []
    for position, (model, count) in enumerate(zip(models, counts, strict=True)):
        table: Table = model.__table__  # type: ignore[union-attr]
        wanted = [
            bindparam(f"ids{position}_{index}", type_=table.c.id.type) for index in range(count)
        ]
        parts.append(
            select(literal_column(str(position), Integer), table.c.id).where(table.c.id.in_(wanted))
        )
    return parts[0] if len(parts) == 1 else union_all(*parts)


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
