"""p50/p95 of each view of the managers' /triage page with 100,000 ideas, against /outbox (a
signed-in page with no record queries) as the floor. SQLite by default; `--database-url
postgresql+psycopg://…` runs it on that (throwaway: its public schema is dropped first) PostgreSQL
database. `python -m bench` reports the six views of QUERIES; `--all-views` adds EXTRA_QUERIES (each
menu on its own, a combination, a next page, an htmx swap of the results)."""

from __future__ import annotations

import argparse
import os
import random
import re
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.server import BenchServer, app_engine, percentile

DOMAIN = [
    "trolley",
    "discharge",
    "pharmacy",
    "rota",
    "handover",
    "bay",
    "corridor",
    "keys",
    "paperwork",
    "bariatric",
    "oxygen",
    "wheelchair",
    "transport",
    "booking",
    "ward",
    "nurse",
    "clinic",
    "delay",
    "waiting",
    "form",
    "checklist",
]


def vocabulary(rng: random.Random, size: int = 4000) -> tuple[list[str], list[float]]:
    """Words with Zipf-like frequencies (as in real text), the domain words among the common ones."""
    syllables = [
        "ca",
        "te",
        "ri",
        "no",
        "mal",
        "sto",
        "pen",
        "dur",
        "vi",
        "lo",
        "gra",
        "shi",
        "ter",
        "ba",
    ]
    made = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(size * 2)}
    words = DOMAIN + sorted(made)[: size - len(DOMAIN)]
    rng.shuffle(words)
    return words, [1 / (rank + 1) for rank in range(len(words))]


def seed_ideas(data_dir: Path, count: int) -> float:
    """Insert `count` ideas straight into the database (Core, batches of 5,000); seconds taken."""
    from sqlalchemy import insert, select

    from schemas.accounts import Aim, Team, User
    from schemas.ideas import Idea, IdeaAim, IdeaWaste

    engine = app_engine(data_dir)
    rng = random.Random(42)
    with engine.begin() as connection:
        teams = list(connection.execute(select(Team.id)).scalars())
        aims = list(connection.execute(select(Aim.id)).scalars())
        users = list(connection.execute(select(User.id)).scalars())
    words, weights = vocabulary(rng)

    def text(k: int) -> str:
        return " ".join(rng.choices(words, weights=weights, k=k))

    statuses = (
        ["submitted"] * 5
        + ["under_review"] * 2
        + ["accepted", "testing", "implemented", "declined"]
    )
    started = time.perf_counter()
    now = datetime.now(UTC)
    for start in range(0, count, 5000):
        ideas, links, wastes = [], [], []
        for _ in range(min(5000, count - start)):
            record_id = uuid.uuid4()
            received = now - timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
            title = text(5).capitalize()
            idea_aims = rng.sample(aims, k=rng.randint(1, 2))
            status = rng.choice(statuses)
            rated = status != "submitted" and rng.random() < 0.7  # managers rate what they review
            ideas.append(
                {
                    "id": record_id,
                    "title": title,
                    "problem": text(40),
                    "proposal": text(40),
                    "wastes": ["waiting"],
                    "aims": idea_aims,
                    "benefits": [],
                    "team_id": rng.choice(teams),
                    "show_name": rng.random() > 0.2,
                    "status": status,
                    "submitted_by": rng.choice(users),
                    "version": 1,
                    "content_hash": "0" * 64,
                    "created_at": received,
                    "received_at": received,
                    "updated_at": received,
                    "impact": (rated and rng.randint(1, 3)) or None,
                    "effort": (rated and rng.randint(1, 3)) or None,
                }
            )
            links += [{"idea_id": record_id, "aim_id": a} for a in idea_aims]
            wastes.append({"idea_id": record_id, "waste": "waiting"})
        with engine.begin() as connection:
            connection.execute(insert(Idea), ideas)
            connection.execute(insert(IdeaAim), links)
            connection.execute(insert(IdeaWaste), wastes)
    return time.perf_counter() - started


QUERIES = [
    "/triage",
    "/triage?status=submitted",
    "/triage?flag=needs_first_response",
    "/triage?q=trolley+pharmacy",
    "/triage?aim=2&sort=oldest",
    "/triage?view=matrix",
]

