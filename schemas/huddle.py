"""The huddle board as the API returns it (SPEC §6 `GET /api/v1/huddle`)."""

from __future__ import annotations

from pydantic import BaseModel

from schemas.ideas import IdeaRead


class HuddleCard(IdeaRead):
    """An idea as in the list API, with what the card shows beside it."""

    age_days: int
    owner_name: str
    equity_pause: str  # answered | due | not_recorded
    moves: list[str]  # where the board can move it (the workflow's moves, less duplicate)


class HuddleColumns(BaseModel):
    to_do: list[HuddleCard]
    doing: list[HuddleCard]
    done: list[HuddleCard]


class HuddleBoard(BaseModel):
    team_id: int
    columns: HuddleColumns
    # How many ideas each column holds in all (a column lists at most 200).
    counts: dict[str, int]
    may_move: bool
