"""Sync ingest at 16 connections: Frontline's POST /api/v1/sync against the floor (bench/floor_app.py,
the same stack with nothing of ours), both on SQLite WAL with synchronous=FULL, in the same run."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
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


async def drive(
    url: str,
    bodies: list[dict[str, Any]],
    connections: int,
    headers: dict[str, str],
    cookies: httpx.Cookies | None,
) -> tuple[float, list[float]]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post("/api/v1/sync", json=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or any(
                r["outcome"] != "created" for r in response.json()["results"]
            ):
                raise RuntimeError(f"unexpected answer {response.status_code}")

    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(
        base_url=url, timeout=120, limits=limits, cookies=cookies
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    items = args.batches * args.size
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {**os.environ, "FLOOR_DB": str(Path(tmp) / "floor.db")}
        floor = subprocess.Popen(
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
        server = BenchServer(Path(tmp) / "frontline")
        server.cli("migrate")
        server.cli("demo")
        server.start()
        try:
            for _ in range(100):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            client = server.signed_in("crew@demo.nhs.uk", "crew-demo-pass")
            me = client.get("/api/v1/me").json()
            partner_id = client.get("/api/v1/reference").json()["partners"][0]["id"]
            headers = {"X-CSRF-Token": me["csrf_token"]}
            rows = []
            for name, url, hdrs, cookies in (
                ("floor (FastAPI + pydantic + SQLite WAL)", f"http://127.0.0.1:{port}", {}, None),
                ("Frontline POST /api/v1/sync", server.url, headers, client.cookies),
            ):
                asyncio.run(
                    drive(url, batches(4, args.size, partner_id), args.connections, hdrs, cookies)
                )
                seconds, latencies = asyncio.run(
                    drive(
                        url,
                        batches(args.batches, args.size, partner_id),
                        args.connections,
                        hdrs,
                        cookies,
                    )
                )
                rows.append((name, items / seconds, percentile(latencies, 0.99)))
            floor_rate, floor_p99 = rows[0][1], rows[0][2]
            print(
                f"{items:,} items in batches of {args.size}, {args.connections} connections, one server process each"
            )
            print(f"{'':44} {'items/s':>9} {'p99 ms':>8} {'rate/floor':>11} {'p99/floor':>10}")
            for name, rate, p99 in rows:
                print(
                    f"{name:44} {rate:9.0f} {p99 * 1000:8.0f} {rate / floor_rate:11.2f} {p99 / floor_p99:10.2f}"
                )
        finally:
            server.stop()
            floor.terminate()
            floor.wait(timeout=15)


if __name__ == "__main__":
    main()
