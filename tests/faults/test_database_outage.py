"""The database goes away under a running server while a phone is sending, and comes back: the
server answers 503 with Retry-After and acknowledges nothing meanwhile, the phone keeps every item,
and once the database is back the same server takes them all, each exactly once (E15)."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.faults.conftest import PG_ONLY, SERVER_ENV, wait_for
from tests.faults.phone import CREW, Phone, new_items
from tests.faults.store import expected_holdings, holdings, plus
from tests.faults.tcp_proxy import CuttableProxy
from tests.support.live_server import LiveServer

SEED = 15
TIME_LIMIT = 90.0


def test_a_phone_keeps_its_items_through_a_database_outage_and_sends_them_once_after(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip(f"{PG_ONLY}. An SQLite file has no network path to cut.")
    url = make_url(database_url)
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 5432))
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = LiveServer(tmp_path / "server", database_url=through_proxy, env=SERVER_ENV)
    rng = random.Random(SEED)
    deadline = time.monotonic() + TIME_LIMIT
    try:
        server.start()
        before = holdings(database_url)
        phone = Phone(server.url, CREW, random.Random(rng.random()))
        items = new_items(rng, phone.http.get("/api/v1/reference").json(), 120)
        phone.queue(items)
        sender = threading.Thread(target=phone.drain, args=(deadline, 10), daemon=True)
        sender.start()

        # The outage begins while the phone is part-way through its outbox.
        wait_for(lambda: phone.waiting() <= 90, deadline, "the first batches to be acknowledged")
        proxy.cut()
        wait_for(lambda: phone.unanswered > 0, deadline, "the phone to meet the outage")
        assert phone.waiting() > 0

        # What any sender is told meanwhile: a plain 503 to come back later, nothing acknowledged.
        probe = httpx.Client(base_url=server.url, cookies=phone.http.cookies, timeout=30)
        answer = probe.post(
            "/api/v1/sync", json={"items": items[-1:]}, headers={"X-CSRF-Token": phone.csrf}
        )
        assert answer.status_code == 503
        assert answer.headers["retry-after"]
        assert set(answer.json()) == {"detail"}
        assert "psycopg" not in answer.text and "Traceback" not in answer.text
        assert probe.get("/healthz").json() == {"status": "unavailable"}
        assert phone.waiting() > 0

        proxy.restore()
        sender.join(max(0.0, deadline - time.monotonic()))
        assert phone.problems == []
        assert phone.waiting() == 0
        assert probe.get("/healthz").status_code == 200
        expected = expected_holdings(items, sqlite=False)
        assert holdings(database_url, [i["id"] for i in items]) == expected
        assert holdings(database_url) == plus(before, expected), "rows no one sent"
    finally:
        server.stop(kill=True)
        proxy.close()
