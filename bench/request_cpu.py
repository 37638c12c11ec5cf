"""CPU per sync request, in-process: process CPU time (not wall time, so the machine's other work
matters less) per POST /api/v1/sync of 1 and of 100 items, through the whole app (middleware,
sign-in, CSRF, validation, the insert, the commit, the answer) on a temporary SQLite database.
The client's own share (httpx over an ASGI transport) is in the figure; it is the same for every
version of the app, so differences between runs are the app's.

Run: python -m bench.request_cpu"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time

import httpx

from bench.sync_ingest import batches


async def _measure(sizes: list[int], requests: int, rounds: int) -> dict[int, float]:
    from api.main import create_app

    app = create_app()
    base = "http://127.0.0.1:8000"
    figures: dict[int, float] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as client:
        page = await client.get("/login")
        token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        credentials = {"email": "crew@demo.nhs.uk", "password": "crew-demo-pass"}
        await client.post("/login", data={**credentials, "csrf_token": token})
        me = (await client.get("/api/v1/me")).json()
        partner_id = (await client.get("/api/v1/reference")).json()["partners"][0]["id"]
        headers = {
            "X-CSRF-Token": me["csrf_token"],
            "Origin": base,
            "Content-Type": "application/json",
        }
        for size in sizes:
            bodies = [
                json.dumps(b).encode() for b in batches(requests * rounds + 20, size, partner_id)
            ]
            for body in bodies[:20]:  # warm-up: statement caches, the pool, the first pages
                assert (await client.post("/api/v1/sync", content=body, headers=headers)).is_success
            best = float("inf")
            for r in range(rounds):
                started = time.process_time()
                for body in bodies[20 + r * requests : 20 + (r + 1) * requests]:
                    await client.post("/api/v1/sync", content=body, headers=headers)
                best = min(best, (time.process_time() - started) / requests)
            figures[size] = best * 1000
    return figures


def measure(requests: int = 50, rounds: int = 4) -> dict[int, float]:
    """Milliseconds of process CPU per request, the best of `rounds`, keyed by items per batch."""
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ.update(
            FRONTLINE_DATA_DIR=data_dir,
            FRONTLINE_ENVIRONMENT="development",
            FRONTLINE_SYNC_MAX_REQUESTS_PER_MINUTE="1000000",
        )
        os.environ.pop("DATABASE_URL", None)
        from api.db import get_engine, open_session
        from api.demo import seed_demo
        from api.migrate import upgrade

        upgrade(get_engine())
        with open_session(write=True) as session:
            seed_demo(session)
            session.commit()
        try:
            return asyncio.run(_measure([1, 100], requests, rounds))
        finally:
            get_engine().dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    figures = measure(args.requests, args.rounds)
    for size, ms in figures.items():
        print(f"POST /api/v1/sync with {size:>3} item(s): {ms:6.2f} ms of process CPU a request")
    print(f"per item beyond the first: {(figures[100] - figures[1]) / 99 * 1000:.0f} µs")


if __name__ == "__main__":
    main()