# Every other view a manager reaches from the desk's menus and links. "NEXT" is the default
# view's second page (its cursor read from the first); "HTMX" the default view swapped in place.
EXTRA_QUERIES = [
    "/triage?include_closed=1",
    "/triage?flag=stalled",
    "/triage?team_id=1",
    "/triage?waste=waiting",
    "/triage?owner_id=3",
    "/triage?sort=updated",
    "/triage?q=trolley",
    "/triage?team_id=2&aim=3",
    "NEXT",
    "HTMX",
]
HTMX_HEADERS = {"HX-Request": "true", "HX-Target": "queue"}


def measure(client, path: str, repeats: int, headers: dict[str, str] | None = None) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code}")
    return times


@dataclass(frozen=True)
class Timing:
    path: str
    p50: float
    p95: float


@dataclass(frozen=True)
class TriageFigures:
    ideas: int
    seed_seconds: float
    floor: Timing
    pages: list[Timing]
    everything: Timing  # all /triage requests of QUERIES together
    database: str = "SQLite"
    every_view: Timing | None = None  # with EXTRA_QUERIES too, when measured


def timing(path: str, times: list[float]) -> Timing:
    return Timing(path, percentile(times, 0.5), percentile(times, 0.95))


def vacuum_analyze(url: str) -> None:
    """What autovacuum does to a database that has lived a while: without it the views were timed
    while it woke up part-way through a run (index-only scans visit the rows until it has marked
    the pages all-visible, and the planner has no statistics for 100,000 fresh rows)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE idea, idea_aim, idea_waste"))
    engine.dispose()


def next_page(client) -> str:  # type: ignore[no-untyped-def]
    """The default view's "Next page" link, as the page gives it."""
    found = re.search(r'href="(/triage\?[^"]*cursor=[^"]+)"', client.get("/triage").text)
    if not found:
        raise RuntimeError("/triage has no next page")
    return found.group(1).replace("&amp;", "&")


def measure_triage(
    ideas: int = 100_000, repeats: int = 40, database_url: str = "", all_views: bool = False
) -> TriageFigures:
    """A fresh database (a temporary SQLite file, or `database_url` emptied) with `ideas` ideas,
    then each page `repeats` times."""
    env = {"DATABASE_URL": database_url} if database_url else {}
    if database_url:
        from bench.measures import reset_postgres  # bench.measures imports this module

        reset_postgres(database_url)
        os.environ["DATABASE_URL"] = database_url
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        server = BenchServer(data_dir, **env)
        server.cli("migrate")
        server.cli("demo")
        seconds = seed_ideas(data_dir, ideas)
        if database_url:
            vacuum_analyze(database_url)
        server.start()
        try:
            client = server.signed_in("manager@demo.nhs.uk", "manager-demo-pass")
            measure(client, "/outbox", 5)
            floor = timing("/outbox (floor)", measure(client, "/outbox", repeats * 2))
            pages: list[Timing] = []
            all_times: list[float] = []
            extra_times: list[float] = []
            for path in QUERIES + (EXTRA_QUERIES if all_views else []):
                headers = HTMX_HEADERS if path == "HTMX" else None
                url = next_page(client) if path == "NEXT" else path
                url = "/triage" if path == "HTMX" else url
                measure(client, url, 3, headers)
                times = measure(client, url, repeats, headers)
                (all_times if path in QUERIES else extra_times).extend(times)
                label = {"NEXT": "/triage, next page (cursor)", "HTMX": "/triage, htmx swap"}
                pages.append(timing(label.get(path, path), times))
        finally:
            server.stop()
    return TriageFigures(
        ideas,
        seconds,
        floor,
        pages,
        timing("all /triage requests", all_times),
        "PostgreSQL" if database_url else "SQLite",
        timing("all views", all_times + extra_times) if all_views else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--database-url", default="", help="a throwaway PostgreSQL database")
    parser.add_argument("--all-views", action="store_true", help="every view, not only the six")
    args = parser.parse_args()
    figures = measure_triage(args.ideas, args.repeats, args.database_url, args.all_views)
    print(f"database: {figures.database}")
    print(f"seeded {figures.ideas:,} ideas in {figures.seed_seconds:.1f} s")
    print(f"{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'p95 / floor':>12}")
    rows = [figures.floor, *figures.pages, figures.everything]
    for row in rows + ([figures.every_view] if figures.every_view else []):
        print(
            f"{row.path:40} {row.p50 * 1000:8.1f} {row.p95 * 1000:8.1f} "
            f"{row.p95 / figures.floor.p95:12.1f}"
        )


if __name__ == "__main__":
    main()
