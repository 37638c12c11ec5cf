"""Equity counted (the Inequity Waste Wheel's question asked at each decision): how many decisions
to accept or decline an idea had their Equity Pause answered, and how many ideas say who could be
left out. Shown on /measures."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from api.ideas.workflow import NEEDS_EQUITY_PAUSE
from schemas.audit import Action, AuditEvent, RecordKind
from schemas.ideas import Idea


@dataclass(frozen=True)
class EquityCounts:
    decisions: int  # moves to accepted or declined
    answered: int  # of those, with an Equity Pause answer recorded with the move
    ideas: int
    prompted: int  # ideas whose submitter said who could be left out

    @staticmethod
    def percent(part: int, whole: int) -> str:
        return f"{round(100 * part / whole)}%" if whole else "–"


def equity_counts(session: Session, team_id: int | None = None) -> EquityCounts:
    move = aliased(AuditEvent)
    pause = aliased(AuditEvent)
    decisions = select(move.id).where(
        move.record_kind == RecordKind.idea.value,
        move.action == Action.transition.value,
        move.to_status.in_([s.value for s in NEEDS_EQUITY_PAUSE]),  # type: ignore[union-attr]
    )
    ideas = select(Idea.id)
    if team_id:
        decisions = decisions.where(
            exists().where(Idea.id == move.record_id, Idea.team_id == team_id)
        )
        ideas = ideas.where(Idea.team_id == team_id)
    # The answer is recorded just before its move, in the same request (api/ideas/flows.py): the
    # record's event before the move is the answer. Ids, not times: portable and exact.
    before = aliased(AuditEvent)
    previous_id = (
        select(func.max(before.id))
        .where(
            before.record_kind == RecordKind.idea.value,
            before.record_id == move.record_id,
            before.id < move.id,  # type: ignore[operator]
        )
        # Two levels down (inside the EXISTS): SQLAlchemy correlates only to the enclosing
        # query on its own, so without this the move's table would be read afresh in here.
        .correlate(move)
        .scalar_subquery()
    )
    answered = decisions.where(
        exists().where(
            and_(
                pause.id == previous_id,
                pause.action == Action.equity_pause.value,
                pause.actor_id == move.actor_id,
            )
        )
    )

    def count(statement: object) -> int:
        subquery = statement.subquery()  # type: ignore[attr-defined]
        return int(session.execute(select(func.count()).select_from(subquery)).scalar_one())

    return EquityCounts(
        decisions=count(decisions),
        answered=count(answered),
        ideas=count(ideas),
        prompted=count(ideas.where(Idea.equity_prompt != "")),
    )
