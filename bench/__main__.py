"""`python -m bench`: the headline figures in one run, printed as one table with the machine and
the date. Each figure that has a floor is measured against it in the same run; the ratios are what
to compare between runs (the machines are shared and noisy).

  sync ingest           POST /api/v1/sync, fresh ideas in batches of 25 and of 100 over 16
                        connections, against the floor (bench/floor_app.py: FastAPI + pydantic
                        + SQLite WAL, nothing of ours); servers on CPU 0, the client on the
                        others; with --database-url also on that PostgreSQL database
  single-record create  POST /api/v1/handovers, one note a request over 8 connections, against
                        the floor's one-record endpoint
  /triage p95           the managers' queue with 100,000 ideas, against /outbox (a signed-in page
                        with no record queries)
  first load            bytes over the wire for a new phone opening /handovers/new and /ideas/new:
                        the page and its subresources, then the service worker's install on top
                        (bench/first_visit.py); Lighthouse mobile LCP, CLS and score per form
  load test             phones and managers at once (bench/load.py), with its zero-errors verdict
  offline drain         1,000 items queued on a phone (Chromium, /outbox on screen) from reconnecting
                        to all acknowledged, against a script posting the same; and how late a
                        10 ms timer on the page fires meanwhile, its long tasks (bench/offline_drain.py)

--quick runs each part smaller (20,000 ideas, a quarter of the records, a 10 s load test) in
about a third of the time."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.machine import describe

Row = tuple[str, str, str, str]  # figure, Frontline, floor, ratio


def number(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}"


def ingest_rows(quick: bool, database_url: str = "") -> list[Row]:
    from bench.sync_ingest import measure

    figures = measure(
        items=5_000 if quick else 20_000,
        singles=500 if quick else 2000,
        database_url=database_url,
    )
    where = figures.database + (", pinned" if figures.pinned else "")
    rows: list[Row] = []
    for batch in figures.sync:
        sync = batch.versus
        rows += [
            (
                f"sync ingest, items/s ({where}; {batch.items:,} fresh {figures.kind}s, "
                f"batches of {batch.size}, {figures.connections} connections)",
                number(sync.frontline.per_second),
                number(sync.floor.per_second),
                number(sync.rate_ratio, 2),
            ),
            (
                f"  batches of {batch.size}, p99 ms",
                number(sync.frontline.p99 * 1000),
                number(sync.floor.p99 * 1000),
                number(sync.p99_ratio, 2),
            ),
        ]
    single = figures.single
    if single:
        rows += [
            (
                f"single-record create, records/s ({where}; {figures.singles:,} notes, "
                f"{figures.single_connections} connections)",
                number(single.frontline.per_second),
                number(single.floor.per_second),
                number(single.rate_ratio, 2),
            ),
            (
                "  single-record create, p99 ms",
                number(single.frontline.p99 * 1000),
                number(single.floor.p99 * 1000),
                number(single.p99_ratio, 2),
            ),
        ]
    return rows


def triage_rows(quick: bool) -> list[Row]:
    from bench.triage import measure_triage

    figures = measure_triage(ideas=20_000 if quick else 100_000, repeats=15 if quick else 40)
    every, floor = figures.everything, figures.floor
    return [
        (
            f"/triage p95 ms, {figures.ideas:,} ideas (6 views; floor /outbox)",
            number(every.p95 * 1000, 1),
            number(floor.p95 * 1000, 1),
            number(every.p95 / floor.p95, 1),
        ),
        (
            "/triage p50 ms",
            number(every.p50 * 1000, 1),
            number(floor.p50 * 1000, 1),
            number(every.p50 / floor.p50, 1),
        ),
    ]


def first_load_rows(quick: bool) -> list[Row]:
    if not Path("/usr/bin/chromium").exists():
        return [("/handovers/new first load", "not measured: no /usr/bin/chromium", "", "")]
    from bench.first_visit import measure_first_visits

    visits = measure_first_visits()
    rows: list[Row] = []
    for path, visit in visits.loads.items():
        rows += [
            (
                f"{path} first load, KB (page and subresources; goal ≤ 100)",
                number(visit.page / 1000, 1),
                "—",
                "—",
            ),
            (
                "  the service worker's install on top, KB (goal ≤ 60)",
                number((visit.total - visit.page) / 1000, 1),
                "—",
                "—",
            ),
        ]
    for audit in visits.audits:
        if not audit.ran:
            rows.append((f"{audit.path} Lighthouse mobile", f"not run: {audit.error}", "", ""))
            continue
        rows += [
            (
                f"{audit.path} Lighthouse mobile LCP ms (goal ≤ 1,500)",
                number(audit.lcp_ms or 0),
                "—",
                "—",
            ),
            ("  CLS (goal < 0.1)", number(audit.cls or 0, 3), "—", "—"),
            ("  performance score", str(audit.score), "—", "—"),
        ]
    return rows


def drain_rows(quick: bool) -> list[Row]:
    if not Path("/usr/bin/chromium").exists():
        return [("offline drain", "not measured: no /usr/bin/chromium", "", "")]
    from bench.offline_drain import measure_drain

    drain = measure_drain(count=1000, rounds=1 if quick else 3)
    return [
        (
            f"offline drain, s: {drain.items:,} queued items to all acknowledged "
            f"(floor: a script; median of {drain.rounds})",
            number(drain.frontline, 2),
            number(drain.floor, 2),
            number(drain.ratio, 2),
        ),
        (
            "  the page meanwhile: a 10 ms timer late by, ms (max / p95)",
            f"{drain.longest_lag_ms:.0f} / {drain.p95_lag_ms:.0f}",
            "",
            "",
        ),
        (
            "  the page meanwhile: long tasks (count / longest ms)",
            f"{drain.long_tasks} / {drain.longest_task_ms:.0f}",
            "",
            "",
        ),
        (
            "  queued ids the server holds, each once",
            f"{drain.stored:,} of {drain.items * drain.rounds:,}",
            "",
            "",
        ),
    ]


def p95_ms(values: list[float]) -> str:
    from bench.server import percentile

    return number(percentile(values, 0.95) * 1000) if values else "—"


def load_rows(seconds: float, quick: bool) -> tuple[list[Row], list[str]]:
    from bench.load import LoadConfig, load_run

    config = LoadConfig(seconds=seconds)
    ideas = notes = 0 if quick else 10_000
    report = load_run(config, ideas=ideas, notes=notes)
    latencies = report.recorder.latencies
    sync = [x for kind, times in latencies.items() if kind.startswith("sync") for x in times]
    pages = [
        x
        for kind, times in latencies.items()
        if kind.startswith(("/triage", "/handovers", "/measures"))
        for x in times
    ]
    rows: list[Row] = [
        (
            f"load test, requests/s ({config.phones} phones, {config.managers} managers, "
            f"{seconds:.0f} s, {report.backend})",
            number(report.timed_requests / report.seconds, 1),
            "",
            "",
        ),
        ("  sync p95 ms", p95_ms(sync), "", ""),
        ("  managers' pages p95 ms", p95_ms(pages), "", ""),
        ("  items stored, each exactly once", f"{sum(report.items.values()):,}", "", ""),
        ("  errors", str(len(report.errors)), "", ""),
    ]
    return rows, report.errors


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a shorter run (see above)")
    parser.add_argument(
        "--load-seconds",
        type=float,
        default=None,
        help="length of the load test (default 30, or 10 with --quick; 0 skips it)",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="also measure sync ingest and single records on this throwaway PostgreSQL "
        "database (its public schema is dropped), floor and Frontline alike",
    )
    args = parser.parse_args()
    load_seconds = (
        args.load_seconds if args.load_seconds is not None else (10 if args.quick else 30)
    )
    header = describe()
    started = time.monotonic()
    rows: list[Row] = []
    failures: list[str] = []

    def part(name: str, measure: Callable[[], Any]) -> Any:
        print(f"… {name}", file=sys.stderr, flush=True)
        try:
            return measure()
        except Exception:  # one part failing must not hide the figures of the others
            failures.append(f"{name} failed:\n{traceback.format_exc()}")
            rows.append((name, "FAILED (see below)", "", ""))
            return None

    for name, measure in (
        ("sync ingest and single records", lambda: ingest_rows(args.quick)),
        *(
            [
                (
                    "sync ingest and single records on PostgreSQL",
                    lambda: ingest_rows(args.quick, args.database_url),
                )
            ]
            if args.database_url
            else []
        ),
        ("/triage", lambda: triage_rows(args.quick)),
        ("first load", lambda: first_load_rows(args.quick)),
        ("offline drain", lambda: drain_rows(args.quick)),
    ):
        result = part(name, measure)
        if result:
            rows += result
    if load_seconds:
        result = part("load test", lambda: load_rows(load_seconds, args.quick))
        if result:
            load, errors = result
            rows += load
            failures += [f"load test: {e}" for e in errors[:30]]

    minutes = (time.monotonic() - started) / 60
    print(f"Frontline benchmarks: python -m bench{' --quick' if args.quick else ''}")
    for line in header:
        print(line)
    print(f"took {minutes:.1f} min; ratio = Frontline ÷ floor, measured in the same run")
    print()
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':{width}}  {'Frontline':>10}  {'floor':>10}  {'ratio':>6}")
    for figure, ours, floor, ratio in rows:
        print(f"{figure:{width}}  {ours:>10}  {floor:>10}  {ratio:>6}")
    for failure in failures:
        print(failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
