"""A bounded load test against a real server: many phones sending their outboxes and managers
working the queue at once, then a check that every item was stored exactly once.

Phones: each a signed-in reporter of its own. After a random spell without signal it sends what it
queued, one to three batches of 1–20 items (mostly handover notes, some ideas, now and then an item
a server must refuse), the way the outbox drains when a signal returns. Some batches are sent again
after a pause (the answer was lost, so the phone retries the same batch) and some twice at once (a
timeout fired while the first was still in flight). Managers: each a signed-in manager paging
/triage with filters, opening ideas, /handovers and notes, now and then /measures.

An error is any 5xx, any connection error or timeout, any other status than the one a valid
request earns, any item answered wrongly (a valid one not acknowledged, a refused one not refused,
"created" more than once), and at the end any item not stored exactly once with its links, or any
row more or fewer in the tables than the run sent. Exits 1 on any error.

Run: python -m bench.load [--seconds 60] (SQLite in a temporary directory). With DATABASE_URL set
it runs on that database (PostgreSQL), migrating it and seeding the demo trust if need be: a
throwaway database only, since it gains demo and load-test accounts with known passwords."""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import random
import re
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, func, insert, select
from sqlalchemy.engine import make_url

from bench.server import BenchServer, percentile
from schemas.accounts import Team, User
from schemas.enums import Benefit, Category, Role, Waste
from schemas.handovers import Handover, HandoverCategory
from schemas.ideas import Idea, IdeaAim, IdeaWaste

LOAD_DOMAIN = "load.nhs.uk"
PASSWORD = "load-test-password"  # noqa: S105 - made-up accounts on a throwaway or test database
# The product's own limit (FRONTLINE_SYNC_MAX_REQUESTS_PER_MINUTE's default): each phone is its own
# user and sends far fewer than this, so the real setting stays on and a 429 is an error.
DEFAULT_RATE_LIMIT = 120

SETUP = ("sign-in page", "sign-in", "me")
WORDS = [
    "trolley",
    "discharge",
    "pharmacy",
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
    "crew",
    "stretcher",
    "lift",
    "ramp",
    "door",
    "reception",
    "patient",
    "relative",
    "carer",
    "porter",
    "bed",
    "blanket",
    "chair",
    "notes",
    "letter",
    "medicine",
    "dressing",
    "escort",
    "driver",
    "vehicle",
    "radio",
    "map",
    "address",
    "gate",
    "code",
    "parking",
    "queue",
    "shift",
    "morning",
    "evening",
    "night",
    "weekend",
]


@dataclass(frozen=True)
class LoadConfig:
    seconds: float = 60
    phones: int = 80
    managers: int = 8
    # A phone waits this long (uniformly between) without signal before it sends its queue.
    min_gap: float = 3.0
    max_gap: float = 12.0
    retry_share: float = 0.1  # batches whose answer is "lost" and sent again after a pause
    double_share: float = 0.05  # batches sent twice at once
    invalid_share: float = 0.02  # items the server must refuse
    seed: int = 1


@dataclass
class Sent:
    """One item as the phones sent it, and what the server answered about it."""

    kind: str
    valid: bool
    links: int  # categories of a note; aims and wastes of an idea
    text: str  # the note's narrative or the idea's title, to match with the stored row
    created: int = 0
    acknowledged: int = 0


@dataclass
class Recorder:
    latencies: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    errors: list[str] = field(default_factory=list)
    sent: dict[str, Sent] = field(default_factory=dict)

    def error(self, message: str) -> None:
        self.errors.append(message)

    async def request(
        self,
        client: httpx.AsyncClient,
        kind: str,
        method: str,
        url: str,
        expect: int,
        **kwargs: Any,
    ) -> httpx.Response | None:
        """The answer if it has the expected status; otherwise None, with the error recorded."""
        started = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.latencies[kind].append(time.perf_counter() - started)
            self.statuses[kind][type(exc).__name__] += 1
            self.error(f"{kind} {method} {url}: {type(exc).__name__} {exc}")
            return None
        self.latencies[kind].append(time.perf_counter() - started)
        self.statuses[kind][str(response.status_code)] += 1
        if response.status_code != expect:
            self.error(
                f"{kind} {method} {url}: {response.status_code} (expected {expect}) "
                f"{response.text[:200]!r}"
            )
            return None
        return response

    def judge(self, kind: str, items: list[dict[str, Any]], response: httpx.Response) -> None:
        """Each item's outcome against what it deserves."""
        results = response.json()["results"]
        if [r["id"] for r in results] != [i["id"] for i in items]:
            self.error(f"{kind}: the answers do not match the items sent, in order")
            return
        for result in results:
            sent = self.sent[result["id"]]
            outcome = result["outcome"]
            if sent.valid and outcome in ("created", "duplicate"):
                sent.acknowledged += 1
                sent.created += outcome == "created"
            elif not sent.valid and outcome == "rejected" and result["errors"]:
                pass
            else:
                self.error(
                    f"{kind}: {sent.kind} {result['id']} ({'valid' if sent.valid else 'invalid'}) "
                    f"answered {outcome} {result['errors']}"
                )


