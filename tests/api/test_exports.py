"""CSV exports: managers only, same filters as the lists, spreadsheet-safe, streamed in batches."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from api.exports import routes as export_routes
from api.exports.csv_cells import safe_cell
from tests.records import handover_data, idea_data, new_id, reference_ids


def rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"]
)
def test_formula_starts_are_written_as_text(value: str) -> None:
    assert safe_cell(value) == "'" + value


def test_plain_values_are_unchanged() -> None:
    assert [safe_cell(v) for v in ["Ward 7", 12, None, "a=b"]] == ["Ward 7", "12", "", "a=b"]


def test_reporters_cannot_export(crew: Any) -> None:
    assert crew.get("/api/v1/export/ideas.csv").status_code == 403
    assert crew.get("/api/v1/export/handovers.csv").status_code == 403


def test_the_idea_export_honours_filters_and_neutralises_formulas(crew: Any, manager: Any) -> None:
    ids = reference_ids()
    crew.post(
        "/api/v1/ideas",
        json={"id": new_id(), **idea_data(title="=cmd|' /C calc'!A0", wastes=["inventory"])},
    )
    crew.post(
        "/api/v1/ideas", json={"id": new_id(), **idea_data(title="Quiet one", show_name=False)}
    )
    everything = rows(manager.get("/api/v1/export/ideas.csv"))
    assert len(everything) == 2
    assert {r["title"] for r in everything} == {"'=cmd|' /C calc'!A0", "Quiet one"}
    quiet = next(r for r in everything if r["title"] == "Quiet one")
    assert quiet["submitted_by"] == "Anonymous"
    assert quiet["strategic_aims"].startswith("Safe, high-quality care")
    filtered = rows(manager.get("/api/v1/export/ideas.csv", params={"waste": "inventory"}))
    assert [r["title"] for r in filtered] == ["'=cmd|' /C calc'!A0"]
    assert ids


def test_the_handover_export_streams_in_batches_and_names_no_crew_member(
    crew: Any, manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_routes, "BATCH", 2)
    made = [new_id() for _ in range(5)]
    for record_id in made:
        crew.post(
            "/api/v1/handovers",
            json={"id": record_id, **handover_data(narrative="Waited — ünïcode ✓")},
        )
    exported = rows(manager.get("/api/v1/export/handovers.csv"))
    assert sorted(r["id"] for r in exported) == sorted(made)
    assert exported[0]["narrative"] == "Waited — ünïcode ✓"
    assert "Casey" not in manager.get("/api/v1/export/handovers.csv").text
    assert "reported_by" not in exported[0]


def test_bad_filters_are_refused_before_any_row(manager: Any) -> None:
    response = manager.get("/api/v1/export/handovers.csv", params={"harm": "awful"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "harm"
