"""When the database cannot be reached: a generic 503, no stack trace, no acknowledgement (E15)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.config import get_settings
from api.db import get_engine
from api.main import create_app
from tests.records import new_id

UNREACHABLE = "postgresql+psycopg://nobody:nothing@127.0.0.1:1/none?connect_timeout=2"


@pytest.fixture
def down(monkeypatch: pytest.MonkeyPatch, crew: Any) -> Iterator[TestClient]:
    """The crew member's browser, after the database went away."""
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield crew
    monkeypatch.undo()
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_healthz_is_503_without_detail(down: Any) -> None:
    response = down.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_sync_is_503_and_acknowledges_nothing(down: Any) -> None:
    body = {"items": [{"kind": "handover", "id": new_id(), "data": {"narrative": "x"}}]}
    response = down.post("/api/v1/sync", json=body)
    assert response.status_code == 503
    assert "results" not in response.json()
    assert "Traceback" not in response.text and "psycopg" not in response.text
    assert response.headers.get("retry-after")


def test_pages_show_a_plain_unavailable_page(down: Any) -> None:
    response = down.get("/mine")
    assert response.status_code == 503
    assert "Service unavailable" in response.text
    assert "Traceback" not in response.text


def test_nothing_fails_open_for_an_anonymous_visitor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        client = TestClient(create_app(), follow_redirects=False)
        response = client.post("/api/v1/handovers", json={"id": new_id(), **{"narrative": "x"}})
        assert response.status_code in {401, 503}
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        get_engine.cache_clear()