@dataclass(frozen=True)
class Reference:
    partners: list[int]
    teams: list[int]
    aims: list[int]


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def make_item(rng: random.Random, reference: Reference, *, valid: bool) -> dict[str, Any]:
    now = datetime.now(UTC)
    if rng.random() < 0.7:
        note = {
            "occurred_at": (now - timedelta(minutes=rng.randint(5, 600))).isoformat(),
            "partner_id": rng.choice(reference.partners),
            "location_detail": words(rng, 1, 4),
            "journey_type": rng.choice(["admission", "discharge", "transfer", "outpatient"]),
            "categories": rng.sample([c.value for c in Category], k=rng.randint(1, 3)),
            "delay_minutes": rng.choice([None, rng.randint(0, 180)]),
            "harm": rng.choice(["none"] * 8 + ["low", "moderate"]),
            "narrative": words(rng, 10, 80).capitalize() + ".",
            "immediate_action": words(rng, 0, 12),
            "vehicle": f"PTS{rng.randint(1, 40)}",
            "created_at": now.isoformat(),
        }
        if not valid:
            note["delay_minutes"] = 5000  # over a day: refused with a field error
        return {"kind": "handover", "id": str(uuid.uuid4()), "data": note}
    idea = {
        "title": words(rng, 3, 8).capitalize(),
        "problem": words(rng, 10, 60),
        "proposal": words(rng, 10, 60),
        "wastes": rng.sample([w.value for w in Waste], k=rng.randint(0, 2)),
        "aims": rng.sample(reference.aims, k=rng.randint(1, 2)),
        "team_id": rng.choice(reference.teams),
        "benefits": rng.sample([b.value for b in Benefit], k=rng.randint(0, 2)),
        "show_name": rng.random() > 0.2,
        "created_at": now.isoformat(),
    }
    if not valid:
        idea["title"] = "No"  # under three characters: refused with a field error
    return {"kind": "idea", "id": str(uuid.uuid4()), "data": idea}


def remember(recorder: Recorder, item: dict[str, Any], *, valid: bool) -> None:
    data = item["data"]
    if item["kind"] == "handover":
        sent = Sent("handover", valid, len(data["categories"]), data["narrative"])
    else:
        sent = Sent("idea", valid, len(data["aims"]) + len(data["wastes"]), data["title"])
    recorder.sent[item["id"]] = sent


async def sign_in(client: httpx.AsyncClient, recorder: Recorder, email: str) -> str | None:
    """Signs in like a browser; the CSRF token for API calls, or None."""
    page = await recorder.request(client, "sign-in page", "GET", "/login", 200)
    if page is None:
        return None
    token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    form = {"email": email, "password": PASSWORD, "csrf_token": token}
    if await recorder.request(client, "sign-in", "POST", "/login", 303, data=form) is None:
        return None
    me = await recorder.request(client, "me", "GET", "/api/v1/me", 200)
    return None if me is None else str(me.json()["csrf_token"])


async def pause(seconds: float, deadline: float) -> bool:
    """Sleep, but not past the deadline; False when the time is up."""
    await asyncio.sleep(max(0.0, min(seconds, deadline - time.monotonic())))
    return time.monotonic() < deadline


