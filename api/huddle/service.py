"""The huddle board (SPEC §6 `/huddle`, `GET /api/v1/huddle`): who may see and move a team's cards,
the three columns, and a move from the board — which is the ideas' own move (api/ideas/flows.py),
so the transition table and the Equity Pause apply exactly as on the idea page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from api.auth.identity import ranks_at_least
from api.auth.users import user_names
from api.errors import Forbidden, Invalid, NotFound
from api.ideas.flows import move_idea
from api.ideas.service import to_read
from api.ideas.workflow import NEEDS_EQUITY_PAUSE, NEEDS_TARGET, allowed_moves
from schemas.accounts import Team, User
from schemas.audit import Action, AuditEvent, RecordKind
from schemas.enums import IdeaStatus as S
from schemas.enums import Role
from schemas.field_errors import FieldError
from schemas.ideas import Idea, IdeaRead
from schemas.timestamps import utcnow

# SPEC §6: the columns and the statuses each shows.
COLUMNS: dict[str, tuple[S, ...]] = {
    "to_do": (S.submitted, S.under_review),
    "doing": (S.accepted, S.testing),
    "done": (S.implemented, S.shared),
}
COLUMN_NAMES = {"to_do": "To do", "doing": "Doing", "done": "Done"}
# Done shows what was finished in the last 90 days (by the idea's last change), so the column stays
# a huddle's "what we achieved lately", not an archive.
DONE_WINDOW = timedelta(days=90)
# A column longer than this does not fit a huddle; the count says how many there are in all.
COLUMN_LIMIT = 200


class EquityPause:
    answered = "answered"  # an Equity Pause answer is in the idea's audit trail
    due = "due"  # not yet; the next decision (accept or decline) asks for it
    not_recorded = "not_recorded"  # decided without one (before the pause existed)


EQUITY_WORDS = {
    EquityPause.answered: "Equity Pause answered",
    EquityPause.due: "Equity Pause due at the decision",
    EquityPause.not_recorded: "No Equity Pause recorded",
}


def is_staff_manager(user: User) -> bool:
    return ranks_at_least(user, Role.manager)


def may_view(user: User, team_id: int) -> bool:
    """Managers see every team's board; other staff see their own team's."""
    return is_staff_manager(user) or user.team_id == team_id


def may_move(user: User, team_id: int) -> bool:
    """Managers, and the members who lead their team's huddle (set by an admin)."""
    return is_staff_manager(user) or (user.huddle_lead and user.team_id == team_id)


def board_team(session: Session, viewer: User, team_id: int | None) -> Team:
    """The team whose board is asked for (default: the viewer's own), if the viewer may see it."""
    chosen = team_id or viewer.team_id
    if chosen is None:
        raise Invalid([FieldError(field="team_id", message="Choose a team")])
    team = session.get(Team, chosen)
    if team is None:
        raise NotFound("There is no team with this number.")
    if not may_view(viewer, team.id):  # type: ignore[arg-type]
        raise Forbidden("You can see your own team's huddle board.")
    return team


def board_moves(status: S) -> list[S]:
    """The workflow's moves, less marking a duplicate (it needs the original idea found and
    pasted: a job for the idea page, not a huddle)."""
    return [s for s in allowed_moves(status) if s not in NEEDS_TARGET]


@dataclass(frozen=True)
class Card:
    idea: IdeaRead
    age_days: int
    owner_name: str
    equity_pause: str
    moves: list[S]


@dataclass(frozen=True)
class Board:
    team: Team
    columns: dict[str, list[Card]]
    counts: dict[str, int]


def _equity_answered(session: Session, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    rows = session.execute(
        select(AuditEvent.record_id).where(
            AuditEvent.record_kind == RecordKind.idea.value,
            AuditEvent.action == Action.equity_pause.value,
            AuditEvent.record_id.in_(ids),  # type: ignore[attr-defined]
        )
    )
    return set(rows.scalars())


def _equity_status(idea: Idea, answered: set[uuid.UUID]) -> str:
    if idea.id in answered:
        return EquityPause.answered
    if any(s in NEEDS_EQUITY_PAUSE for s in allowed_moves(S(idea.status))):
        return EquityPause.due
    return EquityPause.not_recorded


def _column(session: Session, team_id: int, key: str, now: datetime) -> tuple[list[Idea], int]:
    statuses = [s.value for s in COLUMNS[key]]
    where = [Idea.team_id == team_id, Idea.status.in_(statuses)]  # type: ignore[attr-defined]
    if key == "done":
        where.append(Idea.updated_at >= now - DONE_WINDOW)
    total = int(session.execute(select(func.count()).select_from(Idea).where(*where)).scalar_one())
    # Oldest first where work waits (age matters at a huddle); newest first in Done.
    order = (
        (Idea.updated_at.desc(), Idea.id)  # type: ignore[attr-defined]
        if key == "done"
        else (Idea.received_at.asc(), Idea.id)  # type: ignore[attr-defined]
    )
    ideas = list(
        session.execute(select(Idea).where(*where).order_by(*order).limit(COLUMN_LIMIT)).scalars()
    )
    return ideas, total


def build_board(session: Session, viewer: User, team: Team) -> Board:
    now = utcnow()
    raw: dict[str, list[Idea]] = {}
    counts: dict[str, int] = {}
    for key in COLUMNS:
        raw[key], counts[key] = _column(session, team.id, key, now)  # type: ignore[arg-type]
    every = [i for ideas in raw.values() for i in ideas]
    names = user_names(
        session, {i.submitted_by for i in every} | {i.owner_id for i in every if i.owner_id}
    )
    answered = _equity_answered(session, [i.id for i in every])
    columns = {
        key: [
            Card(
                idea=to_read(i, viewer, names, now),
                age_days=max(0, (now - i.received_at).days),
                owner_name=names.get(i.owner_id, "Unknown") if i.owner_id else "Nobody yet",
                equity_pause=_equity_status(i, answered),
                moves=board_moves(S(i.status)),
            )
            for i in ideas
        ]
        for key, ideas in raw.items()
    }
    return Board(team=team, columns=columns, counts=counts)


def move_card(
    session: Session,
    actor: User,
    idea_id: uuid.UUID,
    *,
    to: S | None,
    note: str,
    equity_note: str,
    expected_version: int | None,
) -> Idea:
    """A move made at the huddle: the mover must lead this idea's team's huddle (or manage)."""
    idea = session.get(Idea, idea_id)
    if idea is None or not may_view(actor, idea.team_id):
        raise NotFound("No idea has this id.")
    if not may_move(actor, idea.team_id):
        raise Forbidden("Only managers and the team's huddle leads move cards.")
    if to is None:
        raise Invalid([FieldError(field="to", message="Choose where to move the card")])
    if to in NEEDS_TARGET:
        raise Invalid(
            [
                FieldError(
                    field="to", message="Mark duplicates from the idea page, with the original"
                )
            ]
        )
    return move_idea(
        session,
        actor,
        idea_id,
        to=to,
        note=note,
        equity_note=equity_note,
        expected_version=expected_version,
    )
