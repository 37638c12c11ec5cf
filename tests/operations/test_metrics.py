"""`/metrics`: off by default, readable only with the configured token or from the configured
addresses, and telling the truth about requests, sync outcomes, the push queue and the pool."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert

from api.db import get_engine, pool_capacity
from schemas.push import PushDelivery, PushSubscription
from tests.conftest import Client
from tests.records import idea_data, new_id

TOKEN = "scrape-token-0123456789"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        metric, _, value = line.rpartition(" ")
        found_name, _, found_labels = metric.partition("{")
        found = ",".join(sorted(found_labels.rstrip("}").split(","))) if found_labels else ""
        if found_name == name and found == wanted:
            return float(value)
    return 0.0


def scrape(app: Any) -> str:
    response = TestClient(app).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


def test_metrics_are_off_by_default(app: Any) -> None:
    response = TestClient(app).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert "frontline_" not in response.text


def test_the_token_is_required_when_one_is_configured(configure: Callable[..., Any]) -> None:
    app = configure(metrics_token=TOKEN)
    http = TestClient(app)
    assert http.get("/metrics").status_code == 404
    assert http.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert http.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 404
    assert http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_only_the_allowed_addresses_may_read_and_x_forwarded_for_does_not_count(
    configure: Callable[..., Any],
) -> None:
    app = configure(
        metrics_allowed_addresses="10.1.2.0/24, 127.0.0.1",
        trusted_proxy_count=1,
        forwarded_allow_ips="*",
    )
    inside = TestClient(app, client=("10.1.2.3", 40000))
    outside = TestClient(app, client=("192.0.2.10", 40000))

    assert inside.get("/metrics").status_code == 200
    assert outside.get("/metrics").status_code == 404
    # A forged header from outside names an allowed address: still refused (the socket peer counts).
    assert outside.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 404


def test_address_and_token_together_both_must_hold(configure: Callable[..., Any]) -> None:
    app = configure(metrics_allowed_addresses="127.0.0.1", metrics_token=TOKEN)
    local = TestClient(app, client=("127.0.0.1", 40000))
    assert local.get("/metrics").status_code == 404
    assert local.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    remote = TestClient(app, client=("192.0.2.10", 40000))
    assert remote.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


def test_requests_are_counted_by_route_template_never_by_raw_path(
    configure: Callable[..., Any],
) -> None:
    app = configure(metrics_token=TOKEN)
    manager = Client(app).sign_in("manager@demo.nhs.uk")
    record = new_id()
    before = scrape(app)

    assert manager.get(f"/triage/ideas/{record}").status_code == 404
    manager.get("/static/css/app.css")
    manager.get(f"/no-such-page/{record}")
    after = scrape(app)

    def grew(route: str, status: str) -> float:
        labels = {"method": "GET", "route": route, "status": status}
        return sample(after, "frontline_http_requests_total", **labels) - sample(
            before, "frontline_http_requests_total", **labels
        )

    assert grew("/triage/ideas/{idea_id}", "404") == 1
    assert grew("/static", "200") == 1
    assert grew("unmatched", "404") == 1
    assert record not in after
    assert (
        sample(
            after,
            "frontline_http_request_duration_seconds_count",
            method="GET",
            route="/triage/ideas/{idea_id}",
        )
        >= 1
    )


def test_sync_outcomes_are_counted_once_committed(configure: Callable[..., Any]) -> None:
    app = configure(metrics_token=TOKEN)
    crew = Client(app).sign_in("crew@demo.nhs.uk")
    first, second = new_id(), new_id()
    data = idea_data()
    before = scrape(app)

    crew.post(
        "/api/v1/sync",
        json={
            "items": [
                {"kind": "idea", "id": first, "data": data},
                {"kind": "idea", "id": second, "data": idea_data(title="")},
            ]
        },
    )
    replay = crew.post(
        "/api/v1/sync",
        json={
            "items": [
                {"kind": "idea", "id": first, "data": data},
                {"kind": "idea", "id": first, "data": {**data, "title": "Something else"}},
            ]
        },
    )
    assert [r["outcome"] for r in replay.json()["results"]] == ["duplicate", "conflict"]
    after = scrape(app)

    for outcome in ("created", "rejected", "duplicate", "conflict"):
        labels = {"kind": "idea", "outcome": outcome}
        assert (
            sample(after, "frontline_sync_items_total", **labels)
            - sample(before, "frontline_sync_items_total", **labels)
            == 1
        ), outcome


def test_the_push_queue_and_the_pool_are_reported(configure: Callable[..., Any]) -> None:
    app = configure(metrics_token=TOKEN)
    with get_engine().begin() as connection:
        subscription = connection.execute(
            insert(PushSubscription.__table__).values(  # type: ignore[attr-defined]
                user_id=1, endpoint="https://fcm.googleapis.com/fcm/send/x", p256dh="k", auth="a"
            )
        ).inserted_primary_key[0]
        rows = [("pending", 0), ("pending", 0), ("pending", 2), ("failed", 5), ("sent", 1)]
        for status, attempts in rows:
            connection.execute(
                insert(PushDelivery.__table__).values(  # type: ignore[attr-defined]
                    subscription_id=subscription,
                    payload={"title": "t"},
                    status=status,
                    attempts=attempts,
                )
            )

    text = scrape(app)

    assert sample(text, "frontline_push_deliveries", status="pending") == 3
    assert sample(text, "frontline_push_deliveries", status="failed") == 1
    assert sample(text, "frontline_push_deliveries", status="sent") == 1
    assert sample(text, "frontline_push_deliveries_retrying") == 1
    assert sample(text, "frontline_db_up") == 1
    assert sample(text, "frontline_db_pool_capacity") == pool_capacity(get_engine())
    assert re.search(r"^frontline_db_pool_connections_in_use \d", text, re.M)