async def phone(
    client: httpx.AsyncClient,
    csrf: str,
    recorder: Recorder,
    config: LoadConfig,
    deadline: float,
    rng: random.Random,
    number: int,
) -> None:
    answer = await recorder.request(client, "reference", "GET", "/api/v1/reference", 200)
    if answer is None:
        return
    data = answer.json()
    reference = Reference(
        partners=[p["id"] for p in data["partners"]],
        teams=[t["id"] for t in data["teams"]],
        aims=[a["id"] for a in data["aims"]],
    )
    headers = {"X-CSRF-Token": csrf}
    first = True
    while True:
        if not await pause(rng.uniform(config.min_gap, config.max_gap), deadline):
            return
        for _ in range(rng.randint(1, 3)):
            items = []
            for index in range(rng.randint(1, 20)):
                # The first batches of phones 0–2 make sure every path runs in even a short run.
                valid = rng.random() >= config.invalid_share and not (
                    first and number == 2 and index == 0
                )
                items.append(make_item(rng, reference, valid=valid))
                remember(recorder, items[-1], valid=valid)
            body = {"items": items}
            double = rng.random() < config.double_share or (first and number == 1)
            retry = rng.random() < config.retry_share or (first and number == 0)
            first = False
            if double:
                kind = "sync, sent twice at once"
                answers = await asyncio.gather(
                    recorder.request(
                        client, kind, "POST", "/api/v1/sync", 200, json=body, headers=headers
                    ),
                    recorder.request(
                        client, kind, "POST", "/api/v1/sync", 200, json=body, headers=headers
                    ),
                )
            else:
                kind = "sync"
                answers = [
                    await recorder.request(
                        client, kind, "POST", "/api/v1/sync", 200, json=body, headers=headers
                    )
                ]
            for response in answers:
                if response is not None:
                    recorder.judge(kind, items, response)
            if retry:
                await asyncio.sleep(rng.uniform(0.2, 2.0))
                kind = "sync, retry after a lost answer"
                response = await recorder.request(
                    client, kind, "POST", "/api/v1/sync", 200, json=body, headers=headers
                )
                if response is not None:
                    recorder.judge(kind, items, response)


IDEA_LINK = re.compile(r'href="/triage/ideas/([0-9a-f-]{36})"')
NOTE_LINK = re.compile(r'href="/handovers/([0-9a-f-]{36})"')
NEXT_TRIAGE = re.compile(r'href="(/triage\?[^"]*cursor=[^"]*)"')
NEXT_NOTES = re.compile(r'href="(/handovers\?[^"]*cursor=[^"]*)"')


def triage_filter(rng: random.Random) -> str:
    return rng.choice(
        [
            "",
            "?status=submitted",
            "?status=under_review",
            "?flag=needs_first_response",
            f"?q={rng.choice(WORDS)}",
            f"?q={rng.choice(WORDS)}+{rng.choice(WORDS)}",
            f"?aim={rng.randint(1, 5)}&sort=oldest",
            f"?team_id={rng.randint(1, 5)}",
            "?sort=updated",
            "?view=matrix",
        ]
    )


def handover_filter(rng: random.Random) -> str:
    return rng.choice(
        [
            "",
            "?status=new",
            f"?partner_id={rng.randint(1, 7)}",
            f"?category={rng.choice(list(Category)).value}",
            "?harm=moderate",
            f"?q={rng.choice(WORDS)}",
        ]
    )


async def manager(
    client: httpx.AsyncClient, recorder: Recorder, deadline: float, rng: random.Random
) -> None:
    ideas: list[str] = []
    notes: list[str] = []
    next_triage: str | None = None
    next_notes: str | None = None
    while await pause(rng.uniform(0.3, 2.0), deadline):
        roll = rng.random()
        if roll < 0.45 or (roll < 0.65 and not ideas):
            if 0.35 <= roll < 0.45 and next_triage:
                kind, url = "/triage", next_triage
            else:
                kind, url = "/triage", "/triage" + triage_filter(rng)
        elif roll < 0.65:
            kind, url = "/triage/ideas/{id}", f"/triage/ideas/{rng.choice(ideas)}"
        elif roll < 0.95:
            if 0.8 <= roll < 0.83 and next_notes:
                kind, url = "/handovers", next_notes
            elif roll >= 0.83 and notes:
                kind, url = "/handovers/{id}", f"/handovers/{rng.choice(notes)}"
            else:
                kind, url = "/handovers", "/handovers" + handover_filter(rng)
        else:
            kind, url = "/measures", "/measures"
        response = await recorder.request(client, kind, "GET", url, 200)
        if response is None:
            continue
        if kind == "/triage":
            ideas = IDEA_LINK.findall(response.text) or ideas
            found = NEXT_TRIAGE.search(response.text)
            next_triage = html.unescape(found.group(1)) if found else None
        elif kind == "/handovers":
            notes = NOTE_LINK.findall(response.text) or notes
            found = NEXT_NOTES.search(response.text)
            next_notes = html.unescape(found.group(1)) if found else None


