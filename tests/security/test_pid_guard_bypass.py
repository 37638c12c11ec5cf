"""Attack: step round the NHS-number guard (issue #10, finding 4), and measure what it costs.

Each way round found in the security review (full-width and other digit forms, zero-width and other
invisible characters, dots, slashes, underscores, tabs, runs of spaces, other groupings) is in the
shared vectors (notes starting "bypass closed"); here each is sent to the app in every free-text
field anyone can write, and must be refused with the field named. The false-positive rate over a
corpus of realistic narratives is measured and reported:

    .venv/bin/python -m pytest -q -s tests/security/test_pid_guard_bypass.py -k false_positive
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from api.cli import app as cli
from api.db import open_session
from schemas.accounts import Aim, Partner, Team, User
from schemas.handovers import Handover
from schemas.ideas import Idea
from schemas.pid_guard import find_nhs_number, pid_error
from tests.conftest import Client
from tests.records import handover_data, idea_data, new_id

VECTORS_DIR = Path(__file__).resolve().parent.parent / "vectors"
VECTORS: dict[str, Any] = json.loads((VECTORS_DIR / "nhs_numbers.json").read_text("utf-8"))
CORPUS: list[dict[str, str]] = json.loads((VECTORS_DIR / "pid_corpus.json").read_text("utf-8"))[
    "narratives"
]

BYPASSES = [v["text"] for v in VECTORS["texts"] if v["note"].startswith("bypass closed")]
#: One of them for the field-by-field sweep (zero-width spaces in a 4-3-3 grouping).
SNEAKY = "Seen 9434\u200b765\u200b919 today"
EQUITY = "Yes; checked with the ward's interpreters that nobody is left out."


def test_every_bypass_in_the_review_is_a_shared_vector_the_guard_refuses() -> None:
    assert len(BYPASSES) >= 30
    for text in BYPASSES:
        assert find_nhs_number(text) is not None, text
    assert find_nhs_number(SNEAKY) is not None


def test_every_bypass_is_refused_by_the_sync_endpoint_with_the_field_named(crew: Client) -> None:
    items = [
        {"kind": "handover", "id": new_id(), "data": handover_data(narrative=f"Crew saw {text}.")}
        for text in BYPASSES
    ]
    response = crew.post("/api/v1/sync", json={"items": items})
    assert response.status_code == 200
    for result in response.json()["results"]:
        assert result["outcome"] == "rejected"
        assert result["errors"] == [{"field": "narrative", "message": pid_error("What happened")}]
    with open_session(write=False) as session:
        assert session.execute(select(Handover)).first() is None


@pytest.mark.parametrize("field", ["title", "problem", "proposal"])
def test_every_idea_text_field_is_guarded(crew: Client, field: str) -> None:
    response = crew.post("/api/v1/ideas", json={"id": new_id(), **idea_data(**{field: SNEAKY})})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == [field]


@pytest.mark.parametrize("field", ["location_detail", "narrative", "immediate_action", "vehicle"])
def test_every_handover_text_field_is_guarded(crew: Client, field: str) -> None:
    text = (
        "9\u200b4\u200b3\u200b4\u200b7\u200b6\u200b5\u200b9\u200b1\u200b9"
        if field == "vehicle"
        else SNEAKY
    )
    body = {"id": new_id(), **handover_data(**{field: text})}
    response = crew.post("/api/v1/handovers", json=body)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == [field]


def _idea(crew: Client, status: str) -> str:
    record_id = new_id()
    assert crew.post("/api/v1/ideas", json={"id": record_id, **idea_data()}).status_code == 201
    with open_session(write=True) as session:
        session.execute(update(Idea).where(Idea.id == uuid.UUID(record_id)).values(status=status))
        session.commit()
    return record_id


def _note(crew: Client) -> str:
    record_id = new_id()
    assert (
        crew.post("/api/v1/handovers", json={"id": record_id, **handover_data()}).status_code == 201
    )
    return record_id


def test_managers_comments_move_notes_and_equity_answers_are_guarded(
    crew: Client, manager: Client
) -> None:
    idea = _idea(crew, "submitted")
    comment = manager.post(f"/api/v1/ideas/{idea}/comments", json={"body": SNEAKY})
    assert comment.status_code == 422 and comment.json()["detail"][0]["field"] == "body"
    move = manager.post(
        f"/api/v1/ideas/{idea}/transitions",
        json={"to": "declined", "note": "943.476.5919", "equity_note": "９４３４７６５９１９"},
    )
    assert move.status_code == 422
    assert {e["field"] for e in move.json()["detail"]} == {"note", "equity_note"}
    note = _note(crew)
    comment = manager.post(f"/api/v1/handovers/{note}/comments", json={"body": "943_476_5919"})
    assert comment.status_code == 422 and comment.json()["detail"][0]["field"] == "body"
    move = manager.post(
        f"/api/v1/handovers/{note}/transitions", json={"to": "reviewed", "note": "943\t476\t5919"}
    )
    assert move.status_code == 422 and move.json()["detail"][0]["field"] == "note"


@pytest.mark.parametrize("field", ["review_note", "partner_response"])
def test_review_notes_and_partner_responses_are_guarded(
    crew: Client, manager: Client, field: str
) -> None:
    note = _note(crew)
    version = manager.get(f"/api/v1/handovers/{note}").headers["etag"]
    response = manager.patch(
        f"/api/v1/handovers/{note}", json={field: SNEAKY}, headers={"If-Match": version}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == [field]


@pytest.mark.parametrize("field", ["plan", "do", "study", "act", "measure_name", "measure_unit"])
def test_every_pdsa_field_is_guarded(crew: Client, manager: Client, field: str) -> None:
    idea = _idea(crew, "testing")
    cycle = {
        "plan": "Ask pharmacy to pack TTOs the evening before for 2 weeks.",
        "start_date": "2026-11-02",
        "end_date": "2026-11-15",
        "measure_name": "Discharges before noon",
        "measure_unit": "patients",
        field: "9 4 3 4 7 6 5 9 1 9",
    }
    response = manager.post(f"/api/v1/ideas/{idea}/pdsa", json=cycle)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == [field]


def _summary(html: str) -> str:
    return html.split('class="nhsuk-error-summary"', 1)[1].split("</ul>", 1)[0]


def _first(model: Any) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(model.id).order_by(model.id)).scalars().first())


@pytest.mark.parametrize(
    ("path", "form", "label"),
    [
        ("/admin/teams/new", {"name": "Team ９４３４７６５９１９"}, "Name"),
        ("/admin/partners/new", {"name": "Ward 943.476.5919", "kind": "other"}, "Name"),
        ("/admin/aims/new", {"name": "Aim 9434 765 919"}, "Name"),
        (
            "/admin/aims/new",
            {"name": "Fewer delays", "description": "See 943_476_5919"},
            "Description",
        ),
    ],
)
def test_admin_entered_names_and_descriptions_are_guarded(
    admin: Client, path: str, form: dict[str, str], label: str
) -> None:
    before = {m: _count(m) for m in (Team, Partner, Aim)}
    response = admin.form(path, form)
    assert response.status_code == 422
    assert pid_error(label) in _summary(response.text).replace("&#34;", '"').replace("&quot;", '"')
    assert {m: _count(m) for m in (Team, Partner, Aim)} == before


def _count(model: Any) -> int:
    with open_session(write=False) as session:
        return len(session.execute(select(model.id)).all())


def test_an_admin_cannot_put_an_nhs_number_in_a_persons_name(admin: Client) -> None:
    created = admin.form(
        "/admin/users/new",
        {
            "name": "Nia 943\u00a0476\u00a05919",
            "email": "nia@demo.nhs.uk",
            "role": "reporter",
            "team_id": str(_first(Team)),
            "password": "correct horse battery",
        },
    )
    assert created.status_code == 422
    assert "Full name looks like it contains an NHS number" in _summary(created.text)
    crew_id = _user_id("crew@demo.nhs.uk")
    edited = admin.form(
        f"/admin/users/{crew_id}",
        {"name": "Crew 943\u2013476\u20145919", "role": "reporter", "team_id": str(_first(Team))},
    )
    assert edited.status_code == 422
    assert "Full name looks like it contains an NHS number" in _summary(edited.text)
    with open_session(write=False) as session:
        assert session.get(User, crew_id).name != "Crew 943\u2013476\u20145919"  # type: ignore[union-attr]


def _user_id(email: str) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(User.id).where(User.email == email)).scalar_one())


def test_the_command_line_refuses_an_nhs_number_in_a_name() -> None:
    result = CliRunner().invoke(
        cli,
        ["create-user", "--email", "cli@demo.nhs.uk", "--name", "CLI 94 34 76 59 19",
         "--role", "reporter", "--password-stdin"],
        input="correct horse battery\n",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "Full name looks like it contains an NHS number" in result.output
    with open_session(write=False) as session:
        assert session.execute(select(User).where(User.email == "cli@demo.nhs.uk")).first() is None


# --- False positives ------------------------------------------------------------------------

#: What a trust will see: no refusal on the phone numbers, times, dates, call signs and prefixed
#: references crews write. Lists of small figures joined by spaces and 10-digit freephone numbers
#: are ten digits "in some grouping" (SPEC §3.3) and fail modulus 11 about one time in eleven:
#: they get a ceiling, not zero, and the rate is in docs/security.md.
CEILINGS = {
    "clock times": 0.0,
    "dates and times": 0.0,
    "UK phone numbers": 0.0,
    "prefixed references": 0.0,
    "call signs, wards, delays": 0.0,
    "mixed narratives": 0.0,
    "lists of figures": 0.05,
    "10-digit freephone numbers": 0.12,
}


def test_false_positive_rate_on_realistic_narratives_is_reported_and_bounded() -> None:
    refused: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for narrative in CORPUS:
        total[narrative["category"]] += 1
        if find_nhs_number(narrative["text"]) is not None:
            refused[narrative["category"]] += 1
    assert set(total) == set(CEILINGS)
    lines = [f"{'category':<28} refused / narratives   rate"]
    for category in CEILINGS:
        rate = refused[category] / total[category]
        lines.append(f"{category:<28} {refused[category]:>7} / {total[category]:<10} {rate:6.2%}")
    overall = sum(refused.values()) / sum(total.values())
    lines.append(
        f"{'all':<28} {sum(refused.values()):>7} / {sum(total.values()):<10} {overall:6.2%}"
    )
    print("\nPID guard false positives (tests/vectors/pid_corpus.json):\n" + "\n".join(lines))
    for category, ceiling in CEILINGS.items():
        assert refused[category] / total[category] <= ceiling, category
    assert overall <= 0.02
