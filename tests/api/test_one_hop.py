"""The phone's write routes run in one worker-thread hand-over (api/one_hop.py) and answer every
request, accepted or refused, exactly as FastAPI's own handler of the same declaration does.

FastAPI's handler is what the routes ran before (and what runs when dependency overrides are in
force), so each request below is sent twice, once through each, and the answers compared byte for
byte: status, body and headers (a new anonymous cookie's random value aside)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import update

from api import one_hop
from api.config import get_settings
from api.db import get_engine, open_session
from api.security.rate_limit import SlidingWindowLimiter
from api.sync import guard
from schemas.accounts import User
from tests.api.test_database_down import UNREACHABLE
from tests.conftest import Client
from tests.records import handover_data, idea_data, new_id

ONE_HOP = {("POST", "/api/v1/sync"), ("POST", "/api/v1/ideas"), ("POST", "/api/v1/handovers")}


def _fastapi_handler_switch() -> None:
    """Never called: its override only puts dependency overrides in force."""


@contextmanager
def fastapi_own_handler(app: Any) -> Iterator[None]:
    app.dependency_overrides[_fastapi_handler_switch] = _fastapi_handler_switch
    try:
        yield
    finally:
        del app.dependency_overrides[_fastapi_handler_switch]


def answer(response: Any) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = [
        (name, value if name != "set-cookie" else value.split("=", 1)[0])
        for name, value in response.headers.multi_items()
    ]
    return response.status_code, response.content, headers


def both_ways(app: Any, send: Callable[[], Any]) -> tuple[Any, Any]:
    before = len(HOPS)
    one_hop = answer(send())
    assert len(HOPS) == before + 1  # the one-hop handler answered
    with fastapi_own_handler(app):
        fastapi = answer(send())
    assert len(HOPS) == before + 1  # and then FastAPI's own
    return one_hop, fastapi


HOPS: list[None] = []


@pytest.fixture(autouse=True)
def count_hops(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts the requests the one-hop handler takes (a spy: it reads the body as before)."""
    read_body = one_hop.read_body

    async def counted(*arguments: Any) -> Any:
        HOPS.append(None)
        return await read_body(*arguments)

    monkeypatch.setattr(one_hop, "read_body", counted)


def one_hop_routes(app: Any) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    def visit(routes: list[Any]) -> None:
        for route in routes:
            if hasattr(route, "effective_candidates"):
                visit(route.effective_candidates())
            elif getattr(route, "one_hop", False):
                found.update((method, route.path) for method in route.methods)

    visit(app.router.routes)
    return found


def test_the_phones_write_routes_run_in_one_hand_over(app: Any) -> None:
    assert one_hop_routes(app) == ONE_HOP


def _sync(items: list[dict[str, Any]]) -> bytes:
    return json.dumps({"items": items}).encode()


JSON = {"Content-Type": "application/json"}


