"""PDSA cycles: only on accepted or testing ideas, with a measure and one value per day."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import update

from api.db import open_session
from schemas.ideas import Idea
from tests.records import idea_data, new_id

CYCLE = {
    "plan": "Ask pharmacy to pack TTOs the evening before for 2 weeks.",
    "start_date": "2026-11-02",
    "end_date": "2026-11-15",
    "measure_name": "Discharges before noon",
    "measure_unit": "patients",
}


def idea_in(client: Any, status: str) -> str:
    record_id = new_id()
    client.post("/api/v1/ideas", json={"id": record_id, **idea_data()})
    with open_session(write=True) as session:
        session.execute(update(Idea).where(Idea.id == uuid.UUID(record_id)).values(status=status))
        session.commit()
    return record_id


def test_a_cycle_with_points_on_a_testing_idea(crew: Any, manager: Any) -> None:
    record_id = idea_in(crew, "testing")
    created = manager.post(f"/api/v1/ideas/{record_id}/pdsa", json=CYCLE)
    assert created.status_code == 201, created.text
    cycle_id = created.json()["id"]
    url = f"/api/v1/ideas/{record_id}/pdsa/{cycle_id}/points"
    manager.post(url, json={"day": "2026-11-03", "value": 4})
    manager.post(url, json={"day": "2026-11-04", "value": 6})
    corrected = manager.post(url, json={"day": "2026-11-03", "value": 5})
    assert [(p["day"], p["value"]) for p in corrected.json()["points"]] == [
        ("2026-11-03", 5.0),
        ("2026-11-04", 6.0),
    ]
    assert len(manager.get(f"/api/v1/ideas/{record_id}/pdsa").json()) == 1


def test_cycles_are_refused_on_ideas_not_being_tried(crew: Any, manager: Any) -> None:
    for status in ("submitted", "under_review", "implemented", "declined"):
        record_id = idea_in(crew, status)
        response = manager.post(f"/api/v1/ideas/{record_id}/pdsa", json=CYCLE)
        assert response.status_code == 409
    assert manager.post(f"/api/v1/ideas/{new_id()}/pdsa", json=CYCLE).status_code == 404


def test_bad_cycles_and_points_are_refused_with_the_field_named(crew: Any, manager: Any) -> None:
    record_id = idea_in(crew, "accepted")
    bad = manager.post(f"/api/v1/ideas/{record_id}/pdsa", json={**CYCLE, "end_date": "2026-10-01"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["message"] == "The end date must be on or after the start date"
    assert (
        manager.post(f"/api/v1/ideas/{record_id}/pdsa", json={**CYCLE, "plan": ""}).json()[
            "detail"
        ][0]["field"]
        == "plan"
    )
    cycle_id = manager.post(f"/api/v1/ideas/{record_id}/pdsa", json=CYCLE).json()["id"]
    url = f"/api/v1/ideas/{record_id}/pdsa/{cycle_id}/points"
    assert manager.post(url, json={"day": "soon", "value": 1}).status_code == 422
    assert manager.post(url, json={"day": "2026-11-03", "value": "lots"}).status_code == 422
    other = idea_in(crew, "accepted")
    assert (
        manager.post(
            f"/api/v1/ideas/{other}/pdsa/{cycle_id}/points", json={"day": "2026-11-03", "value": 1}
        ).status_code
        == 404
    )


def test_reporters_cannot_run_pdsa_cycles(crew: Any) -> None:
    record_id = idea_in(crew, "testing")
    assert crew.post(f"/api/v1/ideas/{record_id}/pdsa", json=CYCLE).status_code == 403
    assert crew.get(f"/api/v1/ideas/{record_id}/pdsa").status_code == 403


def test_a_manager_runs_a_cycle_from_the_idea_page(crew: Any, manager: Any) -> None:
    record_id = idea_in(crew, "testing")
    page = f"/triage/ideas/{record_id}"
    assert "Start a PDSA cycle" in manager.get(page).text
    refused = manager.form(
        f"{page}/pdsa", {"plan": "", "measure_name": "", "start_date": ""}, page=page
    )
    assert refused.status_code == 422
    # The summary lists the problems as the form asks the fields: plan, measure, start date.
    links = re.findall(r'href="#(plan|measure_name|start_date)"', refused.text)
    assert links[:3] == ["plan", "measure_name", "start_date"], links
    started = manager.form(f"{page}/pdsa", {**CYCLE, "end_date": ""}, page=page)
    assert started.status_code == 303
    cycle_id = manager.get(f"/api/v1/ideas/{record_id}/pdsa").json()[0]["id"]
    for day, value in (("2026-11-03", "4"), ("2026-11-04", "7")):
        assert (
            manager.form(
                f"{page}/pdsa/{cycle_id}/points", {"day": day, "value": value}, page=page
            ).status_code
            == 303
        )
    html = manager.get(page).text
    assert "Discharges before noon" in html and html.count('role="img"') >= 1
    bad = manager.form(
        f"{page}/pdsa/{cycle_id}/points", {"day": "tomorrow", "value": "x"}, page=page
    )
    assert bad.status_code == 422
    # In words a manager reads, not the validator's.
    assert "Value must be a number, for example 12 or 4.5" in bad.text
    assert "must be a real date, for example 2026-11-24" in bad.text
    assert "unable to parse" not in bad.text and "Input should be" not in bad.text


def test_the_pdsa_section_is_absent_before_an_idea_is_accepted(crew: Any, manager: Any) -> None:
    record_id = idea_in(crew, "under_review")
    assert "PDSA cycles" not in manager.get(f"/triage/ideas/{record_id}").text
