"""The huddle board over HTTP: `GET /api/v1/huddle`, the page `/huddle` (normal, wall screen,
phone) and a card's move from the board (a plain form first; htmx swaps the board in place)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from api.auth.identity import StaffUser
from api.db import SessionDep
from api.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, error_responses
from api.forms import FormDep, error_context, form_version
from api.huddle.service import (
    COLUMN_NAMES,
    EQUITY_WORDS,
    Board,
    board_team,
    build_board,
    is_staff_manager,
    may_move,
    move_card,
)
from api.templating import is_htmx, render
from api.triage import query_params as qp
from api.triage.service import select_items
from schemas.accounts import Team, User
from schemas.enums import IdeaStatus
from schemas.free_text import MAX_RECORD_ID
from schemas.huddle import HuddleBoard, HuddleCard, HuddleColumns
from schemas.ideas import Idea
from schemas.timestamps import utcnow

api_router = APIRouter(prefix="/api/v1/huddle", tags=["huddle"])
page_router = APIRouter(tags=["pages"], include_in_schema=False)

# The wall screen fetches the board again this often (htmx polling: no inline script).
WALL_REFRESH_SECONDS = 60
DONE_MESSAGES = {"moved": "The card was moved. The submitter has been told."}


@api_router.get("", response_model=HuddleBoard, responses=error_responses(403, 404, 422))
def huddle_api(
    user: StaffUser,
    session: SessionDep,
    team_id: Annotated[
        int | None, Query(gt=0, le=MAX_RECORD_ID, description="default: the caller's team")
    ] = None,
) -> HuddleBoard:
    """A team's ideas: to do = submitted, under review; doing = accepted, testing; done =
    implemented, shared in the last 90 days. Managers see every team; other staff their own."""
    board = build_board(session, user, board_team(session, user, team_id))
    columns = {
        key: [
            HuddleCard(
                **card.idea.model_dump(),
                age_days=card.age_days,
                owner_name=card.owner_name,
                equity_pause=card.equity_pause,
                moves=[s.value for s in card.moves],
            )
            for card in cards
        ]
        for key, cards in board.columns.items()
    }
    return HuddleBoard(
        team_id=board.team.id,  # type: ignore[arg-type]
        columns=HuddleColumns(**columns),
        counts=board.counts,
        may_move=may_move(user, board.team.id),  # type: ignore[arg-type]
    )


def _board_page(
    request: Request,
    session: Session,
    user: User,
    team: Team,
    *,
    wall: bool = False,
    failed: dict[str, Any] | None = None,
    message: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    board: Board = build_board(session, user, team)
    failed = failed or {}
    teams: list[Any] = []
    if is_staff_manager(user):
        active = select(Team.id, Team.name).where(Team.active.is_(True)).order_by(Team.name)  # type: ignore[attr-defined]
        rows = session.execute(active)
        teams = select_items([(r[0], r[1]) for r in rows], team.id, None)
    context = {
        "board": board,
        "column_names": COLUMN_NAMES,
        "equity_words": EQUITY_WORDS,
        "may_move": may_move(user, team.id) and not wall,  # type: ignore[arg-type]
        "is_manager_view": is_staff_manager(user),
        "wall": wall,
        "refresh_seconds": WALL_REFRESH_SECONDS,
        "updated_at": utcnow(),
        "teams": teams,
        "failed_id": failed.get("id"),
        "form": failed.get("form", {}),
        **error_context(failed.get("errors", [])),
        # Each card has its own form: the summary links to the failed card's fields.
        "error_list": [
            {"text": e.message, "href": f"#{e.field}-{failed['id']}"}
            for e in failed.get("errors", [])
        ],
        "message": message,
        "problem": problem,
    }
    template = "huddle/_board.html" if is_htmx(request) else "huddle/board.html"
    return render(request, template, context, status_code=status_code)


@page_router.get("/huddle")
def huddle_page(request: Request, user: StaffUser, session: SessionDep) -> Response:
    params = request.query_params
    team = board_team(session, user, qp.positive_int(params, "team_id"))
    return _board_page(
        request,
        session,
        user,
        team,
        wall=params.get("view") == "wall",
        message=DONE_MESSAGES.get(params.get("done", "")),
    )


@page_router.post("/huddle/ideas/{idea_id}/move")
def huddle_move(
    idea_id: uuid.UUID, request: Request, user: StaffUser, session: SessionDep, form: FormDep
) -> Response:
    values = {k: str(form.get(k, "")) for k in ("to", "note", "equity_note")}
    to = IdeaStatus(values["to"]) if values["to"] in IdeaStatus._value2member_map_ else None
    try:
        moved = move_card(
            session,
            user,
            idea_id,
            to=to,
            note=values["note"],
            equity_note=values["equity_note"],
            expected_version=form_version(form),
        )
    except (Invalid, Conflict, PreconditionFailed) as exc:
        session.rollback()
        return _refused(request, session, user, idea_id, exc, values)
    except (Forbidden, NotFound):
        session.rollback()
        raise
    team = board_team(session, user, moved.team_id)
    if is_htmx(request):
        return _board_page(request, session, user, team, message=DONE_MESSAGES["moved"])
    return RedirectResponse(f"/huddle?team_id={team.id}&done=moved", status_code=303)


def _refused(
    request: Request,
    session: Session,
    user: User,
    idea_id: uuid.UUID,
    exc: Exception,
    values: dict[str, str],
) -> Response:
    """The board again, the card's form open with what was typed and why; nothing changed."""
    idea = session.get(Idea, idea_id)
    assert idea is not None  # move_card found it before refusing
    team = board_team(session, user, idea.team_id)
    if isinstance(exc, Invalid):
        failed = {"id": str(idea_id), "form": values, "errors": exc.errors}
        return _board_page(request, session, user, team, failed=failed, status_code=422)
    if isinstance(exc, PreconditionFailed):
        problem = (
            "Someone else moved or changed this card while the board was open. "
            "This is the latest board; check it and try again."
        )
        return _board_page(request, session, user, team, problem=problem, status_code=412)
    detail = exc.detail if isinstance(exc, Conflict) else None
    problem = detail["message"] if isinstance(detail, dict) else "This card cannot move there."
    return _board_page(request, session, user, team, problem=problem, status_code=409)
