"""The partner review pack's figures come from the per-day summary `pack_day` (kept by triggers in
migration 0014) and always equal a direct computation from the notes themselves: after inserts,
replays, edits of partner, time, delay, type, categories, journey and harm, and deletes, for an
organisation with a site and for the site alone."""

from __future__ import annotations

import importlib
import random
import statistics
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update

from api.db import get_engine, open_session
from api.measures.partner_pack import MAX_NARRATIVES, build_pack, delay_figures
from api.measures.periods import london_day
from api.measures.summary import fold
from schemas.accounts import Partner
from schemas.enums import Category, GoodPractice, JourneyType
from schemas.handovers import Handover
from schemas.measures import PACK_DELTA, PackDay
from tests.records import handover_data, new_id, reference_ids

FROM, TO = date(2026, 1, 1), date(2026, 12, 31)


def _direct(scope: list[int], date_from: date, date_to: date) -> dict[str, Any]:
    """The pack's figures computed from every note, as the pack did before the summary."""
    with open_session(write=False) as session:
        notes = [
            n
            for n in session.execute(select(Handover)).scalars()
            if n.partner_id in scope and date_from <= london_day(n.occurred_at) <= date_to
        ]
    concerns = [n for n in notes if n.note_type == "concern"]
    praise = [n for n in notes if n.note_type == "good_practice"]
    categories = Counter(c for n in concerns for c in n.categories)
    went_well = Counter(g for n in praise for g in n.good_practice)
    journeys = Counter(n.journey_type or "not_recorded" for n in concerns)
    delays = sorted(n.delay_minutes for n in concerns if n.delay_minutes is not None)
    by_journey = [(j.value, journeys[j.value]) for j in JourneyType if journeys[j.value]]
    if journeys["not_recorded"]:
        by_journey.append(("not_recorded", journeys["not_recorded"]))
    newest = sorted(notes, key=lambda n: n.occurred_at, reverse=True)
    raised = [
        n for n in newest if n.status in {"raised_with_partner", "resolved"} or n.partner_response
    ]
    return {
        # The notes shown: the newest of the organisation and its sites together, then those
        # raised with the partner.
        "notes": [(n.occurred_at, n.narrative) for n in newest[:MAX_NARRATIVES]],
        "responses": [(n.occurred_at, n.narrative) for n in raised[:MAX_NARRATIVES]],
        "total": len(concerns),
        "good_practice_total": len(praise),
        "by_category": [(c.value, categories[c.value]) for c in Category if categories[c.value]],
        "by_good_practice": [
            (g.value, went_well[g.value]) for g in GoodPractice if went_well[g.value]
        ],
        "by_journey": by_journey,
        "delays_recorded": len(delays),
        "delay_median": float(statistics.median(delays)) if delays else None,
        # Nearest rank: the smallest delay with at least 90% of delays at or below it.
        "delay_p90": float(delays[-(-len(delays) * 9 // 10) - 1]) if delays else None,
        "delay_total": sum(delays),
        "harm_moderate_or_worse": sum(
            1 for n in concerns if n.harm in {"moderate", "severe", "death"}
        ),
    }


def _pack(partner_id: int, date_from: date = FROM, date_to: date = TO) -> dict[str, Any]:
    with open_session(write=False) as session:
        pack = build_pack(session, partner_id, date_from, date_to)
    figures = {key: getattr(pack, key) for key in _direct([partner_id], FROM, TO)}
    for key in ("notes", "responses"):
        figures[key] = [(n.occurred_at, n.narrative) for n in figures[key]]
    return figures


def _assert_packs_agree(organisation: int, site: int, other: int) -> None:
    for partner_id, scope in (
        (organisation, [organisation, site]),
        (site, [site]),
        (other, [other]),
    ):
        assert _pack(partner_id) == _direct(scope, FROM, TO)
    # A period that ends and starts mid-way, London days either side of the clocks going forward.
    narrow = (date(2026, 3, 29), date(2026, 6, 1))
    assert _pack(organisation, *narrow) == _direct([organisation, site], *narrow)


def _send(crew: Any, **data: Any) -> dict[str, Any]:
    body = {"id": new_id(), **handover_data(**data)}
    assert crew.post("/api/v1/handovers", json=body).status_code == 201
    return body


def test_the_pack_figures_equal_a_direct_computation_from_the_notes(
    crew: Any, manager: Any
) -> None:
    ids = reference_ids()
    organisation, other = ids["partners"][0], ids["partners"][1]
    with open_session(write=True) as session:
        site = Partner(name="Riverside Minor Injuries", kind="hospital", parent_id=organisation)
        session.add(site)
        session.commit()
        site_id = int(site.id)  # type: ignore[arg-type]
    rng = random.Random(13)
    moments = [
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # Saturday night, GMT
        datetime(2026, 3, 29, 23, 30, tzinfo=UTC),  # 00:30 Monday in London (BST)
        datetime(2026, 6, 1, 22, 59, tzinfo=UTC),  # 23:59 in London on the last day of `narrow`
        datetime(2026, 6, 1, 23, 1, tzinfo=UTC),  # 00:01 the day after, in London
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST, the night the clocks go back
        datetime(2025, 12, 31, 23, 59, tzinfo=UTC),  # before the period
    ]
    sent = []
    for number in range(24):
        sent.append(
            _send(
                crew,
                occurred_at=(
                    moments[number % len(moments)] + timedelta(seconds=number)
                ).isoformat(),
                narrative=f"Note {number}: waited in the corridor.",
                partner_id=(organisation, site_id, other)[number % 3],
                categories=rng.sample([c.value for c in Category], k=rng.randint(1, 3)),
                journey_type=rng.choice([None, *(j.value for j in JourneyType)]),
                harm=rng.choice([None, "none", "low", "moderate", "severe", "death"]),
                delay_minutes=rng.choice([None, 0, 7, 7, 45, 180, 1440]),
            )
        )
    good = [
        _send(
            crew,
            note_type="good_practice",
            categories=[],
            good_practice=rng.sample([g.value for g in GoodPractice], k=2),
            harm=None,
            delay_minutes=None,
            occurred_at=(moments[i] + timedelta(seconds=30 + i)).isoformat(),
            partner_id=(organisation, site_id)[i % 2],
        )
        for i in range(4)
    ]
    _assert_packs_agree(organisation, site_id, other)

    # Replays (the same note again, alone and through a sync batch) change nothing.
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
    # A status move and a reply from the partner's side change no count.
    assert (
        manager.post(
            f"/api/v1/handovers/{sent[2]['id']}/transitions", json={"to": "reviewed"}
        ).status_code
        == 200
    )
    _assert_packs_agree(organisation, site_id, other)

    def edit(record: dict[str, Any], **values: Any) -> None:
        with open_session(write=True) as session:
            session.execute(
                update(Handover).where(Handover.id == uuid.UUID(record["id"])).values(**values)
            )
            session.commit()

    edit(sent[3], partner_id=other)  # moved to another partner
    edit(sent[4], occurred_at=datetime(2026, 7, 14, 9, tzinfo=UTC))  # another day
    edit(sent[5], occurred_at=datetime(2025, 6, 1, tzinfo=UTC))  # out of the period
    edit(sent[6], delay_minutes=999)
    edit(sent[7], delay_minutes=None)
    edit(sent[8], note_type="good_practice", good_practice=["quick_handover"])
    edit(good[0], note_type="concern", categories=["other"], delay_minutes=30)
    edit(sent[9], categories=["handover_delay", "access_or_parking"], journey_type=None)
    edit(sent[10], harm="severe", journey_type="transfer")
    edit(good[1], good_practice=["patient_ready"])
    edit(sent[11], location_detail="Resus", status="resolved")  # not counted: no change
    # Answered by their partner: listed in that partner's pack only (sent[13] is `other`'s).
    edit(sent[13], partner_response="We have added a second handover nurse.")
    edit(sent[14], status="raised_with_partner")
    with open_session(write=True) as session:
        session.execute(delete(Handover).where(Handover.id == uuid.UUID(sent[12]["id"])))
        session.execute(delete(Handover).where(Handover.id == uuid.UUID(good[2]["id"])))
        session.commit()
    _assert_packs_agree(organisation, site_id, other)

    # Folded (PostgreSQL: the deltas moved into the summary rows, migration 0016), the figures
    # are the same; then the migration's backfill (an existing trust's notes) builds the same
    # summary.
    with get_engine().begin() as connection:
        fold(connection)
    _assert_packs_agree(organisation, site_id, other)
    with open_session(write=False) as session:
        assert session.execute(select(func.count()).select_from(PACK_DELTA)).scalar() == 0
        kept = Counter(
            {
                (r.partner_id, r.day, r.kind, r.item): r.n
                for r in session.execute(select(PackDay)).scalars()
            }
        )
    migration = importlib.import_module("migrations.versions.0014_pack_day_summary")
    engine = get_engine()
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        connection.execute(delete(PackDay))
        day = migration._pg_day if postgres else migration._sqlite_day
        items = migration._pg_items if postgres else migration._sqlite_items
        for statement in migration._backfill(day, items):
            connection.execute(text(statement))
    with open_session(write=False) as session:
        rebuilt = Counter(
            {
                (r.partner_id, r.day, r.kind, r.item): r.n
                for r in session.execute(select(PackDay)).scalars()
            }
        )
    assert +rebuilt == +kept
    _assert_packs_agree(organisation, site_id, other)


def test_delay_figures_from_a_histogram_equal_those_from_the_delays() -> None:
    rng = random.Random(5)
    assert delay_figures([]) is None
    assert delay_figures([(30, 0)]) is None
    for size in (1, 2, 3, 9, 10, 11, 100, 1001):
        delays = [rng.choice([0, 1, 2, 59, 60, 1440, rng.randint(0, 1440)]) for _ in range(size)]
        ordered = sorted(delays)
        histogram = list(Counter(delays).items())
        rng.shuffle(histogram)
        assert delay_figures(histogram) == (
            size,
            float(statistics.median(delays)),
            float(ordered[-(-size * 9 // 10) - 1]),
            sum(delays),
        )
