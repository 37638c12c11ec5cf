"""Issue #10, smaller findings on input: out-of-range dates on lists, measures, pages and CSV
exports (a 500, or a CSV cut short) are a 422 naming the field (api/filtering.py::FilterDay, pages:
an error summary); CSV cells that a spreadsheet would still run as a formula are written as text
(api/exports/csv_cells.py); text of only invisible characters is blank on every free-text field
(schemas/free_text.py::is_blank). In process, on the suite's database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from api.exports.csv_cells import safe_cell
from tests.records import handover_data, idea_data, new_id

OUT_OF_RANGE = [
    ({"to": "9999-12-31"}, ["to"]),
    ({"from": "0001-01-01"}, ["from"]),
    ({"from": "0001-01-01", "to": "9999-12-31"}, ["from", "to"]),
    ({"from": "1999-12-31"}, ["from"]),
    ({"to": "2100-01-01"}, ["to"]),
]
API_LISTS = [
    "/api/v1/ideas",
    "/api/v1/handovers",
    "/api/v1/measures/handovers-per-week",
    "/api/v1/measures/ideas-submitted-per-month",
    "/api/v1/export/ideas.csv",
    "/api/v1/export/handovers.csv",
]
PAGES = ["/handovers", "/measures", "/partners/{partner}"]


@pytest.mark.parametrize(("query", "fields"), OUT_OF_RANGE)
@pytest.mark.parametrize("path", API_LISTS)
def test_out_of_range_dates_are_a_422_naming_the_field(
    manager: Any, path: str, query: dict[str, str], fields: list[str]
) -> None:
    answer = manager.get(path, params=query)
    assert answer.status_code == 422, answer.text[:300]
    detail = answer.json()["detail"]
    assert [d["field"] for d in detail] == fields
    assert all("1 January 2000 to 31 December 2099" in d["message"] for d in detail)


@pytest.mark.parametrize(("query", "fields"), OUT_OF_RANGE)
@pytest.mark.parametrize("path", PAGES)
def test_out_of_range_dates_on_pages_get_an_error_summary(
    manager: Any, path: str, query: dict[str, str], fields: list[str]
) -> None:
    partner = manager.get("/api/v1/reference").json()["partners"][0]["id"]
    page = manager.get(path.format(partner=partner), params=query)
    assert page.status_code == 422
    summary = page.text.split('class="nhsuk-error-summary', 1)[1].split("</div>\n</div>", 1)[0]
    for field in fields:
        assert f'href="#{field}"' in summary
    assert "1 January 2000 to 31 December 2099" in page.text
    assert "<title>Error: " in page.text


def test_dates_at_the_edges_of_the_range_are_taken(manager: Any) -> None:
    for path in API_LISTS[:2] + API_LISTS[4:]:
        assert (
            manager.get(path, params={"from": "2000-01-01", "to": "2099-12-31"}).status_code == 200
        )


def test_an_export_is_whole_or_refused_never_cut_short(crew: Any, manager: Any) -> None:
    crew.post("/api/v1/handovers", json={"id": new_id(), **handover_data()})
    refused = manager.get("/api/v1/export/handovers.csv", params={"to": "9999-12-31"})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(
        "application/json"
    )
    whole = manager.get("/api/v1/export/handovers.csv", params={"to": "2099-12-31"})
    assert len(list(csv.DictReader(io.StringIO(whole.text.lstrip("\ufeff"))))) == 1


FORMULAS = [
    " =1+1",
    "  @SUM(A1:A2)",
    '\u200b=HYPERLINK("http://attacker.example","Open")',
    "\u2060\u200d+1",
    "\ufeff-1",
    "\uff1dcmd|' /C calc'!A0",  # full-width equals
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(1)",
    "\ufe66x",  # small equals
    "\u3000=1",  # ideographic space
    "\u00a0=1",  # no-break space
    "\n=1",
    "\r\n+1",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_cells_behind_spaces_invisible_or_full_width_characters_are_text(
    value: str,
) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Ward 7", " Ward 7", "a=b", "\u200bWard", "2026-11-24", ""])
def test_ordinary_cells_are_unchanged(value: str) -> None:
    assert safe_cell(value) == value


def test_an_exported_idea_cannot_smuggle_a_formula(crew: Any, manager: Any) -> None:
    crew.post(
        "/api/v1/ideas",
        json={
            "id": new_id(),
            **idea_data(
                title='\uff1dHYPERLINK("http://x.example")',
                problem=" =1+1 before the crew arrive",
                proposal="\u200b@SUM(A1) on the form",
            ),
        },
    )
    exported = manager.get("/api/v1/export/ideas.csv").text.lstrip("\ufeff")
    row = next(csv.DictReader(io.StringIO(exported)))
    assert row["title"].startswith("'\uff1d")
    assert row["problem"].startswith("' =")
    assert row["proposal"].startswith("'\u200b@")


INVISIBLE_ONLY = [
    "\u200b\u200b\u200b\u200b",
    "\u200c\u200d\u2060\ufeff",
    " \u00ad \u00ad ",
    "\u3164\u3164\u3164",  # Hangul filler
    "\u2800\u2800\u2800",  # braille blank
    "\u202e\u202d\u200e\u200f",  # bidi controls and marks
    "\u00a0\u3000\u2003",
]


@pytest.mark.parametrize("text", INVISIBLE_ONLY)
def test_text_of_only_invisible_characters_is_blank_in_records(crew: Any, text: str) -> None:
    idea = crew.post("/api/v1/ideas", json={"id": new_id(), **idea_data(title=text, problem=text)})
    note = crew.post("/api/v1/handovers", json={"id": new_id(), **handover_data(narrative=text)})
    assert idea.status_code == 422 and note.status_code == 422
    assert {d["field"] for d in idea.json()["detail"]} == {"title", "problem"}
    assert note.json()["detail"] == [{"field": "narrative", "message": "Describe what happened"}]
    assert crew.get("/api/v1/me/submissions").json()["ideas"] == []


def test_a_title_padded_with_zero_width_characters_is_measured_as_seen(crew: Any) -> None:
    short = crew.post(
        "/api/v1/ideas", json={"id": new_id(), **idea_data(title="a\u200b\u200b\u200bb")}
    )
    assert short.status_code == 422
    assert short.json()["detail"][0]["message"] == "Title must be at least 3 characters"


@pytest.mark.parametrize("text", INVISIBLE_ONLY[:3])
def test_invisible_comments_reasons_and_names_are_blank_too(
    crew: Any, manager: Any, admin: Any, text: str
) -> None:
    idea_id, note_id = new_id(), new_id()
    assert crew.post("/api/v1/ideas", json={"id": idea_id, **idea_data()}).status_code == 201
    assert (
        crew.post("/api/v1/handovers", json={"id": note_id, **handover_data()}).status_code == 201
    )
    equity = "Yes; checked with the ward's interpreters that nobody is left out."

    refusals = [
        manager.post(f"/api/v1/ideas/{idea_id}/comments", json={"body": text}),
        manager.post(f"/api/v1/handovers/{note_id}/comments", json={"body": text}),
        manager.post(
            f"/api/v1/ideas/{idea_id}/transitions",
            json={"to": "declined", "note": text, "equity_note": equity},
        ),
        manager.post(
            f"/api/v1/ideas/{idea_id}/transitions",
            json={"to": "declined", "note": "Not this year.", "equity_note": text},
        ),
    ]
    assert [r.status_code for r in refusals] == [422, 422, 422, 422]
    assert crew.get("/api/v1/me/submissions").json()["feedback"] == {}

    team = admin.form("/admin/teams/new", {"name": text}, page="/admin/teams/new")
    user = admin.form(
        "/admin/users/new",
        {
            "email": "new.person@nhs.net",
            "name": text,
            "role": "reporter",
            "team_id": "",
            "password": "a-long-enough-password",
        },
        page="/admin/users/new",
    )
    assert team.status_code == 422 and user.status_code == 422
    assert re.search(r'href="#name"', team.text) and re.search(r'href="#name"', user.text)
