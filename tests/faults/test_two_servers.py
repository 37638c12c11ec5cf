"""Two app processes on one database, given the same batches at the same moment: each item is
stored once, one server answers `created` and the other `duplicate` for it, and nothing fails."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.faults.conftest import SERVER_ENV
from tests.faults.phone import CREW, STAFF, new_items, signed_in
from tests.faults.store import expected_holdings, holdings, plus, sqlite_checks, sqlite_path
from tests.support.live_server import LiveServer

SEED = 6
ROUNDS = 12
BATCH = 20


def send(
    client: httpx.Client, csrf: str, batch: list[dict[str, Any]], barrier: threading.Barrier
) -> httpx.Response:
    barrier.wait(timeout=30)
    return client.post("/api/v1/sync", json={"items": batch}, headers={"X-CSRF-Token": csrf})


def send_to_both(
    clients: tuple[httpx.Client, httpx.Client], csrf: str, rounds: list[list[dict[str, Any]]]
) -> list[tuple[list[dict[str, Any]], httpx.Response, httpx.Response]]:
    """Each batch to both servers at once (a barrier lines the two requests up), round after round."""
    answers = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for batch in rounds:
            barrier = threading.Barrier(2)
            first, second = (pool.submit(send, c, csrf, batch, barrier) for c in clients)
            answers.append((batch, first.result(timeout=60), second.result(timeout=60)))
    return answers


def test_two_servers_given_the_same_batches_at_once_store_each_item_once(
    fault_database: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    servers = [
        LiveServer(tmp_path / name, database_url=fault_database, env=SERVER_ENV)
        for name in ("a", "b")
    ]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for started in [pool.submit(server.start) for server in servers]:
                started.result(timeout=90)
        before = holdings(fault_database)

        # Three phones; each session (from server a) is good on server b: sessions live in the
        # shared database and both servers have the same key, as behind a load balancer.
        phones = []
        for who in (CREW, CREW, STAFF):
            on_a, csrf = signed_in(servers[0].url, *who)
            on_b = httpx.Client(base_url=servers[1].url, cookies=on_a.cookies, timeout=30)
            phones.append(((on_a, on_b), csrf))
        reference = phones[0][0][0].get("/api/v1/reference").json()
        plans = [
            [new_items(rng, reference, BATCH) for _ in range(ROUNDS)] for _ in range(len(phones))
        ]

        # The phones run side by side, so rounds of different phones overlap as well.
        with ThreadPoolExecutor(max_workers=len(phones)) as pool:
            runs = [
                pool.submit(send_to_both, clients, csrf, plan)
                for (clients, csrf), plan in zip(phones, plans, strict=True)
            ]
            answers = [pair for run in runs for pair in run.result(timeout=120)]

        sent = []
        for batch, first, second in answers:
            assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
            outcomes_a = {r["id"]: r["outcome"] for r in first.json()["results"]}
            outcomes_b = {r["id"]: r["outcome"] for r in second.json()["results"]}
            for item in batch:
                pair = sorted([outcomes_a[item["id"]], outcomes_b[item["id"]]])
                assert pair == ["created", "duplicate"], item["id"]
            sent += batch
        expected = expected_holdings(sent, sqlite=sqlite_path(fault_database) is not None)
        assert holdings(fault_database, [i["id"] for i in sent]) == expected
        assert holdings(fault_database) == plus(before, expected), "rows no one sent"
        for server in servers:
            server.stop()
        if path := sqlite_path(fault_database):
            assert sqlite_checks(path) == []
    finally:
        for server in servers:
            server.stop(kill=True)
