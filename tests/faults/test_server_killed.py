"""SIGKILL the server while phones upload batches (E2): after restarts and retries every item is
stored exactly once and whole, every outbox is empty, and the SQLite file is intact."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from tests.faults.conftest import SERVER_ENV, wait_for
from tests.faults.phone import CREW, STAFF, Phone, new_items
from tests.faults.store import expected_holdings, holdings, plus, sqlite_checks, sqlite_path
from tests.support.live_server import LiveServer

SEED = 20261124
KILLS = 4
ITEMS_PER_PHONE = 150
TIME_LIMIT = 120.0  # seconds for the whole run; a healthy run takes a fraction of it


def test_sigkill_during_uploads_loses_nothing_and_stores_nothing_twice(
    fault_database: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    deadline = time.monotonic() + TIME_LIMIT
    server = LiveServer(tmp_path / "server", database_url=fault_database, env=SERVER_ENV)
    try:
        server.start()
        before = holdings(fault_database)
        # Two phones per person: each its own session and outbox, as on two devices.
        phones = [
            Phone(server.url, who, random.Random(rng.random()))
            for who in (CREW, CREW, STAFF, STAFF)
        ]
        reference = phones[0].http.get("/api/v1/reference").json()
        for phone in phones:
            phone.queue(new_items(rng, reference, ITEMS_PER_PHONE))
        total = sum(phone.waiting() for phone in phones)

        senders = [threading.Thread(target=p.drain, args=(deadline,), daemon=True) for p in phones]
        for sender in senders:
            sender.start()
        interrupted = 0  # requests on their way or being answered at the moment of a kill
        # Each kill lands as soon as the phones have been acknowledged for a random share of
        # the items: always while they are still sending, never at a planned quiet moment.
        for share in sorted(rng.uniform(0.1, 0.85) for _ in range(KILLS)):
            wait_for(
                lambda share=share: (
                    total - sum(p.waiting() for p in phones) >= share * total
                    or not any(s.is_alive() for s in senders)
                ),
                deadline,
                f"{share:.0%} of the items to be acknowledged",
            )
            interrupted += sum(p.in_flight.is_set() for p in phones)
            server.stop(kill=True)
            server.start()
        for sender in senders:
            sender.join(max(0.0, deadline - time.monotonic()))
        # The last stop is a crash too: what is on disk must stand without a clean shutdown.
        server.stop(kill=True)

        assert [p.problems for p in phones] == [[] for _ in phones]
        assert [p.waiting() for p in phones] == [0] * len(phones), "items left on a phone"
        assert interrupted > 0, "no kill caught a request in flight; the test proved nothing"
        assert sum(p.unanswered for p in phones) > 0
        sent = [item for phone in phones for item in phone.sent]
        expected = expected_holdings(sent, sqlite=sqlite_path(fault_database) is not None)
        assert holdings(fault_database, [i["id"] for i in sent]) == expected
        assert holdings(fault_database) == plus(before, expected), "rows no one sent"
        if path := sqlite_path(fault_database):
            assert sqlite_checks(path) == []
    finally:
        server.stop(kill=True)
