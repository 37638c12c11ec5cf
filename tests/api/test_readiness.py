"""The readiness diagnostic: anonymous answers, once per person per round, figures only from five
respondents (SPEC §6), the continuum and the per-domain chart, and movement between rounds."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect, select

from api.auth.users import create_user
from api.db import get_engine, open_session
from api.readiness.questions import QUESTIONS
from api.readiness.service import current_round
from schemas.enums import Role
from schemas.readiness import ReadinessParticipation, ReadinessResponse
from tests.conftest import Client
from tests.records import reference_ids

PASSWORD = "readiness-test-pass"


def ward() -> int:
    return reference_ids()["teams"][2]  # Sam Staff's team


def colleagues(app: Any, count: int, team_id: int) -> list[Client]:
    """Reporters in one team, signed in."""
    with open_session(write=True) as session:
        for n in range(count):
            create_user(
                session,
                email=f"ward{n}@demo.nhs.uk",
                name=f"Ward Person {n}",
                password=PASSWORD,
                role=Role.reporter,
                team_id=team_id,
            )
        session.commit()
    return [Client(app).sign_in(f"ward{n}@demo.nhs.uk", PASSWORD) for n in range(count)]


def answers(value: int = 4, **overrides: int) -> dict[str, int]:
    return {**{q.id: value for q in QUESTIONS}, **overrides}


def test_the_questions_cover_six_domains_on_a_five_point_scale(staff: Any) -> None:
    body = staff.get("/api/v1/readiness/questions").json()
    assert 18 <= len(body["questions"]) <= 22
    assert set(body["domains"]) == {
        "leadership",
        "engagement",
        "capability",
        "measurement",
        "involvement",
        "equity",
    }
    assert {q["domain"] for q in body["questions"]} == set(body["domains"])
    assert list(body["scale"]) == ["1", "2", "3", "4", "5"]


def test_anonymous_visitors_are_refused(client: Any) -> None:
    assert client.get("/api/v1/readiness/questions").status_code == 401
    assert client.get(f"/api/v1/readiness/teams/{ward()}").status_code == 401
    assert client.get("/readiness").status_code == 303


def test_an_answer_is_stored_without_the_person_and_counted_once(staff: Any) -> None:
    first = staff.post(
        "/api/v1/readiness/responses", json={"team_id": ward(), "answers": answers()}
    )
    assert first.status_code == 201, first.text
    assert first.json() == {"team_id": ward(), "round": current_round(), "respondents": 1}
    again = staff.post(
        "/api/v1/readiness/responses", json={"team_id": ward(), "answers": answers(2)}
    )
    assert again.status_code == 409
    assert "already answered" in again.json()["detail"]["message"]
    # The answers table has no column that could name or time the person.
    columns = {c["name"] for c in inspect(get_engine()).get_columns("readiness_response")}
    assert columns == {"id", "team_id", "round", "answers"}
    with open_session(write=False) as session:
        assert len(list(session.execute(select(ReadinessResponse)).scalars())) == 1
        assert len(list(session.execute(select(ReadinessParticipation)).scalars())) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": answers()}, "team_id"),
        ({"team_id": 1, "answers": answers()}, "team_id"),  # not their team
        ({"team_id": 999999, "answers": answers()}, "team_id"),
        ({"team_id": "ward", "answers": answers()}, "team_id"),
        ({"team_id": "WARD", "answers": {**answers(), "lead_1": 6}}, "answers"),
        ({"team_id": "WARD", "answers": {**answers(), "lead_1": "a lot"}}, "answers"),
        ({"team_id": 3}, "answers"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(
    staff: Any, body: dict[str, Any], field: str
) -> None:
    if body.get("team_id") == "WARD":
        body = {**body, "team_id": ward()}
    response = staff.post("/api/v1/readiness/responses", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == field
    with open_session(write=False) as session:
        assert session.execute(select(ReadinessResponse)).first() is None
        assert session.execute(select(ReadinessParticipation)).first() is None


def test_every_statement_needs_an_answer_and_unknown_ones_are_refused(staff: Any) -> None:
    partial = answers()
    del partial["equity_2"]
    response = staff.post(
        "/api/v1/readiness/responses", json={"team_id": ward(), "answers": partial}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["equity_2"]
    extra = staff.post(
        "/api/v1/readiness/responses",
        json={"team_id": ward(), "answers": {**answers(), "shoe_size": 3}},
    )
    assert extra.status_code == 422 and extra.json()["detail"][0]["field"] == "answers"
    # Refused answers do not use up the person's turn.
    ok = staff.post("/api/v1/readiness/responses", json={"team_id": ward(), "answers": answers()})
    assert ok.status_code == 201


def test_four_respondents_show_no_figures_and_five_do(app: Any, manager: Any) -> None:
    people = colleagues(app, 5, ward())
    for n, person in enumerate(people[:4]):
        body = {"team_id": ward(), "answers": answers(2 + n % 2)}
        assert person.post("/api/v1/readiness/responses", json=body).status_code == 201
    four = manager.get(f"/api/v1/readiness/teams/{ward()}").json()
    assert four["respondents"] == 4
    assert four["stage"] is None and four["domains"] is None
    page = manager.get("/readiness", params={"team_id": ward()}).text
    assert "Results show once 5 or more people" in page and "readiness-domains" not in page

    fifth = {"team_id": ward(), "answers": answers(5, lead_1=1)}
    assert people[4].post("/api/v1/readiness/responses", json=fifth).status_code == 201
    five = manager.get(f"/api/v1/readiness/teams/{ward()}").json()
    assert five["respondents"] == 5 and five["team_id"] == ward()
    # Leadership: (2+3+2+3+1) for lead_1 and (2+3+2+3+5) for lead_2..4 → 56 / 20 = 2.8.
    assert five["domains"]["leadership"] == 2.8
    # Every other domain: (2+3+2+3+5) / 5 = 3.0; overall mean 2.97 → stage 3 ("Building").
    assert five["domains"]["equity"] == 3.0
    assert five["stage"] == 3
    page = manager.get("/readiness", params={"team_id": ward()}).text
    assert 'aria-labelledby="readiness-domains-title' in page
    assert "Stage 3 of 5: Building" in page
    assert "Leadership and the management system: 2.8 out of 5" in page  # the text alternative


def test_reporters_see_their_own_team_and_managers_every_team(staff: Any, manager: Any) -> None:
    assert staff.get(f"/api/v1/readiness/teams/{ward()}").status_code == 200
    other = reference_ids()["teams"][0]
    assert staff.get(f"/api/v1/readiness/teams/{other}").status_code == 403
    assert manager.get(f"/api/v1/readiness/teams/{other}").status_code == 200
    assert manager.get("/api/v1/readiness/teams/999999").status_code == 404
    assert manager.get("/api/v1/readiness/teams/0").status_code == 422
    bad_round = manager.get(f"/api/v1/readiness/teams/{other}", params={"round": "last"})
    assert bad_round.status_code == 422
    assert staff.get("/readiness", params={"team_id": other}).status_code == 403


def test_rounds_show_movement_over_time(app: Any, manager: Any) -> None:
    with open_session(write=True) as session:
        for _ in range(5):
            session.add(ReadinessResponse(team_id=ward(), round="2026-Q1", answers=answers(2)))
            session.add(ReadinessResponse(team_id=ward(), round="2026-Q2", answers=answers(4)))
        session.commit()
    body = manager.get(f"/api/v1/readiness/teams/{ward()}", params={"round": "2026-Q2"}).json()
    assert body["stage"] == 4 and body["round"] == "2026-Q2"
    assert [(r["round"], r["stage"]) for r in body["history"]] == [("2026-Q1", 2), ("2026-Q2", 4)]
    page = manager.get("/readiness", params={"team_id": ward()}).text
    assert "Change since 2026 Q1" in page and "+2.0" in page
    assert "Rounds so far" in page and "Up from stage 2 in 2026 Q1 to stage 4 in 2026 Q2." in page


def test_the_page_questionnaire_works_as_a_plain_form(staff: Any) -> None:
    page = staff.get("/readiness").text
    for q in QUESTIONS:
        assert f'name="{q.id}"' in page
    half = {q.id: "3" for q in QUESTIONS[:10]}
    refused = staff.form("/readiness", half)
    assert refused.status_code == 422
    assert "There is a problem" in refused.text and f'href="#{QUESTIONS[10].id}"' in refused.text
    assert 'value="3" checked' in refused.text  # what they chose is kept
    done = staff.form("/readiness", {q.id: "4" for q in QUESTIONS})
    assert done.status_code == 303 and done.headers["location"] == "/readiness?done=answered"
    after = staff.get("/readiness?done=answered").text
    assert "without your name" in after and "You have answered for" in after
    assert 'name="lead_1"' not in after
    twice = staff.form("/readiness", {q.id: "4" for q in QUESTIONS}, page="/readiness")
    assert twice.status_code == 409 and "already answered" in twice.text


def test_every_staff_role_may_answer(manager: Any, admin: Any) -> None:
    qi_team = reference_ids()["teams"][4]
    for who in (manager, admin):
        body = {"team_id": qi_team, "answers": answers()}
        assert who.post("/api/v1/readiness/responses", json=body).status_code == 201
