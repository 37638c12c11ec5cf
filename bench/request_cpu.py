"""CPU per sync request, in-process: process CPU time (not wall time, so the machine's other work
matters less) per POST /api/v1/sync of 1, 25 and 100 fresh ideas (`--kind handover` for notes) and
per single-record POST /api/v1/handovers, through the whole app (middleware, sign-in, CSRF,
validation, the insert, the commit, the answer) on a temporary SQLite database, or with
`--database-url postgresql+psycopg://…` on that throwaway PostgreSQL database (its public schema is
dropped first). The client's own share (httpx over an ASGI transport) is in the figure; it is the
same for every version of the app, so differences between runs are the app's.

`--profile FILE` also runs cProfile (timed by process CPU, like the figures) over a further round of
each size and writes its statistics to FILE.<size> (read with `python -m pstats`), which is how
docs/performance.md's profiles were made.

`--floor` measures the floor (`bench/floor_app.py`, the same stack doing the least) the same way
in the same run, on a SQLite file of its own or with `--database-url` in that PostgreSQL database,
and prints each figure's ratio floor ÷ Frontline: on CPU alone, the most a request could reach.

Run: python -m bench.request_cpu [--floor]"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.sync_ingest import Reference, batches, handover

SIZES = [1, 25, 100]
SINGLE = "single"  # the key of POST /api/v1/handovers in the figures


@contextmanager
def _inline_threads() -> Iterator[None]:
    """cProfile sees one thread, and the app runs its `def` routes and dependencies on worker
    threads: while profiling, run them inline on the event loop instead, so their work is in the
    profile. (The hand-over to a thread is then missing from the profile; the timed rounds have it.)"""
    import anyio.to_thread

    original = anyio.to_thread.run_sync

    async def inline(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    try:
        yield
    finally:
        anyio.to_thread.run_sync = original


async def _measure(
    sizes: list[int], requests: int, rounds: int, kind: str, profile: str
) -> dict[int | str, float]:
    from api.main import create_app
    from api.operations.runtime import settle_for_serving

    app = create_app()
    base = "http://127.0.0.1:8000"
    figures: dict[int | str, float] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as client:
        page = await client.get("/login")
        token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        credentials = {"email": "crew@demo.nhs.uk", "password": "crew-demo-pass"}
        await client.post("/login", data={**credentials, "csrf_token": token})
        me = (await client.get("/api/v1/me")).json()
        reference = Reference.read((await client.get("/api/v1/reference")).json())
        # As the server's lifespan does once the app has started (api/operations/runtime.py).
        settle_for_serving()
        headers = {
            "X-CSRF-Token": me["csrf_token"],
            "Origin": base,
            "Content-Type": "application/json",
        }
        plan: list[tuple[int | str, str, list[Any]]] = [
            (size, "/api/v1/sync", batches(requests * (rounds + 1) + 20, size, reference, kind))
            for size in sizes
        ]
        singles = [
            {"id": str(uuid.uuid4()), **handover(reference.partner_id)}
            for _ in range(requests * (rounds + 1) + 20)
        ]
        plan.append((SINGLE, "/api/v1/handovers", singles))
        for key, path, payloads in plan:
            bodies = [json.dumps(b).encode() for b in payloads]
            figures[key] = await _best_cpu_ms(client, path, bodies, headers, requests, rounds)
            if profile:
                with _inline_threads():
                    # Process CPU, as the timed rounds: waits on the disk and the database
                    # (and the machine's other work) stay out of the shares.
                    profiler = cProfile.Profile(time.process_time)
                    profiler.enable()
                    for body in bodies[20 + rounds * requests :]:
                        await client.post(path, content=body, headers=headers)
                    profiler.disable()
                profiler.dump_stats(f"{profile}.{key}")
    return figures


async def _best_cpu_ms(
    client: httpx.AsyncClient,
    path: str,
    bodies: list[bytes],
    headers: dict[str, str],
    requests: int,
    rounds: int,
) -> float:
    """Process CPU milliseconds a request, the best of `rounds` rounds of `requests` requests,
    after 20 to warm up (statement caches, the pool, the first pages)."""
    for body in bodies[:20]:
        assert (await client.post(path, content=body, headers=headers)).is_success
    best = float("inf")
    for r in range(rounds):
        started = time.process_time()
        for body in bodies[20 + r * requests : 20 + (r + 1) * requests]:
            answer = await client.post(path, content=body, headers=headers)
        best = min(best, (time.process_time() - started) / requests)
        assert answer.is_success, answer.text
    return best * 1000


async def _measure_floor(
    sizes: list[int], requests: int, rounds: int, kind: str
) -> dict[int | str, float]:
    """The floor app through the same client, the same bodies and the same timing."""
    from bench import floor_app

    reference = Reference(partner_id=1, team_id=1, aim_ids=[1, 2])
    figures: dict[int | str, float] = {}
    transport = httpx.ASGITransport(app=floor_app.app)
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        plan: list[tuple[int | str, str, list[Any]]] = [
            (size, "/api/v1/sync", batches(requests * rounds + 20, size, reference, kind))
            for size in sizes
        ]
        singles = [
            {"id": str(uuid.uuid4()), **handover(reference.partner_id)}
            for _ in range(requests * rounds + 20)
        ]
        plan.append((SINGLE, "/api/v1/handovers", singles))
        for key, path, payloads in plan:
            bodies = [json.dumps(b).encode() for b in payloads]
            figures[key] = await _best_cpu_ms(client, path, bodies, headers, requests, rounds)
    return figures


def measure_floor(
    requests: int = 50,
    rounds: int = 4,
    kind: str = "idea",
    database_url: str = "",
    sizes: list[int] | None = None,
) -> dict[int | str, float]:
    """measure() for the floor app: milliseconds of process CPU per request."""
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ["FLOOR_DB"] = str(Path(data_dir) / "floor.db")
        if database_url:
            os.environ["FLOOR_DATABASE_URL"] = database_url
        else:
            os.environ.pop("FLOOR_DATABASE_URL", None)
        return asyncio.run(_measure_floor(sizes or SIZES, requests, rounds, kind))


def measure(
    requests: int = 50,
    rounds: int = 4,
    kind: str = "idea",
    database_url: str = "",
    profile: str = "",
    sizes: list[int] | None = None,
) -> dict[int | str, float]:
    """Milliseconds of process CPU per request, the best of `rounds`, keyed by items per batch
    (and "single" for one POST /api/v1/handovers)."""
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ.update(
            FRONTLINE_DATA_DIR=data_dir,
            FRONTLINE_ENVIRONMENT="development",
            FRONTLINE_SYNC_MAX_REQUESTS_PER_MINUTE="1000000",
        )
        if database_url:
            from bench.measures import reset_postgres

            reset_postgres(database_url)
            os.environ["DATABASE_URL"] = database_url
        else:
            os.environ.pop("DATABASE_URL", None)
        migrate_and_seed_demo()
        from api.db import get_engine

        try:
            return asyncio.run(_measure(sizes or SIZES, requests, rounds, kind, profile))
        finally:
            get_engine().dispose()


def migrate_and_seed_demo() -> None:
    """The schema and the demo trust in the database the environment now names (as `frontline
    migrate` and `frontline demo` do). Imported late: the app reads its settings on import."""
    from api.db import get_engine, open_session
    from api.demo import seed_demo
    from api.migrate import upgrade

    upgrade(get_engine())
    with open_session(write=True) as session:
        seed_demo(session)
        session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--kind", choices=["idea", "handover"], default="idea")
    parser.add_argument("--database-url", default="", help="a throwaway PostgreSQL database")
    parser.add_argument("--profile", default="", help="write cProfile statistics to FILE.<size>")
    parser.add_argument("--floor", action="store_true", help="measure the floor app too")
    args = parser.parse_args()
    figures = measure(args.requests, args.rounds, args.kind, args.database_url, args.profile)
    floor = (
        measure_floor(args.requests, args.rounds, args.kind, args.database_url)
        if args.floor
        else {}
    )
    print(f"{'PostgreSQL' if args.database_url else 'SQLite'}, fresh {args.kind}s")
    for key, ms in figures.items():
        what = (
            "POST /api/v1/handovers, one note"
            if key == SINGLE
            else f"POST /api/v1/sync with {key:>3} item(s)"
        )
        beside = (
            f"   floor {floor[key]:5.2f} ms, floor ÷ Frontline {floor[key] / ms:.2f}"
            if floor
            else ""
        )
        print(f"{what:38}: {ms:6.2f} ms of process CPU a request{beside}")
    print(f"per item beyond the first: {(figures[100] - figures[1]) / 99 * 1000:.0f} µs", end="")
    if floor:
        print(f" (floor {(floor[100] - floor[1]) / 99 * 1000:.0f} µs)", end="")
    print()


if __name__ == "__main__":
    main()
