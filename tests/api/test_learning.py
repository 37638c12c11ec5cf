"""The shared learning library: what every member of staff sees, search and filters, anonymity,
and "Try this in my team" (a new idea that records the one it spreads, counted per original)."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from sqlalchemy import update

from api.db import open_session
from schemas.ideas import Idea
from schemas.pdsa import PdsaCycle, PdsaPoint
from tests.records import idea_data, new_id, reference_ids


def submit(client: Any, **overrides: Any) -> str:
    record_id = new_id()
    response = client.post("/api/v1/ideas", json={"id": record_id, **idea_data(**overrides)})
    assert response.status_code == 201, response.text
    return record_id


def set_status(record_id: str, status: str) -> None:
    with open_session(write=True) as session:
        session.execute(update(Idea).where(Idea.id == uuid.UUID(record_id)).values(status=status))
        session.commit()


def add_cycle(record_id: str, values: list[float]) -> None:
    with open_session(write=True) as session:
        idea = session.get(Idea, uuid.UUID(record_id))
        assert idea is not None
        cycle = PdsaCycle(
            idea_id=idea.id,
            plan="Ask the ward to ring 30 minutes before discharge.",
            study="Waits fell from 40 to 15 minutes.",
            start_date=date(2026, 10, 1),
            measure_name="Minutes waiting at discharge",
            measure_unit="minutes",
            created_by=idea.submitted_by,
        )
        session.add(cycle)
        session.flush()
        for n, value in enumerate(values):
            session.add(PdsaPoint(cycle_id=cycle.id, day=date(2026, 10, 1 + n), value=value))
        session.commit()


def worked(client: Any, **overrides: Any) -> str:
    record_id = submit(client, **overrides)
    set_status(record_id, "implemented")
    return record_id


def test_only_implemented_and_shared_ideas_are_in_the_library(crew: Any, staff: Any) -> None:
    implemented = worked(crew, title="Ring ahead before discharge")
    shared = submit(crew, title="Shared checklist")
    set_status(shared, "shared")
    submit(crew, title="Still submitted")
    testing = submit(crew, title="Being tested")
    set_status(testing, "testing")
    response = staff.get("/api/v1/learning")
    assert response.status_code == 200
    body = response.json()
    assert {i["id"] for i in body["items"]} == {implemented, shared}
    assert body["next_cursor"] is None
    page = staff.get("/learning").text
    assert "Ring ahead before discharge" in page and "Shared checklist" in page
    assert "Still submitted" not in page and "Being tested" not in page


def test_each_item_carries_what_was_tried_and_its_result(crew: Any, staff: Any) -> None:
    record_id = worked(crew, title="Ring ahead")
    add_cycle(record_id, [40, 35, 20, 15, 15])
    item = staff.get("/api/v1/learning").json()["items"][0]
    assert item["team_name"] == "Patient Transport Service – North"
    assert item["pdsa"][0]["plan"].startswith("Ask the ward")
    assert [p["value"] for p in item["pdsa"][0]["points"]] == [40, 35, 20, 15, 15]
    assert "submitted_by" not in item and "owner_id" not in item
    page = staff.get("/learning").text
    assert "What was tried" in page and "Waits fell from 40 to 15 minutes." in page
    assert "<svg" in page and "Minutes waiting at discharge" in page


def test_anonymity_is_kept(crew: Any, staff: Any) -> None:
    worked(crew, title="Quiet improvement", show_name=False)
    worked(crew, title="Named improvement")
    items = {i["title"]: i for i in staff.get("/api/v1/learning").json()["items"]}
    assert items["Quiet improvement"]["submitter_name"] == "Anonymous"
    assert items["Named improvement"]["submitter_name"] == "Casey Crew"
    page = staff.get("/learning").text
    quiet = page.split("Quiet improvement", 1)[1].split("</article>", 1)[0]
    assert "Anonymous" in quiet and "Casey Crew" not in quiet


def test_search_and_filters_by_aim_and_waste(crew: Any, staff: Any) -> None:
    aims = reference_ids()["aims"]
    worked(crew, title="Laminated discharge checklist", aims=[aims[3]], wastes=["defects"])
    worked(crew, title="Rota swap board", aims=[aims[2]], wastes=["waiting"])

    def titles(**params: Any) -> set[str]:
        response = staff.get("/api/v1/learning", params=params)
        assert response.status_code == 200
        return {i["title"] for i in response.json()["items"]}

    assert titles(q="laminate") == {"Laminated discharge checklist"}
    assert titles(aim=aims[2]) == {"Rota swap board"}
    assert titles(waste="defects") == {"Laminated discharge checklist"}
    assert titles(q="nothing like this") == set()
    page = staff.get("/learning", params={"q": "rota", "aim": "", "waste": ""}).text
    assert "Rota swap board" in page and "Laminated" not in page
    assert "No shared learning matches" in staff.get("/learning", params={"q": "zebra"}).text


def test_the_list_pages_like_the_other_list_apis(crew: Any, staff: Any) -> None:
    for n in range(5):
        worked(crew, title=f"Worked idea {n}")
    first = staff.get("/api/v1/learning", params={"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = staff.get(
        "/api/v1/learning", params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    seen = {i["id"] for i in first["items"]} | {i["id"] for i in second["items"]}
    assert len(seen) == 5


def test_bad_queries_get_field_errors(staff: Any) -> None:
    assert staff.get("/api/v1/learning", params={"limit": 0}).status_code == 422
    assert staff.get("/api/v1/learning", params={"limit": 201}).status_code == 422
    assert staff.get("/api/v1/learning", params={"waste": "gold"}).status_code == 422
    bad_cursor = staff.get("/api/v1/learning", params={"cursor": "not-a-cursor"})
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["detail"][0]["field"] == "cursor"
    # The page shrugs off a mangled link and starts from the top.
    assert staff.get("/learning", params={"cursor": "junk", "aim": "x"}).status_code == 200


def test_every_role_may_read_and_anonymous_visitors_may_not(
    client: Any, crew: Any, manager: Any, admin: Any
) -> None:
    for who in (crew, manager, admin):
        assert who.get("/api/v1/learning").status_code == 200
        assert who.get("/learning").status_code == 200
    assert client.get("/api/v1/learning").status_code == 401
    page = client.get("/learning")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_try_this_in_my_team_starts_a_linked_idea_counted_on_the_original(
    crew: Any, staff: Any, manager: Any
) -> None:
    original = worked(crew, title="Ring ahead before discharge")
    form_page = staff.get(f"/learning/{original}/try")
    assert form_page.status_code == 200
    text = form_page.text
    assert f'name="spread_from" value="{original}"' in text
    assert "Ring ahead before discharge" in text and "in your team" in text
    ward = reference_ids()["teams"][2]
    assert re.search(rf'<option value="{ward}" selected', text)

    fields = {
        "id": new_id(),
        "title": "Ring ahead before discharge (Ward 7)",
        "problem": "Crews wait for our patients.",
        "proposal": "Ring transport 30 minutes before.",
        "aims": str(reference_ids()["aims"][1]),
        "team_id": str(ward),
        "show_name": "true",
        "spread_from": original,
        "equity_prompt": "Patients who need an interpreter to be told",
    }
    response = staff.form("/ideas", fields, page=f"/learning/{original}/try")
    assert response.status_code == 303, response.text
    with open_session(write=False) as session:
        made = session.get(Idea, uuid.UUID(fields["id"]))
        assert made is not None and made.spread_from == uuid.UUID(original)
        assert made.equity_prompt == "Patients who need an interpreter to be told"

    item = staff.get("/api/v1/learning").json()["items"][0]
    assert item["id"] == original and item["tried_in_teams"] == 1
    assert "Tried in 1 team" in staff.get("/learning").text
    # A second idea from the same team is still one team.
    manager_copy = {**fields, "id": new_id()}
    assert staff.form("/ideas", manager_copy, page="/ideas/new").status_code == 303
    assert staff.get("/api/v1/learning").json()["items"][0]["tried_in_teams"] == 1


def test_only_ideas_from_the_library_can_be_spread(crew: Any, staff: Any) -> None:
    not_done = submit(crew, title="Not finished")
    assert staff.get(f"/learning/{not_done}/try").status_code == 404
    assert staff.get(f"/learning/{uuid.uuid4()}/try").status_code == 404
    response = staff.post("/api/v1/ideas", json={"id": new_id(), **idea_data(spread_from=not_done)})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "spread_from"
    bad = staff.post("/api/v1/ideas", json={"id": new_id(), **idea_data(spread_from="nope")})
    assert bad.status_code == 422
