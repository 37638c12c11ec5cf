"""Render time of /measures, of a partner's review pack and of a measure's JSON over three years of
weekly data and 100,000 handover notes, against /outbox (a signed-in page with no record queries)
as the floor. SQLite by default; `--database-url postgresql+psycopg://…` runs it on that (throwaway:
its public schema is dropped first) PostgreSQL database. Targets (issue #13): /measures p95 ≤ 150 ms,
a pack ≤ 150 ms, a measure's JSON ≤ 50 ms."""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.server import BenchServer, app_engine, percentile
from bench.triage import measure

CATEGORIES = [
    "handover_delay",
    "patient_not_ready",
    "missing_paperwork",
    "medication_issue",
    "wrong_or_missing_address",
    "access_or_parking",
    "communication_breakdown",
    "other",
]


def reset_postgres(url: str) -> None:
    """An empty public schema, so `migrate` builds the whole database afresh."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def seed_notes(data_dir: Path, count: int, years: int = 3) -> tuple[float, int]:
    """`count` notes spread over `years`, Core inserts in batches of 5,000; (seconds, a partner id)."""
    from sqlalchemy import insert, select

    from schemas.accounts import Partner, User
    from schemas.handovers import Handover, HandoverCategory

    engine = app_engine(data_dir)
    rng = random.Random(7)
    with engine.begin() as connection:
        partners = list(connection.execute(select(Partner.id)).scalars())
        users = list(connection.execute(select(User.id)).scalars())
    span = years * 365 * 24 * 60
    now = datetime.now(UTC)
    started = time.perf_counter()
    for start in range(0, count, 5000):
        notes, links = [], []
        for _ in range(min(5000, count - start)):
            record_id = uuid.uuid4()
            occurred = now - timedelta(minutes=rng.randrange(60, span))
            categories = rng.sample(CATEGORIES, k=rng.randint(1, 2))
            notes.append(
                {
                    "id": record_id,
                    "occurred_at": occurred,
                    "partner_id": rng.choice(partners),
                    "location_detail": "ED bay",
                    "journey_type": "admission",
                    "note_type": rng.choice(["concern"] * 9 + ["good_practice"]),
                    "categories": categories,
                    "delay_minutes": rng.choice([None, rng.randint(0, 180)]),
                    "harm": rng.choice(["none"] * 20 + ["low", "moderate"]),
                    "narrative": "Waited for a nurse to take handover in the corridor.",
                    "immediate_action": "",
                    "vehicle": "",
                    "status": rng.choice(["new", "reviewed", "resolved"]),
                    "reported_by": rng.choice(users),
                    "review_note": "",
                    "partner_response": "",
                    "version": 1,
                    "content_hash": "0" * 64,
                    "created_at": occurred,
                    "received_at": occurred,
                    "updated_at": occurred,
                }
            )
            links += [{"handover_id": record_id, "category": c} for c in categories]
        with engine.begin() as connection:
            connection.execute(insert(Handover), notes)
            connection.execute(insert(HandoverCategory), links)
    return time.perf_counter() - started, partners[0]


def settle_postgres(url: str) -> None:
    """After the bulk seeding, what a trust's database looks like a minute later: the summary
    deltas the notes' triggers appended folded in (migration 0016; timed, and printed, since the
    first chart after such a load pays it) and autovacuum's pass done, so the requests measured
    are a steady state's. The code before migration 0016 has nothing to fold."""
    from sqlalchemy import create_engine, text

    try:
        from api.measures.summary import fold
    except ImportError:
        fold = None
    engine = create_engine(url)
    if fold is not None:
        started = time.perf_counter()
        with engine.begin() as connection:
            fold(connection)
        print(f"folded the seeding's summary deltas in {time.perf_counter() - started:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--database-url", default="", help="a throwaway PostgreSQL database")
    args = parser.parse_args()
    env = {"DATABASE_URL": args.database_url} if args.database_url else {}
    if args.database_url:
        reset_postgres(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}")
    with tempfile.TemporaryDirectory() as tmp:
        server = BenchServer(Path(tmp), **env)
        server.cli("migrate")
        server.cli("demo")
        seconds, partner = seed_notes(Path(tmp), args.notes)
        print(f"seeded {args.notes:,} handover notes over three years in {seconds:.1f} s")
        if args.database_url:
            settle_postgres(args.database_url)
        server.start()
        try:
            client = server.signed_in("manager@demo.nhs.uk", "manager-demo-pass")
            three_years = (datetime.now(UTC) - timedelta(days=3 * 365)).date().isoformat()
            pages = [
                "/measures",
                f"/measures?from={three_years}",
                f"/partners/{partner}",
                f"/partners/{partner}?from={three_years}",
                "/api/v1/measures/handovers-per-week",
                f"/api/v1/measures/delay-minutes-per-week?from={three_years}&partner_id={partner}",
                f"/api/v1/measures/ideas-waiting-per-week?from={three_years}",
            ]
            measure(client, "/outbox", 5)
            floor = measure(client, "/outbox", args.repeats * 2)
            floor_p95 = percentile(floor, 0.95)
            print(f"{'request':58} {'p50 ms':>8} {'p95 ms':>8} {'p95 / floor':>12}")
            print(
                f"{'/outbox (floor)':58} {percentile(floor, 0.5) * 1000:8.1f} {floor_p95 * 1000:8.1f} {1.0:12.1f}"
            )
            for path in pages:
                measure(client, path, 2)
                times = measure(client, path, args.repeats)
                p95 = percentile(times, 0.95)
                print(
                    f"{path:58} {percentile(times, 0.5) * 1000:8.1f} {p95 * 1000:8.1f} {p95 / floor_p95:12.1f}"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
