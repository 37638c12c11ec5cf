"""Sync ingest at 16 connections: Frontline's POST /api/v1/sync against the floor (bench/floor_app.py,
the same stack with nothing of ours), both on SQLite WAL with synchronous=FULL, in the same run; and
single records (POST /api/v1/handovers, one note per request) against the floor's equivalent."""

from __future__ import annotations

import argparse
import asyncio
import os
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


def batches(count: int, size: int, partner_id: int) -> list[dict[str, Any]]:
    return [
        {
            "items": [
                {"kind": "handover", "id": str(uuid.uuid4()), "data": handover(partner_id)}
                for _ in range(size)
            ]
        }
        for _ in range(count)
    ]


def records(count: int, partner_id: int) -> list[dict[str, Any]]:
    """Bodies for POST /api/v1/handovers: one note each, its id beside its fields."""
    return [{"id": str(uuid.uuid4()), **handover(partner_id)} for _ in range(count)]


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
class IngestFigures:
    items: int
    size: int
    connections: int
    sync: Versus
    singles: int
    single_connections: int
    single: Versus | None


@contextmanager
def floor_server(tmp: Path) -> Iterator[str]:
    """bench/floor_app.py under uvicorn on a fresh SQLite file; yields its base URL."""
    port = free_port()
    env = {**os.environ, "FLOOR_DB": str(tmp / "floor.db")}
    process = subprocess.Popen(
        [
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


def measure(
    batch_count: int = 200,
    size: int = 100,
    connections: int = 16,
    singles: int = 2000,
    single_connections: int = 8,
) -> IngestFigures:
    """Both servers on fresh databases in a temporary directory; each is warmed up first."""
    with tempfile.TemporaryDirectory() as tmp, floor_server(Path(tmp)) as floor_url:
        server = BenchServer(Path(tmp) / "frontline")
        server.cli("migrate")
        server.cli("demo")
        server.start()
        try:
            client = server.signed_in("crew@demo.nhs.uk", "crew-demo-pass")
            me = client.get("/api/v1/me").json()
            partner_id = client.get("/api/v1/reference").json()["partners"][0]["id"]
            headers = {"X-CSRF-Token": me["csrf_token"]}
            targets = {
                "floor": (floor_url, {}, None),
                "frontline": (server.url, headers, client.cookies),
            }

            sync: dict[str, Rate] = {}
            for name, (url, hdrs, cookies) in targets.items():
                warm = batches(4, size, partner_id)
                asyncio.run(drive(url, "/api/v1/sync", warm, connections, hdrs, cookies))
                bodies = batches(batch_count, size, partner_id)
                seconds, latencies = asyncio.run(
                    drive(url, "/api/v1/sync", bodies, connections, hdrs, cookies)
                )
                sync[name] = Rate(batch_count * size / seconds, percentile(latencies, 0.99))

            single: dict[str, Rate] = {}
            path = "/api/v1/handovers"
            for name, (url, hdrs, cookies) in targets.items():
                if not singles:
                    break
                warm = records(20, partner_id)
                asyncio.run(drive(url, path, warm, single_connections, hdrs, cookies, was_created))
                bodies = records(singles, partner_id)
                seconds, latencies = asyncio.run(
                    drive(url, path, bodies, single_connections, hdrs, cookies, was_created)
                )
                single[name] = Rate(singles / seconds, percentile(latencies, 0.99))
        finally:
            server.stop()
    return IngestFigures(
        items=batch_count * size,
        size=size,
        connections=connections,
        sync=Versus(sync["frontline"], sync["floor"]),
        singles=singles,
        single_connections=single_connections,
        single=Versus(single["frontline"], single["floor"]) if single else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--singles", type=int, default=2000, help="0: skip single records")
    parser.add_argument("--single-connections", type=int, default=8)
    args = parser.parse_args()
    figures = measure(
        args.batches, args.size, args.connections, args.singles, args.single_connections
    )
    print(
        f"{figures.items:,} items in batches of {figures.size}, {figures.connections} connections, "
        "one server process each"
    )
    print(f"{'':44} {'items/s':>9} {'p99 ms':>8} {'rate/floor':>11} {'p99/floor':>10}")
    rows = [
        ("floor (FastAPI + pydantic + SQLite WAL)", figures.sync.floor, figures.sync.floor),
        ("Frontline POST /api/v1/sync", figures.sync.frontline, figures.sync.floor),
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
            f"{name:44} {rate.per_second:9.0f} {rate.p99 * 1000:8.0f} "
            f"{rate.per_second / floor.per_second:11.2f} {rate.p99 / floor.p99:10.2f}"
        )


if __name__ == "__main__":
    main()
