"""The batch sync endpoint: exactly once, per-item outcomes in order, one bad item blocks nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from api.db import open_session
from api.sync.routes import SyncResponse
from schemas.handovers import Handover, HandoverCategory
from schemas.ideas import Idea, IdeaAim
from tests.records import handover_data, idea_data, new_id


def count(model: Any) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def batch(*items: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    return {"items": [{"kind": k, "id": i, "data": d} for k, i, d in items]}


def test_a_batch_creates_each_record_once_and_answers_in_order(crew: Any) -> None:
    items = [("handover", new_id(), handover_data()) for _ in range(3)] + [
        ("idea", new_id(), idea_data())
    ]
    response = crew.post("/api/v1/sync", json=batch(*items))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [i[1] for i in items]
    assert [r["outcome"] for r in results] == ["created"] * 4
    assert all(r["errors"] == [] for r in results)
    assert count(Handover) == 3 and count(Idea) == 1
    assert count(HandoverCategory) == 3 and count(IdeaAim) == 2


def test_replayed_batch_creates_nothing_new(crew: Any) -> None:
    body = batch(*[("handover", new_id(), handover_data()) for _ in range(5)])
    first = crew.post("/api/v1/sync", json=body).json()["results"]
    again = crew.post("/api/v1/sync", json=body).json()["results"]
    assert {r["outcome"] for r in first} == {"created"}
    assert {r["outcome"] for r in again} == {"duplicate"}
    assert count(Handover) == 5


def test_same_id_with_different_content_is_a_conflict_and_changes_nothing(crew: Any) -> None:
    record_id = new_id()
    crew.post(
        "/api/v1/sync", json=batch(("handover", record_id, handover_data(narrative="First.")))
    )
    response = crew.post(
        "/api/v1/sync", json=batch(("handover", record_id, handover_data(narrative="Second.")))
    )
    assert response.json()["results"][0]["outcome"] == "conflict"
    with open_session(write=False) as session:
        assert session.execute(select(Handover.narrative)).scalar_one() == "First."


def test_another_users_id_is_a_conflict_not_a_duplicate(crew: Any, staff: Any) -> None:
    record_id, data = new_id(), handover_data()
    crew.post("/api/v1/sync", json=batch(("handover", record_id, data)))
    result = staff.post("/api/v1/sync", json=batch(("handover", record_id, data))).json()[
        "results"
    ][0]
    assert result["outcome"] == "conflict"
    assert count(Handover) == 1


def test_one_bad_item_never_blocks_the_rest(crew: Any) -> None:
    good_before, good_after = new_id(), new_id()
    response = crew.post(
        "/api/v1/sync",
        json=batch(
            ("handover", good_before, handover_data()),
            ("handover", new_id(), handover_data(narrative="", categories=[])),
            ("idea", "not-a-uuid", idea_data()),
            ("rocket", new_id(), {}),
            ("idea", new_id(), idea_data(aims=[999999])),
            ("handover", good_after, handover_data()),
        ),
    )
    outcomes = [r["outcome"] for r in response.json()["results"]]
    assert outcomes == ["created", "rejected", "rejected", "rejected", "rejected", "created"]
    rejected = response.json()["results"][1]
    assert {e["field"] for e in rejected["errors"]} == {"narrative", "categories"}
    assert response.json()["results"][4]["errors"] == [
        {"field": "aims", "message": "Select strategic aims from the list"}
    ]
    assert count(Handover) == 2 and count(Idea) == 0
    # The answer, written by hand for speed, is exactly the documented SyncResponse.
    assert SyncResponse.model_validate(response.json()).model_dump() == response.json()


def test_the_same_id_twice_in_one_batch_is_stored_once(crew: Any) -> None:
    record_id, data = new_id(), handover_data()
    results = crew.post(
        "/api/v1/sync",
        json=batch(
            ("handover", record_id, data),
            ("handover", record_id, data),
            ("handover", record_id, handover_data(narrative="Changed.")),
        ),
    ).json()["results"]
    assert [r["outcome"] for r in results] == ["created", "duplicate", "conflict"]
    assert count(Handover) == 1


def test_every_outcome_in_one_batch_is_judged_on_its_own(crew: Any) -> None:
    stored_id, stored = new_id(), handover_data()
    crew.post("/api/v1/sync", json=batch(("handover", stored_id, stored)))
    twice_id, bad_partner = new_id(), handover_data(partner_id=999999)
    results = crew.post(
        "/api/v1/sync",
        json=batch(
            ("handover", new_id(), handover_data()),
            ("handover", stored_id, stored),
            ("handover", stored_id, handover_data(narrative="Other words.")),
            ("handover", new_id(), bad_partner),
            ("handover", twice_id, handover_data()),
            ("handover", twice_id, bad_partner),
        ),
    ).json()["results"]
    assert [r["outcome"] for r in results] == [
        "created",
        "duplicate",
        "conflict",
        "rejected",
        "created",
        # The id is already taken, by the item before it: what this one says cannot be stored.
        "conflict",
    ]
    assert results[3]["errors"] == [
        {"field": "partner_id", "message": "Select a partner organisation from the list"}
    ]
    assert count(Handover) == 3


def test_more_than_100_items_is_refused_whole(crew: Any) -> None:
    body = batch(*[("handover", new_id(), handover_data()) for _ in range(101)])
    response = crew.post("/api/v1/sync", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "items"
    assert count(Handover) == 0


def test_server_owned_fields_cannot_be_set_through_sync(crew: Any) -> None:
    data = idea_data(status="implemented", submitted_by=1, version=7)
    result = crew.post("/api/v1/sync", json=batch(("idea", new_id(), data))).json()["results"][0]
    assert result["outcome"] == "rejected"
    assert {e["field"] for e in result["errors"]} == {"status", "submitted_by", "version"}
    assert count(Idea) == 0


def test_sync_without_a_session_is_401_and_stores_nothing(client: Any) -> None:
    response = client.http.post("/api/v1/sync", json=batch(("handover", new_id(), handover_data())))
    assert response.status_code == 401
    assert count(Handover) == 0


def test_sync_without_the_csrf_token_is_403(crew: Any) -> None:
    response = crew.http.post("/api/v1/sync", json=batch(("handover", new_id(), handover_data())))
    assert response.status_code == 403
    assert count(Handover) == 0


def test_concurrent_replays_of_one_batch_store_each_record_once(crew: Any) -> None:
    body = batch(*[("handover", new_id(), handover_data()) for _ in range(20)])
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: crew.post("/api/v1/sync", json=body), range(6)))
    assert all(r.status_code == 200 for r in responses)
    outcomes = [r["outcome"] for resp in responses for r in resp.json()["results"]]
    assert outcomes.count("created") == 20
    assert outcomes.count("duplicate") == 100
    assert count(Handover) == 20
