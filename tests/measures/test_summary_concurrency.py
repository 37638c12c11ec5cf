"""The per-day summaries stay exact while many batches store at once, records change and are
deleted meanwhile, and (on PostgreSQL) the deltas are folded meanwhile: after it all, what the
charts and the partner pack read equals a count made from the notes, ideas and audit events
themselves, before and after a last fold; and nothing deadlocked or failed (storing batches take
no lock as a whole since migration 0016; docs/decisions/0012-summary-deltas.md)."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from api.db import get_engine, open_session
from api.measures.periods import london_day
from api.measures.summary import fold, measure_rows, pack_rows
from schemas.accounts import User
from schemas.audit import AuditEvent
from schemas.handovers import Handover
from schemas.ideas import Idea
from schemas.measures import MEASURE_DELTA, PACK_DELTA
from tests.conftest import Client
from tests.records import handover_data, idea_data, new_id, reference_ids

WRITERS = 6
BATCHES = 5  # a thread's batches (each user's sync allowance is 120 a minute)
NOTES, IDEAS = 12, 4  # a batch's
# Four London days around the clocks going forward: every batch counts into the same few
# summary rows, in an order of its own.
DAYS = [
    datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
    datetime(2026, 3, 29, 23, 30, tzinfo=UTC),
    datetime(2026, 3, 30, 12, 0, tzinfo=UTC),
]


def _batches(rng: random.Random, ids: dict[str, list[int]]) -> list[list[dict[str, Any]]]:
    batches = []
    for _ in range(BATCHES):
        items = [
            {
                "kind": "handover",
                "id": new_id(),
                "data": handover_data(
                    occurred_at=(
                        rng.choice(DAYS) + timedelta(seconds=rng.randrange(600))
                    ).isoformat(),
                    partner_id=rng.choice(ids["partners"][:3]),
                    categories=rng.sample(["handover_delay", "other", "access_or_parking"], k=2),
                    journey_type=rng.choice([None, "admission", "transfer"]),
                    harm=rng.choice([None, "none", "low"]),
                    delay_minutes=rng.choice([None, 0, 15, 45]),
                ),
            }
            for _ in range(NOTES)
        ] + [
            {
                "kind": "idea",
                "id": new_id(),
                "data": idea_data(team_id=rng.choice(ids["teams"][:2])),
            }
            for _ in range(IDEAS)
        ]
        rng.shuffle(items)
        batches.append(items)
    return batches


def _measure_direct() -> Counter[tuple[Any, ...]]:
    """measure_day's counts made from the records (kinds as migration 0008 defines them)."""
    counts: Counter[tuple[Any, ...]] = Counter()
    with open_session(write=False) as session:
        for note in session.execute(select(Handover)).scalars():
            kind = f"handover_{'good_practice' if note.note_type == 'good_practice' else 'concern'}"
            key = (kind, london_day(note.occurred_at), note.partner_id, 0)
            counts[(*key, "n")] += 1
            counts[(*key, "total")] += note.delay_minutes or 0
        teams = {}
        for idea in session.execute(select(Idea)).scalars():
            teams[idea.id] = idea.team_id
            counts[("idea_received", london_day(idea.received_at), 0, idea.team_id, "n")] += 1
            if idea.first_response_at is not None:
                day = london_day(idea.first_response_at)
                counts[("idea_responded", day, 0, idea.team_id, "n")] += 1
        for event in session.execute(
            select(AuditEvent).where(
                AuditEvent.record_kind == "idea",
                AuditEvent.action == "transition",
                AuditEvent.to_status == "implemented",
            )
        ).scalars():
            if event.record_id in teams:
                key = ("idea_implemented", london_day(event.at), 0, teams[event.record_id], "n")
                counts[key] += 1
    return +counts


def _pack_direct() -> Counter[tuple[Any, ...]]:
    """pack_day's counts made from the notes (kinds and items as migration 0014 defines them)."""
    counts: Counter[tuple[Any, ...]] = Counter()
    with open_session(write=False) as session:
        for note in session.execute(select(Handover)).scalars():
            key = (note.partner_id, london_day(note.occurred_at))
            counts[(*key, "note", note.note_type)] += 1
            if note.note_type == "good_practice":
                for item in note.good_practice:
                    counts[(*key, "good_practice", item)] += 1
                continue
            for item in note.categories:
                counts[(*key, "category", item)] += 1
            counts[(*key, "journey", note.journey_type or "not_recorded")] += 1
            if note.harm is not None:
                counts[(*key, "harm", note.harm)] += 1
            if note.delay_minutes is not None:
                counts[(*key, "delay", str(note.delay_minutes))] += 1
    return +counts


