"""The numbers behind the charts: London periods, zero-filled, filtered, counted in the database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update

from api.db import open_session
from api.measures.periods import Period, periods_between
from api.measures.series import Filters, Measure, values
from schemas.ideas import Idea
from tests.records import handover_data, idea_data, new_id, reference_ids


def note_at(client: Any, moment: datetime, **overrides: Any) -> None:
    body = {"id": new_id(), **handover_data(occurred_at=moment.isoformat(), **overrides)}
    assert client.post("/api/v1/handovers", json=body).status_code == 201


def series(measure: Measure, first: date, last: date, **filters: Any) -> dict[date, float]:
    with open_session(write=False) as session:
        return dict(values(session, measure, Filters(first, last, **filters)))


def test_weeks_start_on_monday_and_empty_weeks_are_zero(crew: Any) -> None:
    note_at(crew, datetime(2026, 10, 7, 12, tzinfo=UTC))  # Wednesday
    note_at(crew, datetime(2026, 10, 11, 22, tzinfo=UTC))  # Sunday 23:00 in London (BST)
    counts = series(Measure.handovers_per_week, date(2026, 9, 28), date(2026, 10, 25))
    assert list(counts) == [
        date(2026, 9, 28),
        date(2026, 10, 5),
        date(2026, 10, 12),
        date(2026, 10, 19),
    ]
    assert counts == {
        date(2026, 9, 28): 0,
        date(2026, 10, 5): 2,
        date(2026, 10, 12): 0,
        date(2026, 10, 19): 0,
    }


def test_a_note_just_after_midnight_on_a_summer_monday_counts_in_that_week(crew: Any) -> None:
    # 23:30 UTC on Sunday 4 Oct 2026 is 00:30 on Monday 5 Oct in London (BST).
    note_at(crew, datetime(2026, 10, 4, 23, 30, tzinfo=UTC))
    counts = series(Measure.handovers_per_week, date(2026, 9, 28), date(2026, 10, 11))
    assert counts == {date(2026, 9, 28): 0, date(2026, 10, 5): 1}


def test_delay_minutes_add_up_per_week_and_the_partner_filter_applies(crew: Any) -> None:
    ids = reference_ids()
    monday = datetime(2026, 11, 2, 10, tzinfo=UTC)
    note_at(crew, monday, delay_minutes=30)
    note_at(crew, monday + timedelta(days=1), delay_minutes=45, partner_id=ids["partners"][2])
    note_at(crew, monday + timedelta(days=2), delay_minutes=None)
    week = date(2026, 11, 2)
    assert series(Measure.delay_minutes_per_week, week, week) == {week: 75}
    assert series(Measure.handovers_per_week, week, week, partner_id=ids["partners"][2]) == {
        week: 1
    }


def test_ideas_per_month_and_mean_first_response(crew: Any, manager: Any) -> None:
    made = []
    for hours in (2, 10, 30):
        record_id = new_id()
        crew.post("/api/v1/ideas", json={"id": record_id, **idea_data()})
        made.append((record_id, hours))
    received = datetime(2026, 3, 10, 9, tzinfo=UTC)
    with open_session(write=True) as session:
        for record_id, hours in made:
            session.execute(
                update(Idea)
                .where(Idea.id == uuid.UUID(record_id))
                .values(received_at=received, first_response_at=received + timedelta(hours=hours))
            )
        session.commit()
    assert series(Measure.ideas_submitted_per_month, date(2026, 2, 1), date(2026, 4, 30)) == {
        date(2026, 2, 1): 0,
        date(2026, 3, 1): 3,
        date(2026, 4, 1): 0,
    }
    week = date(2026, 3, 9)
    # SPEC §8: the mean, (2 + 10 + 30) / 3 = 14 hours; the weeks either side had no ideas: no point.
    assert series(
        Measure.first_response_hours_per_week, week - timedelta(weeks=1), week + timedelta(weeks=1)
    ) == {
        week - timedelta(weeks=1): None,
        week: 14,
        week + timedelta(weeks=1): None,
    }


def test_implemented_ideas_are_counted_in_the_month_they_were_implemented(
    crew: Any, manager: Any
) -> None:
    record_id = new_id()
    crew.post("/api/v1/ideas", json={"id": record_id, **idea_data()})
    with open_session(write=True) as session:
        session.execute(
            update(Idea).where(Idea.id == uuid.UUID(record_id)).values(status="testing")
        )
        session.commit()
    assert (
        manager.post(
            f"/api/v1/ideas/{record_id}/transitions", json={"to": "implemented"}
        ).status_code
        == 200
    )
    today = datetime.now(UTC).date()
    month = today.replace(day=1)
    assert series(Measure.ideas_implemented_per_month, month, today)[month] == 1


def test_months_run_across_a_year_end() -> None:
    assert list(periods_between(date(2025, 11, 15), date(2026, 2, 3), Period.month)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
