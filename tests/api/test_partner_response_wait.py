"""When a partner's answer is overdue (SPEC §4: 10 working days after the note was raised)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from api.db import open_session
from api.handovers.response_wait import response_due, response_overdue
from schemas.handovers import Handover
from tests.records import handover_data, new_id


@pytest.mark.parametrize(
    ("raised", "due"),
    [
        # A Monday: ten weekdays on is the Monday two weeks later.
        (datetime(2026, 11, 2, 10, 0, tzinfo=UTC), date(2026, 11, 16)),
        # A Friday evening in London: counting starts on Monday.
        (datetime(2026, 11, 6, 18, 0, tzinfo=UTC), date(2026, 11, 20)),
        # Christmas Day, Boxing Day (on a Saturday: the 28th is the substitute) and New Year's Day
        # are not working days.
        (datetime(2026, 12, 21, 9, 0, tzinfo=UTC), date(2027, 1, 7)),
        # 23:30 UTC on 31 March is already 1 April in London (summer time); Good Friday and
        # Easter Monday are not working days.
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), date(2026, 4, 17)),
    ],
)
def test_the_answer_is_due_ten_working_days_after_the_note_was_raised(
    raised: datetime, due: date
) -> None:
    assert response_due(raised) == due


def test_a_note_is_overdue_only_after_its_due_day_while_unanswered() -> None:
    raised = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    on_the_due_day = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
    the_day_after = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
    assert not response_overdue(raised, None, on_the_due_day)
    assert response_overdue(raised, None, the_day_after)
    assert not response_overdue(raised, the_day_after, the_day_after)
    assert not response_overdue(None, None, the_day_after)


def test_raising_a_note_with_the_partner_starts_its_clock_once(crew: Any, manager: Any) -> None:
    record_id = new_id()
    crew.post("/api/v1/handovers", json={"id": record_id, **handover_data()})
    for to in ("reviewed", "raised_with_partner"):
        answer = manager.post(f"/api/v1/handovers/{record_id}/transitions", json={"to": to})
        assert answer.status_code == 200, answer.text
    with open_session(write=False) as session:
        note = session.get(Handover, uuid.UUID(record_id))
        assert note is not None and note.raised_at is not None
        raised_at = note.raised_at
    assert manager.get(f"/api/v1/handovers/{record_id}").json()["raised_at"] is not None
    manager.post(f"/api/v1/handovers/{record_id}/transitions", json={"to": "resolved"})
    with open_session(write=False) as session:
        note = session.get(Handover, uuid.UUID(record_id))
        assert note is not None and note.raised_at == raised_at