def _as_read() -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    """What the readers count: on PostgreSQL the summary rows and the deltas not yet folded."""
    measures: Counter[tuple[Any, ...]] = Counter()
    pack: Counter[tuple[Any, ...]] = Counter()
    with open_session(write=False) as session:
        rows = measure_rows(session)
        for kind, day, partner_id, team_id, n, total in session.execute(
            select(
                rows.c.kind, rows.c.day, rows.c.partner_id, rows.c.team_id, rows.c.n, rows.c.total
            )
        ):
            measures[(kind, day, partner_id, team_id, "n")] += n
            measures[(kind, day, partner_id, team_id, "total")] += total
        rows = pack_rows(session)
        for partner_id, day, kind, item, n in session.execute(
            select(rows.c.partner_id, rows.c.day, rows.c.kind, rows.c.item, rows.c.n)
        ):
            pack[(partner_id, day, kind, item)] += n
    return +measures, +pack


def _run(workers: list[Callable[[], None]]) -> list[BaseException]:
    """Every worker in a thread of its own, started together; what any of them raised."""
    failures: list[BaseException] = []
    start = threading.Barrier(len(workers))

    def run(work: Callable[[], None]) -> None:
        try:
            start.wait()
            work()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        # A deadlock that PostgreSQL did not break would hang here: a liveness guard, not a
        # timing (a healthy run takes seconds).
        thread.join(300)
    assert not any(t.is_alive() for t in threads), "a worker never finished"
    return failures