def engine_for(database_url: str) -> Engine:
    if make_url(database_url).get_backend_name() == "sqlite":
        return create_engine(database_url, connect_args={"timeout": 30})
    return create_engine(database_url)


def ensure_users(database_url: str, phones: int, managers: int) -> tuple[list[str], list[str]]:
    """Reporters and managers for the run, made straight in the database with one password hash
    (argon2 is slow on purpose); those already there are kept. (phone emails, manager emails)"""
    from api.security.passwords import hash_password

    phone_emails = [f"phone-{n:03d}@{LOAD_DOMAIN}" for n in range(phones)]
    manager_emails = [f"manager-{n:02d}@{LOAD_DOMAIN}" for n in range(managers)]
    engine = engine_for(database_url)
    try:
        with engine.begin() as connection:
            teams = list(connection.execute(select(Team.id).order_by(Team.id)).scalars())  # type: ignore[arg-type]
            if not teams:
                raise RuntimeError("no teams: seed the demo trust first (frontline demo)")
            existing = set(
                connection.execute(
                    select(User.email).where(User.email.like(f"%@{LOAD_DOMAIN}"))  # type: ignore[attr-defined]
                ).scalars()
            )
            wanted = [(e, Role.reporter) for e in phone_emails] + [
                (e, Role.manager) for e in manager_emails
            ]
            missing = [(e, role) for e, role in wanted if e not in existing]
            if missing:
                digest = hash_password(PASSWORD)
                connection.execute(
                    insert(User),
                    [
                        {
                            "email": email,
                            "name": f"Load {email.split('@')[0]}",
                            "password_hash": digest,
                            "role": role.value,
                            "team_id": teams[n % len(teams)],
                            "active": True,
                            "created_at": datetime.now(UTC),
                        }
                        for n, (email, role) in enumerate(missing)
                    ],
                )
    finally:
        engine.dispose()
    return phone_emails, manager_emails


def table_counts(database_url: str) -> dict[str, int]:
    engine = engine_for(database_url)
    try:
        with engine.connect() as connection:
            return {
                "handover": connection.execute(
                    select(func.count()).select_from(Handover)
                ).scalar_one(),
                "idea": connection.execute(select(func.count()).select_from(Idea)).scalar_one(),
            }
    finally:
        engine.dispose()


def check_stored(database_url: str, sent: dict[str, Sent], before: dict[str, int]) -> list[str]:
    """Every valid item stored once, as sent, with its links; no refused item stored; nothing more."""
    problems: list[str] = []
    for item_id, item in sent.items():
        if item.valid and item.created != 1:
            problems.append(f"{item.kind} {item_id} was answered 'created' {item.created} times")
        if item.valid and item.acknowledged == 0:
            problems.append(f"{item.kind} {item_id} was never acknowledged")
        if not item.valid and item.created:
            problems.append(f"refused {item.kind} {item_id} was answered 'created'")
    engine = engine_for(database_url)
    try:
        with engine.connect() as connection:
            for kind, table, text_column, links in (
                ("handover", Handover, Handover.narrative, [HandoverCategory.handover_id]),
                ("idea", Idea, Idea.title, [IdeaAim.idea_id, IdeaWaste.idea_id]),
            ):
                ids = [uuid.UUID(i) for i, s in sent.items() if s.kind == kind]
                stored: dict[uuid.UUID, list[str]] = defaultdict(list)
                linked: Counter[uuid.UUID] = Counter()
                for start in range(0, len(ids), 500):
                    chunk = ids[start : start + 500]
                    for row in connection.execute(
                        select(table.id, text_column).where(table.id.in_(chunk))  # type: ignore[attr-defined]
                    ):
                        stored[row[0]].append(row[1])
                    for column in links:
                        for row in connection.execute(
                            select(column, func.count()).where(column.in_(chunk)).group_by(column)  # type: ignore[attr-defined]
                        ):
                            linked[row[0]] += row[1]
                for record_id in ids:
                    item = sent[str(record_id)]
                    rows = stored.get(record_id, [])
                    if not item.valid:
                        if rows or linked[record_id]:
                            problems.append(f"refused {kind} {record_id} is stored")
                    elif rows != [item.text]:
                        problems.append(f"{kind} {record_id} stored {len(rows)} times or altered")
                    elif linked[record_id] != item.links:
                        problems.append(
                            f"{kind} {record_id} has {linked[record_id]} links, not {item.links}"
                        )
                after = connection.execute(select(func.count()).select_from(table)).scalar_one()
                expected = before[kind] + sum(
                    1 for s in sent.values() if s.kind == kind and s.valid
                )
                if after != expected:
                    problems.append(f"{kind} table holds {after} rows, expected {expected}")
    finally:
        engine.dispose()
    return problems


