"""Taking anonymous answers and turning them into a team's figures.

Anonymity: a response row holds the team, the round and the answers only (random id, no user, no
time); the person is recorded apart, in readiness_participation, only to stop a second answer in
the same round. Figures are shown only when a round has MIN_RESPONDENTS or more responses."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from api.auth.identity import ranks_at_least
from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.readiness.questions import DOMAINS, QUESTION_IDS, QUESTIONS, SCALE, stage_for
from schemas.accounts import Team, User
from schemas.enums import Role
from schemas.field_errors import FieldError
from schemas.readiness import (
    ReadinessAccepted,
    ReadinessIn,
    ReadinessParticipation,
    ReadinessQuestion,
    ReadinessQuestions,
    ReadinessResponse,
    ReadinessResult,
    ReadinessRound,
)
from schemas.timestamps import LONDON, utcnow

# Below this many respondents in a round, a team's figures could single someone out.
MIN_RESPONDENTS = 5
_DOMAIN_OF = {q.id: q.domain for q in QUESTIONS}


def round_of(at: datetime) -> str:
    """A round is a calendar quarter in London time: repeat the diagnostic each quarter."""
    local = at.astimezone(LONDON)
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def current_round() -> str:
    return round_of(utcnow())


def questionnaire() -> ReadinessQuestions:
    return ReadinessQuestions(
        scale=SCALE,
        domains=DOMAINS,
        questions=[
            ReadinessQuestion(id=q.id, domain=q.domain, domain_name=DOMAINS[q.domain], text=q.text)
            for q in QUESTIONS
        ],
    )


def _check_answers(answers: dict[str, int]) -> list[FieldError]:
    errors = [
        FieldError(field=qid, message="Choose how much you agree with this statement")
        for qid in (q.id for q in QUESTIONS)
        if qid not in answers
    ]
    unknown = sorted(set(answers) - QUESTION_IDS)
    if unknown:
        errors.append(
            FieldError(
                field="answers", message=f"Not a statement of this questionnaire: {unknown[0]}"
            )
        )
    return errors


def _insert(session: Session, table: object) -> object:
    dialect = session.get_bind().dialect.name
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)  # type: ignore[arg-type]


def answer(session: Session, user: User, data: ReadinessIn) -> ReadinessAccepted:
    """One person's answers for their own team, once per round (409 the second time)."""
    team = session.get(Team, data.team_id)
    errors = _check_answers(data.answers)
    if team is None or not team.active:
        errors.insert(0, FieldError(field="team_id", message="Select your team"))
    elif team.id != user.team_id:
        errors.insert(0, FieldError(field="team_id", message="You answer for your own team only"))
    if errors:
        raise Invalid(errors)
    assert team is not None and team.id is not None
    this_round = current_round()
    # The database decides who was first (primary key), so two tabs or a replay count once.
    participation = ReadinessParticipation.__table__  # type: ignore[attr-defined]
    inserted = session.execute(
        _insert(session, participation)  # type: ignore[attr-defined]
        .values(user_id=user.id, team_id=team.id, round=this_round)
        .on_conflict_do_nothing()
        .returning(participation.c.user_id)
    ).first()
    if inserted is None:
        raise Conflict(
            {
                "message": "You have already answered for your team this round. "
                "You can answer again next quarter.",
                "round": this_round,
            }
        )
    session.add(ReadinessResponse(team_id=team.id, round=this_round, answers=dict(data.answers)))
    session.flush()
    return ReadinessAccepted(
        team_id=team.id, round=this_round, respondents=_respondents(session, team.id, this_round)
    )


def has_answered(session: Session, user: User) -> bool:
    if user.team_id is None:
        return False
    found = session.get(ReadinessParticipation, (user.id, user.team_id, current_round()))
    return found is not None


def _respondents(session: Session, team_id: int, round_key: str) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(ReadinessResponse)
            .where(ReadinessResponse.team_id == team_id, ReadinessResponse.round == round_key)  # type: ignore[arg-type]
        ).scalar_one()
    )


def may_see(user: User, team_id: int) -> bool:
    """Managers see every team's figures; other staff their own team's."""
    return ranks_at_least(user, Role.manager) or user.team_id == team_id


def _figures(answer_sets: list[dict[str, int]]) -> tuple[int | None, dict[str, float] | None]:
    if len(answer_sets) < MIN_RESPONDENTS:
        return None, None
    totals: dict[str, list[int]] = defaultdict(list)
    for answers in answer_sets:
        for qid, value in answers.items():
            if qid in _DOMAIN_OF:
                totals[_DOMAIN_OF[qid]].append(int(value))
    domains = {d: round(sum(v) / len(v), 2) for d in DOMAINS if (v := totals.get(d))}
    overall = sum(domains.values()) / len(domains)
    return stage_for(overall), domains


def team_results(
    session: Session, viewer: User, team_id: int, round_key: str | None = None
) -> ReadinessResult:
    """The round asked for (default: this quarter's), and every round's figures for movement."""
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("There is no team with this number.")
    if not may_see(viewer, team_id):
        raise Forbidden("You can see your own team's readiness.")
    wanted = round_key or current_round()
    by_round: dict[str, list[dict[str, int]]] = defaultdict(list)
    rows = session.execute(
        select(ReadinessResponse.round, ReadinessResponse.answers).where(
            ReadinessResponse.team_id == team_id  # type: ignore[arg-type]
        )
    )
    for round_name, answers in rows:
        by_round[round_name].append(answers)
    history = []
    for round_name in sorted(by_round):
        stage, domains = _figures(by_round[round_name])
        history.append(
            ReadinessRound(
                round=round_name,
                respondents=len(by_round[round_name]),
                stage=stage,
                domains=domains,
            )
        )
    stage, domains = _figures(by_round.get(wanted, []))
    return ReadinessResult(
        team_id=team_id,
        respondents=len(by_round.get(wanted, [])),
        stage=stage,
        domains=domains,
        round=wanted,
        history=history,
    )