def test_the_summaries_stay_exact_under_concurrent_batches_changes_and_folds(app: Any) -> None:
    ids = reference_ids()
    rng = random.Random(16)
    plans = [_batches(random.Random(rng.random()), ids) for _ in range(WRITERS)]
    # A few batches sent twice at once (a phone's retry while the first try is still in
    # flight), the second time in reverse order: stored once, whichever claims first.
    plans[1].append(list(reversed(plans[0][0])))
    plans[3].append(list(reversed(plans[2][1])))
    # The changes below leave those alone: Frontline never deletes a record, and a replay of one
    # deleted by hand would find its id claimed and no record.
    retried = {uuid.UUID(item["id"]) for items in (plans[0][0], plans[2][1]) for item in items}
    writing = threading.Event()
    writing.set()
    finished = threading.Semaphore(0)
    answers: list[Any] = []

    def writer(plan: list[list[dict[str, Any]]]) -> Callable[[], None]:
        def work() -> None:
            client = Client(app).sign_in("crew@demo.nhs.uk")
            try:
                for items in plan:
                    response = client.post("/api/v1/sync", json={"items": items})
                    assert response.status_code == 200, response.text
                    answers.extend(response.json()["results"])
            finally:
                finished.release()

        return work

    with open_session(write=False) as session:
        manager_id = session.execute(
            select(User.id).where(User.email == "manager@demo.nhs.uk")
        ).scalar_one()

    def changer() -> None:
        """While the batches store: edits of every counted column, partner responses, status
        moves, first responses, implemented ideas and deletes, one record a transaction."""
        local = random.Random(5)
        done = 0
        while writing.is_set() or done < 20:
            done += 1
            with open_session(write=True) as session:
                notes = [
                    i
                    for i in session.execute(select(Handover.id).limit(60)).scalars()
                    if i not in retried
                ]
                ideas = [
                    i
                    for i in session.execute(select(Idea.id).limit(30)).scalars()
                    if i not in retried
                ]
                if not notes or not ideas:
                    session.rollback()
                    continue
                note, idea = local.choice(notes), local.choice(ideas)
                change = done % 9
                if change == 0:
                    session.execute(
                        update(Handover)
                        .where(Handover.id == note)
                        .values(partner_id=local.choice(ids["partners"][:3]))
                    )
                elif change == 1:
                    session.execute(
                        update(Handover)
                        .where(Handover.id == note)
                        .values(
                            occurred_at=local.choice(DAYS),
                            delay_minutes=local.choice([None, 5, 90]),
                        )
                    )
                elif change == 2:
                    session.execute(
                        update(Handover)
                        .where(Handover.id == note)
                        .values(note_type="good_practice", good_practice=["quick_handover"])
                    )
                elif change == 3:
                    session.execute(
                        update(Handover)
                        .where(Handover.id == note)
                        .values(categories=["other"], harm="low", journey_type="transfer")
                    )
                elif change == 4:
                    session.execute(
                        update(Handover)
                        .where(Handover.id == note)
                        .values(partner_response="Second nurse added.", status="resolved")
                    )
                elif change == 5:
                    session.execute(delete(Handover).where(Handover.id == note))
                elif change == 6:
                    session.execute(
                        update(Idea)
                        .where(Idea.id == idea, Idea.first_response_at.is_(None))  # type: ignore[union-attr]
                        .values(first_response_at=local.choice(DAYS), status="under_review")
                    )
                elif change == 7:
                    session.add(
                        AuditEvent(
                            record_kind="idea",
                            record_id=idea,
                            actor_id=manager_id,
                            action="transition",
                            from_status="under_review",
                            to_status="implemented",
                        )
                    )
                else:
                    session.execute(
                        update(Idea).where(Idea.id == idea).values(received_at=local.choice(DAYS))
                    )
                session.commit()

    def folder() -> None:
        """PostgreSQL: folds again and again while the batches store (SQLite: nothing to fold)."""
        while writing.is_set():
            with get_engine().begin() as connection:
                fold(connection)
            _as_read()

    def all_written() -> None:
        for _ in range(WRITERS):
            finished.acquire()
        writing.clear()

    failures = _run([*(writer(plan) for plan in plans), changer, folder, all_written])
    assert failures == []

    sent = {item["id"] for plan in plans for items in plan for item in items}
    assert {a["outcome"] for a in answers} <= {"created", "duplicate"}
    assert sorted(a["id"] for a in answers if a["outcome"] == "created") == sorted(sent)

    measures, pack = _as_read()
    assert measures == _measure_direct()
    assert pack == _pack_direct()
    # Folded at last, the summary rows alone hold the same counts, and no delta is left.
    with get_engine().begin() as connection:
        fold(connection)
    assert _as_read() == (measures, pack)
    with open_session(write=False) as session:
        for table in (MEASURE_DELTA, PACK_DELTA):
            assert session.execute(select(func.count()).select_from(table)).scalar() == 0


def test_a_fold_leaves_a_delta_not_yet_committed_and_it_counts_once_committed() -> None:
    """A delta still being written is neither moved nor lost by a fold: readers count it once its
    writer commits, and the next fold moves it (PostgreSQL; on SQLite nothing waits to be
    folded, and the same holds)."""
    before = _as_read()
    occurred = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    partner_id = reference_ids()["partners"][0]
    with open_session(write=True) as writer:
        crew_id = writer.execute(
            select(User.id).where(User.email == "crew@demo.nhs.uk")
        ).scalar_one()
        writer.add(
            Handover(
                id=uuid.uuid4(),
                occurred_at=occurred,
                partner_id=partner_id,
                categories=["other"],
                delay_minutes=30,
                harm="none",
                narrative="Waited.",
                reported_by=crew_id,
                content_hash="0" * 64,
                created_at=occurred,
            )
        )
        writer.flush()  # written, not committed
        with get_engine().begin() as connection:
            fold(connection)
        assert _as_read() == before
        writer.commit()
    after = _as_read()
    assert after == (_measure_direct(), _pack_direct())
    key = ("handover_concern", london_day(occurred), partner_id, 0)
    assert after[0][(*key, "total")] - before[0][(*key, "total")] == 30
    assert (
        after[1][(partner_id, london_day(occurred), "delay", "30")]
        == 1 + before[1][(partner_id, london_day(occurred), "delay", "30")]
    )
    with get_engine().begin() as connection:
        fold(connection)
    assert _as_read() == after
    with open_session(write=False) as session:
        assert session.execute(select(func.count()).select_from(MEASURE_DELTA)).scalar() == 0
