"""Issue #10, finding 1 (high): clients that send the head of a POST and part of its body, then
wait, must not stop the service. The body is read in full before the request takes a database slot,
connection or worker thread (api/security/headers.py::WholeBody); a body that does not arrive in
FRONTLINE_REQUEST_BODY_TIMEOUT_SECONDS is answered 408 and the connection closed (SPEC §9)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from api.main import create_app
from tests.records import handover_data, new_id
from tests.security.conftest import signed_in
from tests.support.live_server import LiveServer

STALLERS = 50
BODY_TIMEOUT = 8.0  # short for the test; the default is 30 s
# How long the liveness checks may take: a bound that says "answered", not a speed assertion.
CLIENT_TIMEOUT = 5.0
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def unsafe_routes() -> list[tuple[str, str]]:
    """(method, path) of every form and API write the app has, with made-up ids in the path: the
    stall happens before the route looks the record up."""
    found = []
    for included in create_app().routes:
        context = getattr(included, "include_context", None)
        if context is None:
            continue
        for route in context.included_router.routes:
            for method in sorted(UNSAFE & getattr(route, "methods", set())):
                path = context.prefix + route.path
                path = re.sub(r"\{[a-z_]+:int\}|\{cycle_id\}", "1", path)
                path = path.replace("{slug}", "teams")
                path = re.sub(r"\{[a-z_]+\}", new_id(), path)
                found.append((method, path))
    return found


def test_the_routes_under_attack_include_every_form() -> None:
    paths = {path for _, path in unsafe_routes()}
    for form in ("/login", "/logout", "/ideas", "/handovers", "/admin/users/new", "/api/v1/sync"):
        assert form in paths
    assert any(p.startswith("/triage/ideas/") for p in paths)
    assert any(p.startswith("/handovers/") and p.endswith("/move") for p in paths)


def stall(port: int, method: str, path: str) -> socket.socket:
    """Headers and the first part of a body that says it is 4000 bytes long; then nothing."""
    api = path.startswith("/api/")
    start = b'{"items": [{"kind": "idea", "data": {"title": "' if api else b"csrf_token=abc&title="
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: {'application/json' if api else 'application/x-www-form-urlencoded'}\r\n"
        f"Content-Length: 4000\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)
    sock.sendall(head + start)
    return sock


@pytest.fixture
def stallers(
    start_server: Callable[..., LiveServer],
) -> Iterator[tuple[LiveServer, list[socket.socket]]]:
    server = start_server(FRONTLINE_REQUEST_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT))
    routes = unsafe_routes()
    sockets = [stall(server.port, *routes[i % len(routes)]) for i in range(STALLERS)]
    try:
        yield server, sockets
    finally:
        for sock in sockets:
            sock.close()


def still_waiting(sock: socket.socket) -> bool:
    """True while the server has neither answered this client nor closed its connection."""
    sock.setblocking(False)
    try:
        return not sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)


def answer_of(sock: socket.socket, wait: float) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(wait)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_fifty_stalled_clients_on_every_form_do_not_stop_sign_in_pages_or_sync(
    stallers: tuple[LiveServer, list[socket.socket]],
) -> None:
    server, sockets = stallers
    started = time.monotonic()

    # While all 50 hold their half-sent bodies: sign in, open a page, send a sync batch.
    crew = signed_in(server, "crew@demo.nhs.uk", "crew-demo-pass", timeout=CLIENT_TIMEOUT)
    assert crew.get("/mine").status_code == 200
    item = {"kind": "handover", "id": new_id(), "data": handover_data()}
    synced = crew.post("/api/v1/sync", json={"items": [item]})
    assert synced.status_code == 200
    assert synced.json()["results"][0]["outcome"] == "created"

    # ...and the stallers were all still connected and unanswered when that was done.
    assert time.monotonic() - started < BODY_TIMEOUT
    assert all(still_waiting(sock) for sock in sockets)

    # Then each is dropped with a 408 once its time is up.
    for sock in sockets:
        answer = answer_of(sock, wait=BODY_TIMEOUT + 30)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"\r\nconnection: close\r\n" in answer.lower()
    assert "request_body_timeout" in server.log_tail(200)


def test_a_body_that_arrives_in_pieces_within_the_time_is_taken(
    start_server: Callable[..., LiveServer],
) -> None:
    """The bound is on the whole body, not a refusal of slow senders: a phone on poor signal whose
    form arrives in pieces, well within the time, is served as usual."""
    server = start_server(FRONTLINE_REQUEST_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT))
    crew = signed_in(server, "crew@demo.nhs.uk", "crew-demo-pass", timeout=CLIENT_TIMEOUT)
    token = crew.headers["X-CSRF-Token"]
    cookies = "; ".join(f"{k}={v}" for k, v in crew.cookies.items())
    body = f"csrf_token={token}".encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=CLIENT_TIMEOUT)
    sock.sendall(
        f"POST /mine/notifications/read HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Cookie: {cookies}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
    )
    for i in range(0, len(body), 16):
        sock.sendall(body[i : i + 16])
        time.sleep(0.05)  # pieces on a poor connection, not a wait for an outcome
    answer = answer_of(sock, wait=CLIENT_TIMEOUT)
    assert answer.startswith(b"HTTP/1.1 303 "), answer[:300]
