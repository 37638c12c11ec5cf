"""Migration 0018 put `received_at` before `id` in `ix_idea_team_status`, so a fresh idea's entry
goes at the end of its team's and status's range instead of a random place in it (issue 16). The
queries that read the index must still read it, on SQLite and PostgreSQL: the queue's count of a
team's open ideas and the huddle board's counts. (A page in a sort order may walk another index, in that order, as
it could before.) Each statement is captured as the app sends it and EXPLAINed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from api.db import open_session
from api.huddle.service import COLUMNS, build_board
from api.ideas.service import IdeaFilters, count_ideas
from schemas.accounts import Team, User
from schemas.enums import Role
from tests.api.test_idea_partial_indexes import index_definition, plan, statements

INDEX = "ix_idea_team_status"


def _team_and_manager() -> tuple[Team, User]:
    with open_session(write=False) as session:
        team = session.execute(select(Team).order_by(Team.id)).scalars().first()
        manager = next(
            u for u in session.execute(select(User)).scalars() if u.role == Role.manager.value
        )
        assert team is not None
        return team, manager


def _on_team(run: Callable[[], None]) -> list[tuple[str, object]]:
    """The statements `run` sends that read `idea` by team."""
    with statements() as seen:
        run()
    return [(s, p) for s, p in seen if "FROM idea" in s and "idea.team_id" in s]


def test_the_queue_counts_a_teams_open_ideas_from_the_index() -> None:
    team, _ = _team_and_manager()
    filters = [IdeaFilters(team_id=team.id, open_only=True)]

    def run() -> None:
        with open_session(write=False) as session:
            for each in filters:
                count_ideas(session, each)

    counts = [(s, p) for s, p in _on_team(run) if "count(" in s]
    assert len(counts) == len(filters), counts
    for statement, parameters in counts:
        assert INDEX in plan(statement, parameters), statement


def test_the_huddle_board_counts_its_columns_from_the_index() -> None:
    team, manager = _team_and_manager()

    def run() -> None:
        with open_session(write=False) as session:
            build_board(session, manager, team)

    counts = [(s, p) for s, p in _on_team(run) if "count(" in s]
    assert len(counts) == len(COLUMNS), counts  # a count for each column of the board
    # "Done" also asks for the last few weeks, which an index on (status, updated_at) may answer.
    by_team_and_status = [(s, p) for s, p in counts if "updated_at" not in s]
    assert len(by_team_and_status) == len(COLUMNS) - 1, counts
    for statement, parameters in by_team_and_status:
        assert INDEX in plan(statement, parameters), statement


def test_the_index_puts_a_fresh_idea_after_those_received_before_it() -> None:
    definition = index_definition(INDEX)
    columns = definition.split("(", 1)[1].rstrip(")").replace(" ", "")
    assert columns == "team_id,status,received_at,id", definition