def refusal_cases(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(who, path, request arguments): every refusal SPEC §6 names for these routes, and odd
    bodies FastAPI answers in its own way."""
    idea = idea_data()
    note = handover_data()
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for path, body in (
        ("/api/v1/sync", _sync([{"kind": "idea", "id": ids["idea"], "data": idea}])),
        ("/api/v1/ideas", json.dumps({"id": ids["idea"], **idea}).encode()),
        ("/api/v1/handovers", json.dumps({"id": ids["note"], **note}).encode()),
    ):
        cases += [
            ("anonymous", path, {"content": body, "headers": JSON}),  # 401
            ("crew", path, {"content": body, "headers": {**JSON, "X-CSRF-Token": "forged"}}),
            ("crew", path, {"content": body, "headers": {**JSON, "X-CSRF-Token": ""}}),
            ("crew", path, {"content": body, "headers": {**JSON, "Origin": "https://evil.test"}}),
            ("crew", path, {"content": body, "headers": {**JSON, "Sec-Fetch-Site": "cross-site"}}),
            ("crew", path, {"content": b"{not json", "headers": JSON}),
            ("anonymous", path, {"content": b"{not json", "headers": JSON}),
            ("crew", path, {"content": b"", "headers": JSON}),
            ("crew", path, {"content": b"[]", "headers": JSON}),
            ("crew", path, {"content": b'"text"', "headers": JSON}),
            ("crew", path, {"content": b"\xff\xfe{}", "headers": JSON}),
            ("crew", path, {"content": b"\xef\xbb\xbf{}", "headers": JSON}),
            ("crew", path, {"content": body, "headers": {"Content-Type": "text/plain"}}),
            ("crew", path, {"content": body, "headers": {"Content-Type": "application/x+json"}}),
            ("crew", path, {"content": body}),  # no Content-Type
            ("crew", path, {"data": {"csrf_token": "x"}}),  # a form
            ("crew", path, {"content": b'{"items": 5, "extra": true}', "headers": JSON}),
            ("must_change", path, {"content": body, "headers": JSON}),
            # Sign-in and the role before the body's field errors, as FastAPI's order has it.
            ("anonymous", path, {"content": b"", "headers": JSON}),
            ("anonymous", path, {"content": b"[]", "headers": JSON}),
            ("must_change", path, {"content": b"[]", "headers": JSON}),
            ("partner", path, {"content": b"[]", "headers": JSON}),
            ("crew", path, {"content": b"[]", "headers": {**JSON, "X-CSRF-Token": "forged"}}),
        ]
    too_many = [{"kind": "idea", "id": new_id(), "data": idea} for _ in range(101)]
    odd_items = [
        {"kind": "nonsense", "id": new_id(), "data": idea},
        {"kind": "idea", "id": "not-a-uuid", "data": idea},
        {"kind": "idea", "id": new_id(), "data": []},
        {"kind": "idea", "id": new_id(), "data": {**idea, "title": " ", "team_id": 10**9}},
        {"kind": "handover", "id": new_id(), "data": {**note, "narrative": "NHS 943 476 5919"}},
        {"kind": "idea", "id": new_id(), "data": {**idea, "aims": [10**9]}},
    ]
    cases += [
        ("crew", "/api/v1/sync", {"content": _sync(too_many), "headers": JSON}),
        ("crew", "/api/v1/sync", {"content": _sync(odd_items), "headers": JSON}),
        ("partner", "/api/v1/sync", {"content": _sync(odd_items), "headers": JSON}),
        (
            "partner",
            "/api/v1/handovers",
            {"content": json.dumps({"id": new_id(), **note}).encode(), "headers": JSON},
        ),
        (
            "crew",
            "/api/v1/ideas",
            {"content": json.dumps({"id": "nope", **idea, "title": ""}).encode(), "headers": JSON},
        ),
        (
            "crew",
            "/api/v1/handovers",
            {
                "content": json.dumps({"id": new_id(), **note, "harm": "x"}).encode(),
                "headers": JSON,
            },
        ),
    ]
    return cases


@pytest.fixture
def must_change(app: Any) -> Client:
    """Signed in, then an admin set their password: every write answers 403 until they choose."""
    client = Client(app).sign_in("staff@demo.nhs.uk")
    with open_session(write=True) as session:
        session.execute(
            update(User).where(User.email == "staff@demo.nhs.uk").values(must_change_password=True)  # type: ignore[arg-type]
        )
        session.commit()
    return client


def test_every_refusal_is_the_answer_fastapi_gave(
    app: Any, crew: Client, partner: Client, must_change: Client
) -> None:
    clients = {
        "crew": crew,
        "partner": partner,
        "must_change": must_change,
        "anonymous": Client(app),
    }
    cases = refusal_cases({"idea": new_id(), "note": new_id()})
    # The valid bodies among them stored first: where a case is accepted (a JSON media type
    # FastAPI reads as JSON), both handlers answer the same replay.
    for who, path, arguments in cases:
        if who == "anonymous" and arguments["content"] not in (b"{not json", b"", b"[]"):
            stored = clients["crew"].post(path, content=arguments["content"], headers=JSON)
            assert stored.status_code in (200, 201), stored.text
    statuses = []
    for who, path, arguments in cases:
        client = clients[who]

        def send(client: Client = client, path: str = path, arguments: Any = arguments) -> Any:
            return client.post(path, **arguments)

        one_hop, fastapi = both_ways(app, send)
        assert one_hop == fastapi, (who, path, arguments.get("content", b"")[:80])
        statuses.append(one_hop[0])
    assert {401, 403, 422} <= set(statuses), statuses


def test_acknowledgements_and_clashes_are_the_answers_fastapi_gave(app: Any, crew: Client) -> None:
    """Stored once through one route, then the same record again (a replay: 200 and the same body)
    and different content under its id (409), through each handler."""
    idea = {"id": new_id(), **idea_data()}
    note = {"id": new_id(), **handover_data()}
    batch = _sync(
        [
            {"kind": "idea", "id": new_id(), "data": idea_data()},
            {"kind": "handover", "id": new_id(), "data": handover_data()},
        ]
    )
    for path, body in (
        ("/api/v1/ideas", json.dumps(idea).encode()),
        ("/api/v1/handovers", json.dumps(note).encode()),
        ("/api/v1/sync", batch),
    ):
        first = crew.post(path, content=body, headers=JSON)
        assert first.status_code in (200, 201), first.text
        replay = both_ways(
            app, lambda path=path, body=body: crew.post(path, content=body, headers=JSON)
        )
        assert replay[0] == replay[1]
        assert replay[0][0] == 200
    for path, record in (("/api/v1/ideas", idea), ("/api/v1/handovers", note)):
        clash = json.dumps({**record, "location_detail": "Elsewhere", "title": "Elsewhere"})
        answers = both_ways(
            app, lambda path=path, clash=clash: crew.post(path, content=clash, headers=JSON)
        )
        assert answers[0] == answers[1]
        assert answers[0][0] in (409, 422)


def test_too_many_writes_is_the_answer_fastapi_gave(
    app: Any, crew: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """429 with its Retry-After, from the same write limit (one write a minute here)."""
    limiter = SlidingWindowLimiter(1)
    monkeypatch.setattr(guard, "_limiter", lambda: limiter)
    first = crew.post("/api/v1/sync", content=_sync([]), headers=JSON)
    assert first.status_code == 200
    for path, body in (
        ("/api/v1/sync", _sync([{"kind": "idea", "id": new_id(), "data": idea_data()}])),
        ("/api/v1/ideas", json.dumps({"id": new_id(), **idea_data()}).encode()),
        ("/api/v1/handovers", json.dumps({"id": new_id(), **handover_data()}).encode()),
    ):
        answers = both_ways(app, lambda p=path, b=body: crew.post(p, content=b, headers=JSON))
        assert answers[0] == answers[1]
        assert answers[0][0] == 429


def test_database_down_is_the_answer_fastapi_gave(
    app: Any, crew: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """503 with Retry-After and nothing acknowledged, when the database cannot be reached."""
    bodies = [
        ("/api/v1/sync", _sync([{"kind": "idea", "id": new_id(), "data": idea_data()}])),
        ("/api/v1/ideas", json.dumps({"id": new_id(), **idea_data()}).encode()),
        ("/api/v1/handovers", json.dumps({"id": new_id(), **handover_data()}).encode()),
    ]
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        for path, body in bodies:
            answers = both_ways(app, lambda p=path, b=body: crew.post(p, content=b, headers=JSON))
            assert answers[0] == answers[1]
            assert answers[0][0] == 503
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        get_engine.cache_clear()
