"""The partnership review pack for one partner organisation and period (SPEC §8): what went wrong,
how long crews waited, what went well, the trend, the notes themselves without crew names, and what
the partner said. An organisation's pack covers its sites (`partner.parent_id`, one level); a
site's pack covers the site. `build_pack` takes only the partner id and dates, so a partner user's
own view can call it too."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session

from api.errors import NotFound
from api.filtering import london_day_range
from api.measures.series import Filters, Measure, first_day, partner_scope
from api.measures.summary import fold_before_reading, pack_rows
from api.triage import query_params as qp
from schemas.accounts import Partner
from schemas.enums import Category, GoodPractice, JourneyType, NoteType, label
from schemas.field_errors import FieldError
from schemas.free_text import MAX_RECORD_ID
from schemas.handovers import RAISED_WITH_PARTNER_SQL, Handover
from schemas.timestamps import LONDON, london_time, utcnow

MAX_NARRATIVES = 200


@dataclass(frozen=True)
class PackNote:
    """A note as the partner may read it: no crew member, no call sign."""

    occurred_at: object
    note_type: str
    good_practice: list[str]
    location_detail: str
    journey_type: str | None
    categories: list[str]
    delay_minutes: int | None
    harm: str | None
    narrative: str
    immediate_action: str
    status: str
    partner_response: str
    # Made once here rather than by template filters for each of up to 400 notes (a pack's
    # render time, bench/measures.py).
    when: str = ""
    what: str = ""
    status_text: str = ""


@dataclass
class PartnerPack:
    partner: Partner
    date_from: date
    date_to: date
    sites: list[Partner] = field(default_factory=list)  # covered besides the partner itself
    total: int = 0  # concerns
    good_practice_total: int = 0
    by_good_practice: list[tuple[str, int]] = field(default_factory=list)
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


def _nth(histogram: list[tuple[int, int]], rank: int) -> int:
    """The rank-th smallest (1-based) value of a (value, count) histogram sorted by value."""
    seen = 0
    for value, count in histogram:
        seen += count
        if seen >= rank:
            return value
    raise ValueError("rank beyond the histogram")


def delay_figures(histogram: list[tuple[int, int]]) -> tuple[int, float, float, int] | None:
    """(how many, median, nearest-rank 90th percentile, total) of the delays counted per minute:
    the same figures as `statistics.median` and the nearest rank ceil(0.9 n) over the delays
    themselves: the 90th percentile is a delay that 9 in 10 waits did not exceed."""
    ordered = sorted((minutes, count) for minutes, count in histogram if count > 0)
    n = sum(count for _, count in ordered)
    if n == 0:
        return None
    middle = (n + 1) // 2
    low = _nth(ordered, middle)
    median = float(low) if n % 2 else (low + _nth(ordered, middle + 1)) / 2
    p90 = float(_nth(ordered, max(1, -(-n * 90 // 100))))
    return n, median, p90, sum(minutes * count for minutes, count in ordered)


def _counts(session: Session, scope: list[int], date_from: date, date_to: date) -> Counter[Any]:
    """The pack's counts of the period, (kind, item) -> n, from the per-day summary `pack_day`
    (kept by triggers, migration 0014): a few thousand small rows however many notes there are."""
    fold_before_reading(session)
    summary = pack_rows(session)  # on PostgreSQL with the deltas not yet folded (summary.py)
    rows = session.execute(
        select(summary.c.kind, summary.c.item, func.sum(summary.c.n))
        .where(
            summary.c.partner_id.in_(scope),
            summary.c.day >= date_from,
            summary.c.day <= date_to,
        )
        .group_by(summary.c.kind, summary.c.item)
    )
    return Counter({(kind, item): int(n) for kind, item, n in rows if n})


def build_pack(session: Session, partner_id: int, date_from: date, date_to: date) -> PartnerPack:
    """Figures from the per-day summary (never the notes); the notes themselves only for the 200
    newest shown and the 200 newest raised with the partner (an indexed, limited read)."""
    partner = session.get(Partner, partner_id) if 0 < partner_id <= MAX_RECORD_ID else None
    if partner is None:
        raise NotFound("No partner organisation has this id.")
    start, end = london_day_range(date_from, date_to)
    scope = partner_scope(session, partner_id)
    counts = _counts(session, scope, date_from, date_to)
    pack = PartnerPack(
        partner=partner,
        date_from=date_from,
        date_to=date_to,
        total=counts[("note", NoteType.concern.value)],
        good_practice_total=counts[("note", NoteType.good_practice.value)],
    )
    pack.sites = [p for p in (session.get(Partner, i) for i in scope[1:]) if p is not None]
    pack.by_good_practice = [
        (g.value, counts[("good_practice", g.value)])
        for g in GoodPractice
        if counts[("good_practice", g.value)]
    ]
    pack.by_category = [
        (c.value, counts[("category", c.value)]) for c in Category if counts[("category", c.value)]
    ]
    pack.by_journey = [
        (j.value, counts[("journey", j.value)]) for j in JourneyType if counts[("journey", j.value)]
    ]
    if counts[("journey", "not_recorded")]:
        pack.by_journey.append(("not_recorded", counts[("journey", "not_recorded")]))
    delays = delay_figures(
        [(int(item), n) for (kind, item), n in counts.items() if kind == "delay"]
    )
    if delays is not None:
        pack.delays_recorded, pack.delay_median, pack.delay_p90, pack.delay_total = delays
    pack.harm_moderate_or_worse = sum(counts[("harm", h)] for h in ("moderate", "severe", "death"))
    pack.notes = _newest(session, scope, start, end)
    pack.notes_truncated = pack.total + pack.good_practice_total > MAX_NARRATIVES
    pack.responses = _newest(
        session,
        scope,
        start,
        end,
        text(RAISED_WITH_PARTNER_SQL),
    )
    return pack


def _newest(
    session: Session, scope: list[int], start: datetime, end: datetime, *where: Any
) -> list[PackNote]:
    """The newest MAX_NARRATIVES notes of the period, only the columns a partner may read, as plain
    rows (no ORM objects to build and track). One query per partner in scope, each walking the
    (partner_id, occurred_at) index backwards and stopping at the limit: one IN over an
    organisation and its sites would read and sort every note of the period instead."""
    columns = [getattr(Handover, c) for c in NOTE_COLUMNS]
    rows = [
        row
        for partner_id in scope
        for row in session.execute(
            select(*columns)
            .where(
                Handover.partner_id == partner_id,
                Handover.occurred_at >= start,
                Handover.occurred_at < end,
                *where,
            )
            .order_by(Handover.occurred_at.desc())  # type: ignore[attr-defined]
            .limit(MAX_NARRATIVES)
        )
    ]
    if len(scope) > 1:
        rows.sort(key=lambda row: row.occurred_at, reverse=True)
    return [_for_partner(row) for row in rows[:MAX_NARRATIVES]]


NOTE_COLUMNS = (
    "occurred_at",
    "note_type",
    "good_practice",
    "location_detail",
    "journey_type",
    "categories",
    "delay_minutes",
    "harm",
    "narrative",
    "immediate_action",
    "status",
    "partner_response",
)


def _for_partner(note: Any) -> PackNote:
    good = note.note_type == NoteType.good_practice.value
    items = note.good_practice if good else note.categories
    return PackNote(
        when=london_time(note.occurred_at).strftime("%-d %b %Y %H:%M"),
        what=", ".join(label(i) for i in items),
        status_text=label(note.status),
        occurred_at=note.occurred_at,
        note_type=note.note_type,
        good_practice=list(note.good_practice),
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


PACK_WEEKS = 26


def trend_filters(session: Session, partner_id: int, date_from: date, date_to: date) -> Filters:
    """The pack's trend chart: its period, but starting no earlier than the week of the trust's
    first handover note. Weeks before the trust used Frontline are neither zeros nor signals
    (SPEC §8): a trust whose first notes came this week would otherwise see 25 empty weeks read as
    "concerns have fallen". Weeks with no note about this partner after that are real zeros."""
    started = first_day(session, Measure.handovers_per_week, Filters(date.min, date.max))
    first = min(max(date_from, started), date_to) if started else date_from
    return Filters(first, date_to, partner_id=partner_id)


def pack_period(params: Any) -> tuple[date, date, list[FieldError]]:
    """The period of a review pack (the trust's and a partner's own): the dates asked for, or the
    last 26 weeks; a date out of range or a start after the end is named and the default used."""
    today = utcnow().astimezone(LONDON).date()
    asked_from, asked_to, errors = qp.days(params)
    date_to = asked_to or today
    date_from = asked_from or date_to - timedelta(weeks=PACK_WEEKS) + timedelta(days=1)
    if date_from > date_to:
        if not errors:
            errors = [
                FieldError(field="from", message="The start date must be on or before the end date")
            ]
        date_from, date_to = date_to - timedelta(weeks=PACK_WEEKS) + timedelta(days=1), date_to
    return date_from, date_to, errors
