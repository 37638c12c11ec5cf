"""Sync ingest at 16 connections: Frontline's POST /api/v1/sync against the floor (bench/floor_app.py,
the same stack with nothing of ours) in the same run, at batches of 25 (what a phone's outbox sends)
and of 100 (the most a batch may hold), fresh ideas by default (`--kind handover` for notes); and
single records (POST /api/v1/handovers, one note per request) against the floor's equivalent.
SQLite WAL with synchronous=FULL by default; `--database-url postgresql+psycopg://…` puts both on
that throwaway PostgreSQL database (the floor in a table of its own). With two CPUs or more, the
servers run on CPU 0 and the load generator on the others (`taskset`), as issue 16 measured."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.server import ROOT, BenchServer, free_port, percentile


@dataclass(frozen=True)
class Reference:
    """What valid records point at: the first partner, team and two aims of the demo data."""

    partner_id: int
    team_id: int
    aim_ids: list[int]

    @classmethod
    def read(cls, data: dict[str, Any]) -> Reference:
        return cls(
            partner_id=data["partners"][0]["id"],
            team_id=data["teams"][0]["id"],
            aim_ids=[a["id"] for a in data["aims"][:2]],
        )


def handover(partner_id: int) -> dict[str, Any]:
    return {
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "partner_id": partner_id,
        "location_detail": "ED ambulance bay",
        "journey_type": "admission",
        "categories": ["handover_delay"],
        "delay_minutes": 40,
        "harm": "none",
        "narrative": "Waited in the corridor for a nurse to take handover. " * 12,
        "immediate_action": "Escalated to the nurse in charge.",
        "vehicle": "PTS12",
    }


def idea(reference: Reference) -> dict[str, Any]:
    """A fresh idea as the capture form sends it (about 600 bytes): what the issue measured."""
    return {
        "title": "Keep a spare pulse oximeter in each bay",
        "problem": "Staff walk to the store room for a pulse oximeter several times a shift. " * 3,
        "proposal": "One spare, labelled, in a wall pocket in each bay, checked at handover. " * 3,
        "wastes": ["motion", "waiting"],
        "aims": reference.aim_ids,
        "team_id": reference.team_id,
        "benefits": ["staff_experience"],
        "show_name": True,
        "created_at": datetime.now(UTC).isoformat(),
    }


MAKERS: dict[str, Callable[[Reference], dict[str, Any]]] = {
    "idea": idea,
    "handover": lambda reference: handover(reference.partner_id),
}


def batches(
    count: int, size: int, reference: Reference, kind: str = "idea"
) -> list[dict[str, Any]]:
    make = MAKERS[kind]
    return [
        {
            "items": [
                {"kind": kind, "id": str(uuid.uuid4()), "data": make(reference)}
                for _ in range(size)
            ]
        }
        for _ in range(count)
    ]


def records(count: int, reference: Reference) -> list[dict[str, Any]]:
    """Bodies for POST /api/v1/handovers: one note each, its id beside its fields."""
    return [{"id": str(uuid.uuid4()), **handover(reference.partner_id)} for _ in range(count)]


def all_created(response: httpx.Response) -> bool:
    return response.status_code == 200 and all(
        r["outcome"] == "created" for r in response.json()["results"]
    )


def was_created(response: httpx.Response) -> bool:
    return response.status_code == 201


async def drive(
    url: str,
    path: str,
    bodies: list[dict[str, Any]],
    connections: int,
    headers: dict[str, str],
    cookies: httpx.Cookies | None,
    accepted: Callable[[httpx.Response], bool] = all_created,
) -> tuple[float, list[float]]:
    """Post every body, `connections` at a time; (seconds for all, latency of each)."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post(path, json=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if not accepted(response):
                raise RuntimeError(f"{path}: unexpected answer {response.status_code}")

    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(
        base_url=url, timeout=120, limits=limits, cookies=cookies
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        return time.perf_counter() - started, latencies


@dataclass(frozen=True)
class Rate:
    """Records stored per second and the 99th percentile of request latency (seconds)."""

    per_second: float
    p99: float


@dataclass(frozen=True)
class Versus:
    frontline: Rate
    floor: Rate

    @property
    def rate_ratio(self) -> float:
        return self.frontline.per_second / self.floor.per_second

    @property
    def p99_ratio(self) -> float:
        return self.frontline.p99 / self.floor.p99


@dataclass(frozen=True)
class BatchFigures:
    """One batch size: Frontline against the floor."""

    size: int
    items: int
    versus: Versus


@dataclass(frozen=True)
class IngestFigures:
    kind: str
    database: str  # "SQLite" or "PostgreSQL"
    connections: int
    pinned: bool
    sync: list[BatchFigures]
    singles: int
    single_connections: int
    single: Versus | None


def pinning() -> tuple[list[str], set[int] | None]:
    """With two CPUs or more, each server runs on CPU 0 (`taskset -c 0`) and this process, the load
    generator, on the others, so the client's work does not come out of the server's core: the
    way issue 16 measured. PostgreSQL's own processes are not pinned (a shared cluster)."""
    cpus = os.cpu_count() or 1
    if cpus < 2 or not shutil.which("taskset"):
        return [], None
    return ["taskset", "-c", "0"], set(range(1, cpus))


@contextmanager
def floor_server(
    tmp: Path, database_url: str = "", prefix: list[str] | None = None
) -> Iterator[str]:
    """bench/floor_app.py under uvicorn on a fresh SQLite file (or its own table in the PostgreSQL
    database `database_url`); yields its base URL."""
    port = free_port()
    env = {**os.environ, "FLOOR_DB": str(tmp / "floor.db"), "FLOOR_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [
            *(prefix or []),
            sys.executable,
            "-m",
            "uvicorn",
            "bench.floor_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the floor server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


ROUNDS = 3


def _rates(
    targets: dict[str, tuple[str, dict[str, str], httpx.Cookies | None]],
    path: str,
    make: Callable[[int], list[dict[str, Any]]],
    count: int,
    per_body: int,
    connections: int,
    accepted: Callable[[httpx.Response], bool],
) -> Versus:
    """Each target warmed up, then `count` bodies in ROUNDS rounds taken in turn (floor, Frontline,
    floor, …) so a burst of the machine's other work falls on both; each side's best round
    counts (its rate, and the p99 of that round): on a shared machine the best round is the one
    least disturbed by others."""
    for url, headers, cookies in targets.values():
        warm = make(max(4, connections))
        asyncio.run(drive(url, path, warm, connections, headers, cookies, accepted))
    best: dict[str, Rate] = {}
    each = max(connections, count // ROUNDS)
    for _ in range(ROUNDS):
        for name, (url, headers, cookies) in targets.items():
            seconds, latencies = asyncio.run(
                drive(url, path, make(each), connections, headers, cookies, accepted)
            )
            rate = Rate(each * per_body / seconds, percentile(latencies, 0.99))
            if name not in best or rate.per_second > best[name].per_second:
                best[name] = rate
    return Versus(best["frontline"], best["floor"])


def measure(
    items: int = 20_000,
    sizes: tuple[int, ...] = (25, 100),
    connections: int = 16,
    singles: int = 2000,
    single_connections: int = 8,
    kind: str = "idea",
    database_url: str = "",
    pin: bool = True,
) -> IngestFigures:
    """Both servers on fresh databases (a temporary directory, or the throwaway PostgreSQL database
    `database_url`, its public schema dropped first); each is warmed up before it is timed, and the
    floor and Frontline take turns at each figure so the machine's mood touches both alike."""
    from bench.measures import reset_postgres

    prefix, client_cpus = pinning() if pin else ([], None)
    env = {"DATABASE_URL": database_url} if database_url else {}
    if database_url:
        reset_postgres(database_url)
    before = os.sched_getaffinity(0) if client_cpus else None
    with tempfile.TemporaryDirectory() as tmp:
        server = BenchServer(Path(tmp) / "frontline", **env)
        server.cli("migrate")
        server.cli("demo")
        server.start(prefix=prefix)
        try:
            with floor_server(Path(tmp), database_url, prefix) as floor_url:
                if client_cpus:
                    os.sched_setaffinity(0, client_cpus)
                client = server.signed_in("crew@demo.nhs.uk", "crew-demo-pass")
                me = client.get("/api/v1/me").json()
                reference = Reference.read(client.get("/api/v1/reference").json())
                headers = {"X-CSRF-Token": me["csrf_token"]}
                targets: dict[str, tuple[str, dict[str, str], httpx.Cookies | None]] = {
                    "floor": (floor_url, {}, None),
                    "frontline": (server.url, headers, client.cookies),
                }
                sync: list[BatchFigures] = []
                for size in sizes:
                    count = max(connections * ROUNDS, items // size)
                    versus = _rates(
                        targets,
                        "/api/v1/sync",
                        lambda n, size=size: batches(n, size, reference, kind),
                        count,
                        size,
                        connections,
                        all_created,
                    )
                    sync.append(BatchFigures(size, count * size, versus))
                single = None
                if singles:
                    single = _rates(
                        targets,
                        "/api/v1/handovers",
                        lambda n: records(n, reference),
                        singles,
                        1,
                        single_connections,
                        was_created,
                    )
        finally:
            if before is not None:
                os.sched_setaffinity(0, before)
            server.stop()
    return IngestFigures(
        kind=kind,
        database="PostgreSQL" if database_url else "SQLite",
        connections=connections,
        pinned=bool(prefix),
        sync=sync,
        singles=singles,
        single_connections=single_connections,
        single=single,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=20_000, help="items per batch size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 100])
    parser.add_argument("--kind", choices=sorted(MAKERS), default="idea")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--singles", type=int, default=2000, help="0: skip single records")
    parser.add_argument("--single-connections", type=int, default=8)
    parser.add_argument("--database-url", default="", help="a throwaway PostgreSQL database")
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin server and client to CPUs"
    )
    args = parser.parse_args()
    figures = measure(
        args.items,
        tuple(args.sizes),
        args.connections,
        args.singles,
        args.single_connections,
        args.kind,
        args.database_url,
        pin=not args.no_pin,
    )
    print(
        f"{figures.database}, fresh {figures.kind}s, {figures.connections} connections, one server "
        f"process each{', servers on CPU 0 and the client on the rest' if figures.pinned else ''}"
    )
    print(f"{'':48} {'items/s':>9} {'p99 ms':>8} {'rate/floor':>11} {'p99/floor':>10}")
    rows: list[tuple[str, Rate, Rate]] = []
    for batch in figures.sync:
        rows += [
            (f"floor, batches of {batch.size}", batch.versus.floor, batch.versus.floor),
            (
                f"Frontline POST /api/v1/sync, batches of {batch.size}",
                batch.versus.frontline,
                batch.versus.floor,
            ),
        ]
    if figures.single:
        rows += [
            (
                f"floor, one record a request ({figures.single_connections} conn)",
                figures.single.floor,
                figures.single.floor,
            ),
            (
                f"Frontline POST /api/v1/handovers ({figures.single_connections} conn)",
                figures.single.frontline,
                figures.single.floor,
            ),
        ]
    for name, rate, floor in rows:
        print(
            f"{name:48} {rate.per_second:9.0f} {rate.p99 * 1000:8.0f} "
            f"{rate.per_second / floor.per_second:11.2f} {rate.p99 / floor.p99:10.2f}"
        )


if __name__ == "__main__":
    main()
