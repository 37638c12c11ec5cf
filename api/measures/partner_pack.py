"""The partnership review pack for one partner organisation and period (SPEC §8): what went wrong,
how long crews waited, the trend, the notes themselves without crew names, and what the partner said."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from api.errors import NotFound
from api.filtering import london_day_range
from schemas.accounts import Partner
from schemas.enums import Category, JourneyType
from schemas.handovers import Handover

MAX_NARRATIVES = 200


@dataclass(frozen=True)
class PackNote:
    """A note as the partner may read it: no crew member, no call sign."""

    occurred_at: object
    location_detail: str
    journey_type: str | None
    categories: list[str]
    delay_minutes: int | None
    harm: str | None
    narrative: str
    immediate_action: str
    status: str
    partner_response: str


@dataclass
class PartnerPack:
    partner: Partner
    date_from: date
    date_to: date
    total: int = 0
    by_category: list[tuple[str, int]] = field(default_factory=list)
    by_journey: list[tuple[str, int]] = field(default_factory=list)
    delays_recorded: int = 0
    delay_median: float | None = None
    delay_p90: float | None = None
    delay_total: int = 0
    harm_moderate_or_worse: int = 0
    notes: list[PackNote] = field(default_factory=list)
    notes_truncated: bool = False
    responses: list[PackNote] = field(default_factory=list)


def percentile_90(values: list[int]) -> float:
    """The nearest-rank 90th percentile: a delay that 9 in 10 waits did not exceed."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * 90 // 100))  # ceil(0.9 n)
    return float(ordered[rank - 1])


def build_pack(session: Session, partner_id: int, date_from: date, date_to: date) -> PartnerPack:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("No partner organisation has this id.")
    start, end = london_day_range(date_from, date_to)
    notes = list(
        session.execute(
            select(Handover)
            .where(
                Handover.partner_id == partner_id,
                Handover.occurred_at >= start,
                Handover.occurred_at < end,
            )
            .order_by(Handover.occurred_at.desc())  # type: ignore[attr-defined]
        ).scalars()
    )
    pack = PartnerPack(partner=partner, date_from=date_from, date_to=date_to, total=len(notes))
    categories = Counter(c for n in notes for c in n.categories)
    pack.by_category = [(c.value, categories[c.value]) for c in Category if categories[c.value]]
    journeys = Counter(n.journey_type or "not_recorded" for n in notes)
    pack.by_journey = [(j.value, journeys[j.value]) for j in JourneyType if journeys[j.value]]
    if journeys["not_recorded"]:
        pack.by_journey.append(("not_recorded", journeys["not_recorded"]))
    delays = [n.delay_minutes for n in notes if n.delay_minutes is not None]
    pack.delays_recorded = len(delays)
    if delays:
        pack.delay_median = float(statistics.median(delays))
        pack.delay_p90 = percentile_90(delays)
        pack.delay_total = sum(delays)
    pack.harm_moderate_or_worse = sum(1 for n in notes if n.harm in {"moderate", "severe", "death"})
    shown = [_for_partner(n) for n in notes[:MAX_NARRATIVES]]
    pack.notes, pack.notes_truncated = shown, len(notes) > MAX_NARRATIVES
    pack.responses = [
        _for_partner(n)
        for n in notes
        if n.status in {"raised_with_partner", "resolved"} or n.partner_response
    ]
    return pack


def _for_partner(note: Handover) -> PackNote:
    return PackNote(
        occurred_at=note.occurred_at,
        location_detail=note.location_detail,
        journey_type=note.journey_type,
        categories=list(note.categories),
        delay_minutes=note.delay_minutes,
        harm=note.harm,
        narrative=note.narrative,
        immediate_action=note.immediate_action,
        status=note.status,
        partner_response=note.partner_response,
    )
