"""Managers shape a chart (SPEC §8): a young trust's charts start at its first data; a target,
a baseline, changes with reasons and notes are kept, audited, drawn and served in the JSON twin."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from api.db import open_session
from schemas.audit import AuditEvent
from tests.records import handover_data, new_id


def send(client: Any, when: datetime, **overrides: Any) -> None:
    body = {"id": new_id(), **handover_data(occurred_at=when.isoformat(), **overrides)}
    assert client.post("/api/v1/handovers", json=body).status_code == 201


def form(client: Any, path: str, data: dict[str, str]) -> Any:
    return client.http.post(path, data={"csrf_token": client.csrf, **data}, follow_redirects=False)


def test_a_young_trusts_chart_starts_at_its_first_data_without_false_signals(
    crew: Any, manager: Any
) -> None:
    now = datetime.now(UTC)
    for days in range(30, 0, -3):
        send(crew, now - timedelta(days=days))
    body = manager.get("/api/v1/measures/handovers-per-week").json()
    first = date.fromisoformat(body["points"][0]["start"])
    assert (now.date() - first).days <= 37  # last month onwards, not 52 weeks
    assert not any(p["special_cause"] for p in body["points"])
    assert all(p["lpl"] is None or p["lpl"] >= 0 for p in body["points"])
    assert body["summary"]


def test_a_target_baseline_change_and_note_are_kept_drawn_audited_and_in_the_json(
    crew: Any, manager: Any
) -> None:
    start = datetime(2026, 6, 1, 10, tzinfo=UTC)  # a Monday
    for week in range(20):
        for _ in range(2 if week < 10 else 5):
            send(crew, start + timedelta(weeks=week), delay_minutes=30)
    measure = "delay-minutes-per-week"
    answer = form(
        manager, f"/measures/{measure}/settings", {"target": "100.5", "baseline_to": "2026-07-26"}
    )
    assert answer.status_code == 303
    answer = form(
        manager,
        f"/measures/{measure}/events",
        {"kind": "change", "day": "2026-08-12", "text": "New ED handover bay opened"},
    )
    assert answer.status_code == 303
    answer = form(
        manager,
        f"/measures/{measure}/events",
        {"kind": "note", "day": "2026-06-15", "text": "Half term"},
    )
    assert answer.status_code == 303
    body = manager.get(
        f"/api/v1/measures/{measure}", params={"from": "2026-06-01", "to": "2026-10-18"}
    ).json()
    assert body["target"] == 100.5 and body["baseline_to"] == "2026-07-26"
    assert [(a["kind"], a["start"], a["text"]) for a in body["annotations"]] == [
        ("note", "2026-06-15", "Half term"),
        ("change", "2026-08-10", "New ED handover bay opened"),
    ]
    points = body["points"]
    assert points[9]["mean"] == 60 and points[10]["mean"] == 150  # new limits from the change
    assert body["assurance"] != "none"
    page = manager.get("/measures").text
    assert "New ED handover bay opened" in page and "app-spc-annotation" in page
    assert f'href="/measures/{measure}/shape"' in page
    shape = manager.get(f"/measures/{measure}/shape").text
    assert 'value="100.5"' in shape
    assert "Remove" in shape
    with open_session(write=False) as session:
        audited = (
            session.execute(select(AuditEvent).where(AuditEvent.record_kind == "measure"))
            .scalars()
            .all()
        )
    assert len(audited) == 3


def test_bad_marks_are_refused_with_an_error_summary_and_change_nothing(
    crew: Any, manager: Any
) -> None:
    measure = "handovers-per-week"
    answer = form(
        manager,
        f"/measures/{measure}/events",
        {"kind": "note", "day": "2026-06-15", "text": "Patient 943 476 5919 waited"},
    )
    assert answer.status_code == 422
    assert "nhsuk-error-summary" in answer.text and "NHS number" in answer.text
    answer = form(manager, f"/measures/{measure}/events", {"kind": "", "day": "", "text": ""})
    assert answer.status_code == 422 and "Select a change of limits or a note" in answer.text
    answer = form(manager, f"/measures/{measure}/settings", {"target": "lots"})
    assert answer.status_code == 422 and "Target" in answer.text
    assert manager.get(f"/api/v1/measures/{measure}").json()["annotations"] == []
    # No CSRF token: refused.
    refused = manager.http.post(
        f"/measures/{measure}/settings", data={"target": "1"}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert (
        crew.http.post(
            f"/measures/{measure}/settings",
            data={"csrf_token": crew.csrf, "target": "1"},
            follow_redirects=False,
        ).status_code
        == 403
    )


def test_a_pdsa_cycle_is_marked_on_the_chart_it_tests(crew: Any, manager: Any) -> None:
    import uuid as uuid_module

    from sqlalchemy import update

    from schemas.ideas import Idea
    from tests.records import idea_data

    idea_id = new_id()
    assert crew.post("/api/v1/ideas", json={"id": idea_id, **idea_data()}).status_code == 201
    with open_session(write=True) as session:
        session.execute(
            update(Idea).where(Idea.id == uuid_module.UUID(idea_id)).values(status="testing")
        )
        session.commit()
    cycle = manager.post(
        f"/api/v1/ideas/{idea_id}/pdsa",
        json={
            "plan": "Phone the ward before leaving base",
            "start_date": "2026-09-07",
            "measure_name": "Handover delay",
        },
    )
    assert cycle.status_code == 201, cycle.text
    assert (
        "Handover delay (from 7 Sep 2026)"
        in manager.get("/measures/delay-minutes-per-week/shape").text
    )  # offered
    measure = "delay-minutes-per-week"
    answer = form(manager, f"/measures/{measure}/pdsa", {"pdsa_cycle_id": str(cycle.json()["id"])})
    assert answer.status_code == 303
    body = manager.get(
        f"/api/v1/measures/{measure}", params={"from": "2026-08-03", "to": "2026-10-04"}
    ).json()
    (mark,) = body["annotations"]
    assert mark["kind"] == "pdsa" and mark["start"] == "2026-09-07"
    assert mark["text"] == "PDSA (Handover delay): Phone the ward before leaving base"
    assert form(manager, f"/measures/{measure}/pdsa", {"pdsa_cycle_id": ""}).status_code == 422
    assert (
        form(manager, f"/measures/{measure}/pdsa", {"pdsa_cycle_id": "999999"}).status_code == 422
    )
