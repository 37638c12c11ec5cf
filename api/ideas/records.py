"""How an idea is stored from a submission and shown back: the sync kind, rows and read models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Table, select

from api.reference.service import known_ids_of
from api.sync.kinds import RecordKind, Sender
from schemas.accounts import Aim, Team
from schemas.enums import IdeaStatus
from schemas.field_errors import FieldError
from schemas.ideas import Idea, IdeaAim, IdeaIn, IdeaWaste

# Ideas that worked and can be learnt from: the learning library and what "Try this" may spread.
LEARNING_STATUSES = frozenset({IdeaStatus.implemented, IdeaStatus.shared})

IDEA_TABLE: Table = Idea.__table__  # type: ignore[attr-defined]


def _row(
    record_id: uuid.UUID, data: BaseModel, sender: Sender, digest: str, now: datetime
) -> dict[str, Any]:
    assert isinstance(data, IdeaIn)
    return {
        "id": record_id,
        "title": data.title,
        "problem": data.problem,
        "proposal": data.proposal,
        "wastes": [str(w) for w in data.wastes],
        "aims": list(data.aims),
        "benefits": [str(b) for b in data.benefits],
        "team_id": data.team_id,
        "show_name": data.show_name,
        "equity_prompt": data.equity_prompt,
        "spread_from": data.spread_from,
        "status": "submitted",
        "submitted_by": sender.id,
        "version": 1,
        "content_hash": digest,
        "created_at": data.created_at or now,
        "received_at": now,
        "updated_at": now,
        # Ideas from a partner organisation's user join the queue marked with that organisation
        # (the sender as this request's sign-in check read them): in the row itself, so the row
        # is what is stored and no UPDATE follows the insert.
        "partner_id": sender.partner_id,
    }


def _links(record_id: uuid.UUID, data: BaseModel) -> list[tuple[Table, dict[str, Any]]]:
    assert isinstance(data, IdeaIn)
    aim_table: Table = IdeaAim.__table__  # type: ignore[attr-defined]
    waste_table: Table = IdeaWaste.__table__  # type: ignore[attr-defined]
    return [(aim_table, {"idea_id": record_id, "aim_id": a}) for a in data.aims] + [
        (waste_table, {"idea_id": record_id, "waste": str(w)}) for w in data.wastes
    ]


def shared_ideas(connection: Connection, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `ids` that are in the learning library (implemented or shared): what may spread."""
    if not ids:
        return set()
    rows = connection.execute(
        select(Idea.id).where(
            Idea.id.in_(ids),  # type: ignore[attr-defined]
            Idea.status.in_([s.value for s in LEARNING_STATUSES]),  # type: ignore[attr-defined]
        )
    )
    return set(rows.scalars())


def _check_references(connection: Connection, records: list[BaseModel]) -> list[list[FieldError]]:
    ideas = [r for r in records if isinstance(r, IdeaIn)]
    known = known_ids_of(
        connection, {Team: [i.team_id for i in ideas], Aim: [a for i in ideas for a in i.aims]}
    )
    teams, aims = known[Team], known[Aim]
    sources = shared_ideas(connection, {i.spread_from for i in ideas if i.spread_from})
    problems: list[list[FieldError]] = []
    for idea in ideas:
        errors = []
        if idea.team_id not in teams:
            errors.append(FieldError(field="team_id", message="Select a team from the list"))
        if any(a not in aims for a in idea.aims):
            errors.append(FieldError(field="aims", message="Select strategic aims from the list"))
        if idea.spread_from is not None and idea.spread_from not in sources:
            errors.append(
                FieldError(
                    field="spread_from",
                    message="The idea you are trying must be one from the shared learning library",
                )
            )
        problems.append(errors)
    return problems


IDEA_KIND = RecordKind(
    name="idea",
    model=IdeaIn,
    table=IDEA_TABLE,
    owner_column="submitted_by",
    link_rows=_links,
    check_references=_check_references,
    to_row=_row,
)