@dataclass
class LoadReport:
    config: LoadConfig
    backend: str
    rate_limit: int
    seconds: float  # the timed window, until the last phone and manager finished
    recorder: Recorder
    problems: list[str]  # from the final check of the database
    server_log: str = ""

    @property
    def errors(self) -> list[str]:
        return self.recorder.errors + self.problems

    @property
    def timed_requests(self) -> int:
        return sum(
            sum(counts.values())
            for kind, counts in self.recorder.statuses.items()
            if kind not in SETUP
        )

    @property
    def items(self) -> Counter[str]:
        return Counter(s.kind for s in self.recorder.sent.values() if s.valid)

    @property
    def refused(self) -> int:
        return sum(1 for s in self.recorder.sent.values() if not s.valid)

    def lines(self) -> list[str]:
        c = self.config
        out = [
            f"load test: {c.phones} phones and {c.managers} managers for {c.seconds:.0f} s on "
            f"{self.backend}, one server process; phones send every {c.min_gap:g}–{c.max_gap:g} s; "
            f"sync rate limit {self.rate_limit:,} per user per minute",
            f"{'requests':34} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'p99 ms':>8}  statuses",
        ]
        kinds = sorted(self.recorder.statuses, key=lambda k: (k in SETUP, k))
        for kind in kinds:
            times = self.recorder.latencies[kind]
            counts = self.recorder.statuses[kind]
            label = f"{kind} (before the clock)" if kind in SETUP else kind
            rate = "" if kind in SETUP else f"{len(times) / self.seconds:7.1f}"
            statuses = " ".join(f"{s}×{n}" for s, n in sorted(counts.items()))
            out.append(
                f"{label:34} {len(times):7} {rate:>7} {percentile(times, 0.5) * 1000:8.0f} "
                f"{percentile(times, 0.95) * 1000:8.0f} {percentile(times, 0.99) * 1000:8.0f}"
                f"  {statuses}"
            )
        items = self.items
        out.append(
            f"throughput: {self.timed_requests:,} requests in {self.seconds:.1f} s = "
            f"{self.timed_requests / self.seconds:.1f} requests/s; "
            f"{sum(items.values()):,} items stored ({items['handover']:,} handover notes, "
            f"{items['idea']:,} ideas) = {sum(items.values()) / self.seconds:.1f} items/s; "
            f"{self.refused} refused as they should be"
        )
        if self.errors:
            out.append(f"ERRORS: {len(self.errors)}")
            out += [f"  {e}" for e in self.errors[:30]]
            if self.server_log:
                out.append("the server's log, last lines:")
                out += self.server_log[-4000:].splitlines()
            out.append("verdict: FAIL")
        else:
            out.append(
                "exactly once: every acknowledged item stored once, as sent, with its links; "
                "no refused item stored; table totals match"
            )
            out.append("verdict: zero errors")
        return out


