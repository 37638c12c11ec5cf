"""The per-day summary the charts count from (measure_day, kept by triggers in migration 0008) always
equals a direct count of the records: after inserts, replays, status moves, edits and deletes."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from api.db import get_engine, open_session
from api.measures.periods import london_day
from api.measures.series import Filters, Measure, values
from api.measures.summary import fold, measure_rows
from schemas.handovers import Handover
from schemas.ideas import Idea
from schemas.measures import MEASURE_DELTA, MeasureDay
from tests.records import handover_data, idea_data, new_id, reference_ids


def _summary_rows(kinds: Iterable[str]) -> list[Any]:
    """The summary as the charts read it: on PostgreSQL its rows and the deltas not yet folded
    (migration 0016), checked again after a fold, which must change no total."""
    with open_session(write=False) as session:
        rows = measure_rows(session)
        where = rows.c.kind.in_(list(kinds))
        read = list(session.execute(select(rows).where(where)))
    with get_engine().begin() as connection:
        fold(connection)
    with open_session(write=False) as session:
        folded = list(session.execute(select(MeasureDay).where(MeasureDay.kind.in_(list(kinds)))))  # type: ignore[attr-defined]
        assert session.execute(select(func.count()).select_from(MEASURE_DELTA)).scalar() == 0
    assert _totals(read) == _totals([row[0] for row in folded])
    return read


def _totals(rows: Iterable[Any]) -> Counter[tuple[str, date, int, int]]:
    counts: Counter[tuple[str, date, int, int]] = Counter()
    for row in rows:
        counts[(row.kind, row.day, row.partner_id, row.team_id)] += row.n
        counts[(row.kind + ":total", row.day, row.partner_id, row.team_id)] += row.total
    return +counts


def _summary(kinds: tuple[str, ...]) -> Counter[tuple[str, date, int, int]]:
    counts: Counter[tuple[str, date, int, int]] = Counter()
    for row in _summary_rows(kinds):
        counts[(row.kind, row.day, row.partner_id, 0)] += row.n
        counts[(row.kind + ":total", row.day, row.partner_id, 0)] += row.total
    return +counts  # zero rows (everything on that day deleted) drop out


def _direct_handovers() -> Counter[tuple[str, date, int, int]]:
    with open_session(write=False) as session:
        counts: Counter[tuple[str, date, int, int]] = Counter()
        for note in session.execute(select(Handover)).scalars():
            kind = (
                "handover_good_practice"
                if note.note_type == "good_practice"
                else "handover_concern"
            )
            key = (kind, london_day(note.occurred_at), note.partner_id, 0)
            counts[key] += 1
            counts[(kind + ":total", key[1], key[2], 0)] += note.delay_minutes or 0
        return +counts


def _direct_ideas() -> Counter[tuple[str, date, int, int]]:
    with open_session(write=False) as session:
        counts: Counter[tuple[str, date, int, int]] = Counter()
        for idea in session.execute(select(Idea)).scalars():
            counts[("idea_received", london_day(idea.received_at), 0, 0)] += 1
            if idea.first_response_at is not None:
                counts[("idea_responded", london_day(idea.first_response_at), 0, 0)] += 1
        return +counts


def _ideas_summary() -> Counter[tuple[str, date, int, int]]:
    counts: Counter[tuple[str, date, int, int]] = Counter()
    for row in _summary_rows(["idea_received", "idea_responded"]):
        counts[(row.kind, row.day, 0, 0)] += row.n
    return +counts


def test_the_summary_equals_a_direct_count_of_handover_notes(crew: Any, manager: Any) -> None:
    ids = reference_ids()
    moments = [
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # Saturday night, GMT
        datetime(2026, 3, 29, 23, 30, tzinfo=UTC),  # 00:30 Monday in London (BST)
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST, the night the clocks go back
        datetime(2026, 11, 2, 12, tzinfo=UTC),
    ]
    sent = []
    for number, moment in enumerate(moments):
        body = {
            "id": new_id(),
            **handover_data(
                occurred_at=moment.isoformat(),
                delay_minutes=10 * (number + 1),
                partner_id=ids["partners"][number % 2],
            ),
        }
        assert crew.post("/api/v1/handovers", json=body).status_code == 201
        sent.append(body)
    # A replay (same id, same content) and a replay through the sync batch change nothing.
    assert crew.post("/api/v1/handovers", json=sent[0]).status_code == 200
    batch = {
        "items": [
            {
                "kind": "handover",
                "id": sent[1]["id"],
                "data": {k: v for k, v in sent[1].items() if k != "id"},
            }
        ]
    }
    assert crew.post("/api/v1/sync", json=batch).json()["results"][0]["outcome"] == "duplicate"
    good = {
        "id": new_id(),
        **handover_data(
            note_type="good_practice",
            categories=[],
            good_practice=["quick_handover"],
            harm=None,
            occurred_at=moments[3].isoformat(),
        ),
    }
    assert crew.post("/api/v1/handovers", json=good).status_code == 201
    assert _summary(("handover_concern", "handover_good_practice")) == _direct_handovers()

    # A status move through the API (no count changes), then edits and a delete in the database.
    note = sent[3]["id"]
    assert (
        manager.post(f"/api/v1/handovers/{note}/transitions", json={"to": "reviewed"}).status_code
        == 200
    )
    with open_session(write=True) as session:
        session.execute(
            update(Handover)
            .where(Handover.id == uuid.UUID(sent[2]["id"]))
            .values(
                occurred_at=datetime(2026, 6, 1, 23, 15, tzinfo=UTC),
                delay_minutes=5,
                partner_id=ids["partners"][2],
            )
        )
        session.execute(
            update(Handover).where(Handover.id == uuid.UUID(note)).values(note_type="good_practice")
        )
        session.execute(delete(Handover).where(Handover.id == uuid.UUID(sent[0]["id"])))
        session.commit()
    assert _summary(("handover_concern", "handover_good_practice")) == _direct_handovers()


def test_the_summary_equals_a_direct_count_of_ideas_and_first_responses(
    crew: Any, manager: Any
) -> None:
    made, bodies = [], []
    for _ in range(3):
        record_id = new_id()
        body = {"id": record_id, **idea_data()}
        assert crew.post("/api/v1/ideas", json=body).status_code == 201
        made.append(record_id)
        bodies.append(body)
    assert crew.post("/api/v1/ideas", json=bodies[0]).status_code == 200  # a replay
    # A manager's comment is the first response.
    assert manager.post(
        f"/api/v1/ideas/{made[1]}/comments", json={"body": "Thanks, looking"}
    ).status_code in (200, 201)
    assert _ideas_summary() == _direct_ideas()
    with open_session(write=True) as session:
        session.execute(
            update(Idea)
            .where(Idea.id == uuid.UUID(made[2]))
            .values(
                received_at=datetime(2026, 1, 5, 23, 59, tzinfo=UTC),
                first_response_at=datetime(2026, 1, 9, tzinfo=UTC),
            )
        )
        session.commit()
    assert _ideas_summary() == _direct_ideas()


def test_a_backlog_of_unanswered_ideas_shows_in_first_response_and_waiting(crew: Any) -> None:
    received = datetime.now(UTC) - timedelta(days=45)
    made = [new_id() for _ in range(3)]
    for record_id in made:
        assert crew.post("/api/v1/ideas", json={"id": record_id, **idea_data()}).status_code == 201
    with open_session(write=True) as session:
        session.execute(
            update(Idea)
            .where(Idea.id.in_([uuid.UUID(m) for m in made]))
            .values(received_at=received)  # type: ignore[attr-defined]
        )
        session.commit()
    today = datetime.now(UTC).date()
    first = today - timedelta(weeks=8)
    with open_session(write=False) as session:
        hours = [
            v
            for _, v in values(
                session, Measure.first_response_hours_per_week, Filters(first, today)
            )
            if v
        ]
        waiting = dict(values(session, Measure.ideas_waiting_per_week, Filters(first, today)))
    # Unanswered for 45 days: about 1,080 hours, not 0.
    assert hours and max(hours) >= 45 * 24 - 1  # type: ignore[operator]
    assert list(waiting.values())[-1] == 3
    assert next(iter(waiting.values())) == 0
