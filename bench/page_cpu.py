"""CPU per page, in-process: process CPU time (not wall time, so the machine's other work matters
less) per GET of the pages people open most, through the whole app (middleware, sign-in, the
queries, the template, the answer) on a temporary SQLite database with the demo trust, each page
by the role that opens it. Measured twice in the same run, alternating rounds: with the NHS.UK
component macros answered from memory (api/component_cache.py, as the app runs) and with that
memory off (every component drawn afresh, as before), so the ratio is the change's alone.

Run: python -m bench.page_cpu [--requests 40] [--rounds 5]"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time

import httpx

from bench.request_cpu import migrate_and_seed_demo

#: The pages, by who opens them: the two capture forms first (a crew member's every visit).
PAGES = {
    "crew": ["/handovers/new", "/ideas/new", "/", "/mine", "/outbox"],
    "manager": ["/triage", "/handovers", "/measures", "/huddle"],
}
PASSWORDS = {"crew": "crew-demo-pass", "manager": "manager-demo-pass"}


async def _signed_in(app: object, role: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://127.0.0.1:8000",
    )
    page = await client.get("/login")
    token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    await client.post(
        "/login",
        data={"email": f"{role}@demo.nhs.uk", "password": PASSWORDS[role], "csrf_token": token},
    )
    return client


async def _measure(requests: int, rounds: int) -> dict[str, tuple[float, float]]:
    """Per page: (best ms with the component memory, best ms without), best of `rounds` each."""
    from api.main import create_app
    from api.templating import component_cache

    app = create_app()
    size = component_cache.size
    figures: dict[str, tuple[float, float]] = {}
    for role, paths in PAGES.items():
        client = await _signed_in(app, role)
        try:
            for path in paths:
                best = {True: float("inf"), False: float("inf")}
                for _ in range(rounds):
                    for remembered in (True, False):
                        component_cache.clear()
                        component_cache.size = size if remembered else 0
                        for _ in range(5):  # warm: the first render fills the memory
                            assert (await client.get(path)).status_code == 200, path
                        started = time.process_time()
                        for _ in range(requests):
                            await client.get(path)
                        spent = (time.process_time() - started) / requests * 1000
                        best[remembered] = min(best[remembered], spent)
                figures[path] = (best[True], best[False])
        finally:
            component_cache.size = size
            await client.aclose()
    return figures


def measure(requests: int = 40, rounds: int = 5) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ.update(FRONTLINE_DATA_DIR=data_dir, FRONTLINE_ENVIRONMENT="development")
        os.environ.pop("DATABASE_URL", None)
        migrate_and_seed_demo()
        from api.db import get_engine

        try:
            return asyncio.run(_measure(requests, rounds))
        finally:
            get_engine().dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    figures = measure(args.requests, args.rounds)
    print("ms of process CPU a page (best of rounds): components from memory / drawn afresh")
    for path, (remembered, fresh) in figures.items():
        print(f"{path:16} {remembered:7.2f} {fresh:7.2f}   ratio {remembered / fresh:.2f}")


if __name__ == "__main__":
    main()