async def simulate(
    url: str, phones: list[str], managers: list[str], config: LoadConfig
) -> tuple[Recorder, float]:
    recorder = Recorder()
    # uvicorn closes a connection idle for 5 s; a client that reuses one just as it closes sees
    # "disconnected without a response". Browsers resend the request then; httpx does not, so the
    # simulated users let idle connections go before the server would.
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=2, keepalive_expiry=2.0)
    clients = [
        httpx.AsyncClient(base_url=url, timeout=60, limits=limits) for _ in phones + managers
    ]
    try:
        gate = asyncio.Semaphore(8)  # argon2 sign-ins are slow on purpose: not all at once

        async def signed(client: httpx.AsyncClient, email: str) -> str | None:
            async with gate:
                return await sign_in(client, recorder, email)

        tokens = await asyncio.gather(
            *(signed(c, e) for c, e in zip(clients, phones + managers, strict=True))
        )
        started = time.monotonic()
        deadline = started + config.seconds
        tasks = []
        for n, (client, token) in enumerate(
            zip(clients[: len(phones)], tokens[: len(phones)], strict=True)
        ):
            if token is not None:
                rng = random.Random(config.seed * 100_003 + n)
                tasks.append(phone(client, token, recorder, config, deadline, rng, n))
        for n, client in enumerate(clients[len(phones) :]):
            if tokens[len(phones) + n] is not None:
                rng = random.Random(config.seed * 200_003 + n)
                tasks.append(manager(client, recorder, deadline, rng))
        await asyncio.gather(*tasks)
        return recorder, time.monotonic() - started
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def run(
    url: str, database_url: str, config: LoadConfig, rate_limit: int = DEFAULT_RATE_LIMIT
) -> LoadReport:
    """The load against a server already running at `url` on `database_url` (demo trust seeded)."""
    phones, managers = ensure_users(database_url, config.phones, config.managers)
    before = table_counts(database_url)
    # A loop of its own in a thread of its own: the caller may be inside a running event loop
    # (pytest after Playwright's sync API keeps one in the main thread).
    with ThreadPoolExecutor(1) as pool:
        recorder, seconds = pool.submit(
            asyncio.run, simulate(url, phones, managers, config)
        ).result()
    problems = check_stored(database_url, recorder.sent, before)
    backend = make_url(database_url).get_backend_name()
    return LoadReport(
        config,
        "PostgreSQL" if backend == "postgresql" else "SQLite",
        rate_limit,
        seconds,
        recorder,
        problems,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--phones", type=int, default=80)
    parser.add_argument("--managers", type=int, default=8)
    parser.add_argument(
        "--ideas", type=int, default=10_000, help="ideas in the database before the run"
    )
    parser.add_argument(
        "--notes", type=int, default=10_000, help="handover notes in the database before the run"
    )
    parser.add_argument(
        "--gap",
        type=float,
        nargs=2,
        default=(3.0, 12.0),
        metavar=("MIN", "MAX"),
        help="seconds a phone goes without signal between sends (shorter: more load)",
    )
    parser.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_LIMIT)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    config = LoadConfig(
        seconds=args.seconds,
        phones=args.phones,
        managers=args.managers,
        min_gap=args.gap[0],
        max_gap=args.gap[1],
        seed=args.seed,
    )
    report = load_run(config, args.ideas, args.notes, args.rate_limit)
    for line in report.lines():
        print(line)
    sys.exit(1 if report.errors else 0)


def load_run(
    config: LoadConfig, ideas: int, notes: int, rate_limit: int = DEFAULT_RATE_LIMIT
) -> LoadReport:
    """A server of its own (SQLite in a temporary directory, or DATABASE_URL), seeded, then run()."""
    database_url = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        extra = {"FRONTLINE_SYNC_MAX_REQUESTS_PER_MINUTE": str(rate_limit)}
        if database_url:
            extra["DATABASE_URL"] = database_url
        server = BenchServer(data_dir, log=data_dir / "server.log", **extra)
        server.cli("migrate")
        server.cli("demo")
        if ideas:
            from bench.triage import seed_ideas

            seed_ideas(data_dir, ideas)
        if notes:
            from bench.measures import seed_notes

            seed_notes(data_dir, notes)
        server.start()
        try:
            report = run(
                server.url,
                database_url or f"sqlite:///{data_dir / 'frontline.db'}",
                config,
                rate_limit,
            )
        finally:
            server.stop()
        report.server_log = (data_dir / "server.log").read_text(errors="replace")
        return report


if __name__ == "__main__":
    main()
