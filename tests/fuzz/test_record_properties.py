"""Property tests (Hypothesis) for the record validation behind `POST /api/v1/ideas`,
`POST /api/v1/handovers` and `POST /api/v1/sync` (schemas/ideas.py, schemas/handovers.py,
api/sync/ingest.py).

Each field is drawn either from values the SPEC allows or from values it refuses (wrong type, out
of range, too long, blank, an NHS number, NUL, an id that names nothing, a server-owned field), and
the test remembers which. Whatever is sent:

- input built only from allowed values is accepted (201, or `created` in a batch), and reading the
  record back gives exactly what was sent (lists without repeats, text as typed);
- input with a refused value is refused (422, or `rejected`) with one message per field, naming
  only fields that were drawn bad, and nothing is stored;
- in a batch, each item gets its own outcome, in order: a bad item never blocks a good one.

Derandomized, no example database: FRONTLINE_PROPERTY_EXAMPLES examples per property (default 40).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from api.db import open_session
from api.security.rate_limit import SlidingWindowLimiter
from api.sync import guard
from schemas.enums import Benefit, Category, Harm, JourneyType, Waste
from schemas.free_text import visible_text
from schemas.handovers import Handover
from schemas.ideas import Idea
from schemas.pid_guard import find_nhs_number
from tests.records import reference_ids

EXAMPLES = int(os.environ.get("FRONTLINE_PROPERTY_EXAMPLES", "40"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # One signed-in client and one demo trust serve every example: each example uses a new id
    # and compares counts before and after, so what earlier examples stored does not matter.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NOT_THERE = 2_000_000_000  # a well-formed id that names no record
NHS_NUMBER = "943 476 5919"
MISSING = object()


@dataclass
class Drawn:
    """A request body, and which of its fields were drawn from refused values."""

    body: dict[str, Any] = field(default_factory=dict)
    bad: set[str] = field(default_factory=set)

    def put(self, draw: st.DrawFn, name: str, good: Any, bad: Any = None) -> None:
        """One field from `good` or, sometimes, from `bad` (a strategy; None: never bad)."""
        # About one field in eight is bad, so that many bodies are wholly good too.
        if bad is not None and draw(st.sampled_from([False] * 7 + [True])):
            value = draw(bad)
            self.bad.add(name)
        else:
            value = draw(good)
        if value is not MISSING:
            self.body[name] = value


# Text as a person might type it: any character but NUL and unpaired surrogates (which JSON cannot
# carry as text), with the same few awkward ones more often.
CHARACTERS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00") | st.sampled_from(
    " \t\n\r<>&\"'\\%_é—€😀\u200b\u2028"
)


def text(min_length: int, max_length: int) -> st.SearchStrategy[str]:
    """Allowed text: measured as a reader sees it (schemas/free_text.py::visible_text: no
    surrounding spaces, no invisible characters), no NHS number, at the limits too."""
    typed = st.text(CHARACTERS, max_size=min(max_length, 40))
    longest = st.just("x" * max_length)
    shortest = st.just(" " + "y" * max(min_length, 1) + " ")
    return (typed | longest | shortest).filter(
        lambda t: (
            len(t) <= max_length
            and len(visible_text(t)) >= min_length
            and find_nhs_number(t) is None
        )
    )


def bad_text(min_length: int, max_length: int) -> st.SearchStrategy[Any]:
    too_short = [st.just(""), st.just("   \n"), st.just("\u200b\u2060\u3164")] if min_length else []
    if min_length > 1:
        too_short.append(st.just(" " + "y" * (min_length - 1) + " "))
    return st.one_of(
        *too_short,
        st.just("z" * (max_length + 1)),
        st.just(f"Patient {NHS_NUMBER} was waiting"),
        st.just("nul \x00 inside"),
        st.integers(),
        st.none() if min_length else st.lists(st.text(), max_size=1),
    )


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.just(MISSING) | strategy


def enum_list(enum: Any, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from([e.value for e in enum]), min_size=min_size, max_size=6)


def bad_enum_list(enum: Any, min_size: int = 0) -> st.SearchStrategy[Any]:
    valid = [e.value for e in enum]
    return st.one_of(
        *([st.just([])] if min_size else []),
        st.just(["not-a-choice"]),
        st.sampled_from(valid),  # one value where a list belongs
        st.just({"a": 1}),
    )


def client_time() -> st.SearchStrategy[str]:
    return st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ).map(datetime.isoformat)


def bad_time() -> st.SearchStrategy[Any]:
    return st.sampled_from(["yesterday", "2026-13-01T00:00:00Z", "0001-01-01T00:00:00+01:00", True])


@st.composite
def idea_bodies(draw: st.DrawFn, ids: dict[str, list[int]]) -> Drawn:
    drawn = Drawn()
    drawn.put(draw, "title", text(3, 120), bad_text(3, 120))
    drawn.put(draw, "problem", text(1, 4000), bad_text(1, 4000))
    drawn.put(draw, "proposal", text(1, 4000), bad_text(1, 4000))
    drawn.put(draw, "wastes", optional(enum_list(Waste)), bad_enum_list(Waste))
    good_aims = st.lists(st.sampled_from(ids["aims"]), min_size=1, max_size=20)
    # Repeats are dropped before counting (a checkbox ticked twice): too many means 21 different.
    bad_aims = st.sampled_from([MISSING, [], [NOT_THERE], [0], "1", list(range(1, 22))])
    drawn.put(draw, "aims", good_aims, bad_aims)
    drawn.put(
        draw, "team_id", st.sampled_from(ids["teams"]), st.sampled_from([NOT_THERE, 0, -3, "x"])
    )
    drawn.put(draw, "benefits", optional(enum_list(Benefit)), bad_enum_list(Benefit))
    drawn.put(draw, "show_name", optional(st.booleans()), st.sampled_from(["maybe", [], {}]))
    drawn.put(draw, "created_at", optional(st.none() | client_time()), bad_time())
    drawn.put(draw, "status", st.just(MISSING), st.just("implemented"))  # server-owned
    return drawn


@st.composite
def handover_bodies(draw: st.DrawFn, ids: dict[str, list[int]]) -> Drawn:
    drawn = Drawn()
    now = datetime.now(UTC)
    good_when = st.datetimes(
        min_value=datetime(2000, 1, 2), max_value=(now - timedelta(days=1)).replace(tzinfo=None)
    ).map(lambda t: t.replace(tzinfo=UTC).isoformat())
    future = (now + timedelta(days=1)).isoformat()
    drawn.put(
        draw, "occurred_at", good_when, st.sampled_from(["1999-12-31T12:00:00Z", future, "soon"])
    )
    drawn.put(
        draw, "partner_id", st.sampled_from(ids["partners"]), st.sampled_from([NOT_THERE, 0, []])
    )
    drawn.put(draw, "location_detail", optional(text(0, 200)), bad_text(0, 200))
    drawn.put(
        draw,
        "journey_type",
        optional(st.none() | st.sampled_from([j.value for j in JourneyType])),
        st.just("bus"),
    )
    drawn.put(draw, "categories", enum_list(Category, 1), bad_enum_list(Category, 1))
    drawn.put(
        draw,
        "delay_minutes",
        optional(st.none() | st.integers(0, 1440)),
        st.sampled_from([-1, 1441, 2.5, "ten"]),
    )
    drawn.put(
        draw, "harm", optional(st.none() | st.sampled_from([h.value for h in Harm])), st.just("x")
    )
    drawn.put(draw, "narrative", text(1, 4000), bad_text(1, 4000))
    drawn.put(draw, "immediate_action", optional(text(0, 2000)), bad_text(0, 2000))
    drawn.put(draw, "vehicle", optional(text(0, 20)), bad_text(0, 20))
    drawn.put(draw, "created_at", optional(st.none() | client_time()), bad_time())
    drawn.put(draw, "reported_by", st.just(MISSING), st.just(1))  # server-owned
    return drawn


def stored(model: Any) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def same_instant(sent: str | None, read: str | None) -> bool:
    if sent is None or read is None:
        return sent is read
    return datetime.fromisoformat(sent) == datetime.fromisoformat(read)


def check_idea_round_trip(sent: dict[str, Any], read: dict[str, Any]) -> None:
    for name in ("title", "problem", "proposal", "team_id"):
        assert read[name] == sent[name], name
    for name in ("wastes", "aims", "benefits"):
        assert read[name] == unique(sent.get(name, [])), name
    assert read["show_name"] == sent.get("show_name", True)
    if sent.get("created_at") is not None:
        assert same_instant(sent["created_at"], read["created_at"])


def check_handover_round_trip(sent: dict[str, Any], read: dict[str, Any]) -> None:
    assert same_instant(sent["occurred_at"], read["occurred_at"])
    for name in ("partner_id", "narrative"):
        assert read[name] == sent[name], name
    for name in ("location_detail", "immediate_action", "vehicle"):
        assert read[name] == sent.get(name, ""), name
    for name in ("journey_type", "delay_minutes", "harm"):
        assert read[name] == sent.get(name), name
    assert read["categories"] == unique(sent["categories"])
    if sent.get("created_at") is not None:
        assert same_instant(sent["created_at"], read["created_at"])


def check_refusal(errors: Any, drawn: Drawn) -> None:
    """One message per field, each naming a field that was drawn bad (never a good one)."""
    assert isinstance(errors, list) and errors
    named = [e["field"] for e in errors]
    assert len(named) == len(set(named))
    assert all(isinstance(e["message"], str) and e["message"].strip() for e in errors)
    assert set(named) <= drawn.bad, (named, drawn.bad)


@pytest.fixture
def no_write_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The per-minute write limit would answer 429 long before the examples run out.
    unlimited = SlidingWindowLimiter(10**9)
    monkeypatch.setattr(guard, "_limiter", lambda: unlimited)


KINDS: dict[str, tuple[Any, Any, Callable[[dict[str, Any], dict[str, Any]], None]]] = {
    "ideas": (idea_bodies, Idea, check_idea_round_trip),
    "handovers": (handover_bodies, Handover, check_handover_round_trip),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@PROPERTY
@given(data=st.data())
def test_a_record_is_stored_as_sent_or_refused_field_by_field_with_nothing_stored(
    crew: Any, no_write_limit: None, kind: str, data: st.DataObject
) -> None:
    bodies, model, check_round_trip = KINDS[kind]
    drawn = data.draw(bodies(reference_ids()))
    record_id = str(uuid.uuid4())
    before = stored(model)
    response = crew.post(f"/api/v1/{kind}", json={"id": record_id, **drawn.body})
    event(f"answered {response.status_code}")
    if drawn.bad:
        assert response.status_code == 422, (drawn.bad, response.text)
        check_refusal(response.json()["detail"], drawn)
        assert stored(model) == before
    else:
        assert response.status_code == 201, response.text
        assert stored(model) == before + 1
        read = crew.get(f"/api/v1/{kind}/{record_id}")
        assert read.status_code == 200
        check_round_trip(drawn.body, read.json())


@PROPERTY
@given(data=st.data())
def test_each_item_of_a_batch_gets_its_own_outcome_in_order(
    crew: Any, no_write_limit: None, data: st.DataObject
) -> None:
    ids = reference_ids()
    kinds = data.draw(st.lists(st.sampled_from(["idea", "handover"]), min_size=1, max_size=5))
    drawn = [data.draw((idea_bodies if k == "idea" else handover_bodies)(ids)) for k in kinds]
    items = [
        {"kind": k, "id": str(uuid.uuid4()), "data": d.body}
        for k, d in zip(kinds, drawn, strict=True)
    ]
    before = stored(Idea) + stored(Handover)
    response = crew.post("/api/v1/sync", json={"items": items})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["id"], r["kind"]) for r in results] == [(i["id"], i["kind"]) for i in items]
    for result, item in zip(results, drawn, strict=True):
        if item.bad:
            assert result["outcome"] == "rejected", (item.bad, result)
            check_refusal(result["errors"], item)
        else:
            assert result["outcome"] == "created", result
            assert result["errors"] == []
    created = sum(r["outcome"] == "created" for r in results)
    event(f"{created} of {len(items)} created")
    assert stored(Idea) + stored(Handover) == before + created
