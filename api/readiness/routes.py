"""The readiness diagnostic over HTTP (SPEC §6): the questions, anonymous responses, a team's
figures; and the page `/readiness` (the questionnaire, the continuum, the per-domain chart and the
rounds so far). Every member of staff may answer for their own team."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from api.auth.identity import StaffUser, ranks_at_least
from api.db import SessionDep
from api.errors import Conflict, Invalid, error_responses
from api.forms import FormDep, error_context
from api.readiness.chart import domain_chart
from api.readiness.questions import DOMAINS, QUESTIONS, SCALE, STAGES
from api.readiness.service import (
    MIN_RESPONDENTS,
    answer,
    current_round,
    has_answered,
    questionnaire,
    team_results,
)
from api.templating import render
from api.triage import query_params as qp
from api.triage.service import select_items
from schemas.accounts import Team, User
from schemas.enums import Role
from schemas.field_errors import FieldError
from schemas.free_text import MAX_RECORD_ID
from schemas.readiness import ReadinessAccepted, ReadinessIn, ReadinessQuestions, ReadinessResult

api_router = APIRouter(prefix="/api/v1/readiness", tags=["readiness"])
page_router = APIRouter(tags=["pages"], include_in_schema=False)

ROUND_PATTERN = r"^\d{4}-Q[1-4]$"


@api_router.get("/questions", response_model=ReadinessQuestions)
def questions_api(user: StaffUser) -> ReadinessQuestions:
    """About 20 statements in six domains, each answered 1 (strongly disagree) to 5."""
    return questionnaire()


@api_router.post(
    "/responses",
    status_code=201,
    response_model=ReadinessAccepted,
    responses=error_responses(403, 409, 413),
)
def responses_api(body: ReadinessIn, user: StaffUser, session: SessionDep) -> ReadinessAccepted:
    """Anonymous answers for the caller's own team: `answers` maps every question id to 1–5.
    Stored without the caller; a second response in the same round (a quarter) is 409."""
    return answer(session, user, body)


@api_router.get(
    "/teams/{team_id}", response_model=ReadinessResult, responses=error_responses(403, 404)
)
def team_api(
    team_id: Annotated[int, Path(gt=0, le=MAX_RECORD_ID)],
    user: StaffUser,
    session: SessionDep,
    round_key: Annotated[
        str | None,
        Query(alias="round", pattern=ROUND_PATTERN, description="e.g. 2026-Q4; default: now"),
    ] = None,
) -> ReadinessResult:
    """`stage` (1–5) and `domains` (name → mean score) are null below 5 respondents, so no one's
    answers can be singled out; `history` has every round's figures under the same rule."""
    return team_results(session, user, team_id, round_key)


DONE_MESSAGES = {
    "answered": "Thank you. Your answers were added to your team's, without your name."
}


def _page(
    request: Request,
    session: Session,
    user: User,
    *,
    team_id: int | None = None,
    form: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    message: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    view_id = team_id or user.team_id
    result = team_results(session, user, view_id) if view_id else None
    team = session.get(Team, view_id) if view_id else None
    own_team = session.get(Team, user.team_id) if user.team_id else None
    teams: list[Any] = []
    if ranks_at_least(user, Role.manager):  # any team's figures
        active = select(Team.id, Team.name).where(Team.active.is_(True)).order_by(Team.name)  # type: ignore[attr-defined]
        teams = select_items([(r[0], r[1]) for r in session.execute(active)], view_id, None)
    shown_rounds = [r for r in (result.history if result else []) if r.stage is not None]
    # This round's figures, or until five have answered it, the latest round that has them.
    figures = None
    if result is not None and result.stage is not None:
        figures = next(r for r in result.history if r.round == result.round)
    elif shown_rounds:
        figures = shown_rounds[-1]
    context = {
        "result": result,
        "team": team,
        "own_team": own_team,
        "teams": teams,
        "answered": has_answered(session, user),
        "this_round": current_round(),
        "threshold": MIN_RESPONDENTS,
        "stages": STAGES,
        "domains": DOMAINS,
        "scale": SCALE,
        "questions": QUESTIONS,
        "figures": figures,
        "chart": domain_chart(
            figures.domains,
            chart_id="readiness-domains",
            caption=f"Readiness by domain, {team.name if team else ''}, {figures.round}",
        )
        if figures and figures.domains
        else None,
        "movement": _movement(shown_rounds),
        # The round with figures before the one shown: each domain's change since then.
        "previous": next(
            (r for r in reversed(shown_rounds) if figures and r.round < figures.round), None
        ),
        "form": form or {},
        **error_context(errors or []),
        "message": message,
        "problem": problem,
    }
    return render(request, "readiness/index.html", context, status_code=status_code)


def _movement(rounds: list[Any]) -> str | None:
    """In words, how the stage moved between the last two rounds with figures."""
    if len(rounds) < 2:
        return None
    before, now = rounds[-2], rounds[-1]
    then, latest = before.round.replace("-", " "), now.round.replace("-", " ")
    if now.stage > before.stage:
        return f"Up from stage {before.stage} in {then} to stage {now.stage} in {latest}."
    if now.stage < before.stage:
        return f"Down from stage {before.stage} in {then} to stage {now.stage} in {latest}."
    return f"Still at stage {now.stage}, as in {then}."


@page_router.get("/readiness")
def readiness_page(request: Request, user: StaffUser, session: SessionDep) -> Response:
    params = request.query_params
    return _page(
        request,
        session,
        user,
        team_id=qp.positive_int(params, "team_id"),
        message=DONE_MESSAGES.get(params.get("done", "")),
    )


_SCORE = re.compile(r"^[1-5]$")


@page_router.post("/readiness")
def readiness_answer(
    request: Request, user: StaffUser, session: SessionDep, form: FormDep
) -> Response:
    values = {q.id: str(form.get(q.id, "")) for q in QUESTIONS}
    answers = {qid: int(v) for qid, v in values.items() if _SCORE.match(v)}
    team_id = user.team_id or 0
    try:
        if not user.team_id:
            raise Invalid(
                [FieldError(field="team_id", message="Your account has no team: ask an admin")]
            )
        answer(session, user, ReadinessIn(team_id=team_id, answers=answers))
    except Invalid as exc:
        session.rollback()
        return _page(request, session, user, form=values, errors=exc.errors, status_code=422)
    except Conflict as exc:
        session.rollback()
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        return _page(request, session, user, problem=detail.get("message"), status_code=409)
    return RedirectResponse("/readiness?done=answered", status_code=303)
