"""CSV exports for managers, streamed page by page (never the whole table in memory), with the
same filters as the lists. Reporters' names are left out of the handover export (data minimisation)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.auth.identity import ManagerUser
from api.auth.users import user_names
from api.db import open_session
from api.errors import error_responses
from api.exports.csv_cells import BOM, csv_line
from api.handovers.routes import HandoverFiltersDep
from api.handovers.service import HandoverFilters, filtered_handovers
from api.ideas.routes import IdeaFiltersDep
from api.ideas.service import ANONYMOUS, IdeaFilters, filtered_ideas
from api.pagination import page_after, split_page
from api.triage.service import names_by_id
from schemas.enums import label
from schemas.handovers import Handover
from schemas.ideas import Idea
from schemas.timestamps import london_time, utcnow

router = APIRouter(prefix="/api/v1/export", tags=["exports"])
BATCH = 500

IDEA_COLUMNS = [
    "id",
    "title",
    "problem",
    "proposal",
    "status",
    "team",
    "strategic_aims",
    "wastes",
    "benefits",
    "submitted_by",
    "received_at",
    "first_response_at",
    "owner",
    "impact",
    "effort",
]
HANDOVER_COLUMNS = [
    "id",
    "occurred_at",
    "partner",
    "location_detail",
    "journey_type",
    "categories",
    "delay_minutes",
    "harm",
    "narrative",
    "immediate_action",
    "vehicle",
    "status",
    "review_note",
    "partner_response",
    "received_at",
]


def _when(value: datetime | None) -> str:
    return london_time(value).isoformat(timespec="minutes") if value else ""


def _idea_rows(filters: IdeaFilters) -> Iterator[str]:
    yield BOM + csv_line(IDEA_COLUMNS)
    cursor = None
    while True:
        # A short read transaction per batch: a long export never holds the database.
        with open_session(write=False) as session:
            names = names_by_id(session)
            statement = filtered_ideas(session, filters, utcnow())
            rows = list(session.execute(page_after(statement, Idea, cursor, BATCH)).scalars())
            page, cursor = split_page(rows, BATCH)
            people = user_names(
                session, {i.submitted_by for i in page} | {i.owner_id for i in page if i.owner_id}
            )
        for idea in page:
            yield csv_line(
                [
                    idea.id,
                    idea.title,
                    idea.problem,
                    idea.proposal,
                    label(idea.status),
                    names["teams"].get(idea.team_id, ""),
                    "; ".join(names["aims"].get(a, str(a)) for a in idea.aims),
                    "; ".join(label(w) for w in idea.wastes),
                    "; ".join(label(b) for b in idea.benefits),
                    people.get(idea.submitted_by, "") if idea.show_name else ANONYMOUS,
                    _when(idea.received_at),
                    _when(idea.first_response_at),
                    people.get(idea.owner_id, "") if idea.owner_id else "",
                    idea.impact,
                    idea.effort,
                ]
            )
        if cursor is None:
            return


def _handover_rows(filters: HandoverFilters) -> Iterator[str]:
    yield BOM + csv_line(HANDOVER_COLUMNS)
    cursor = None
    while True:
        with open_session(write=False) as session:
            names = names_by_id(session)
            rows = list(
                session.execute(
                    page_after(filtered_handovers(filters), Handover, cursor, BATCH)
                ).scalars()
            )
            page, cursor = split_page(rows, BATCH)
        for note in page:
            yield csv_line(
                [
                    note.id,
                    _when(note.occurred_at),
                    names["partners"].get(note.partner_id, ""),
                    note.location_detail,
                    label(note.journey_type) if note.journey_type else "",
                    "; ".join(label(c) for c in note.categories),
                    note.delay_minutes,
                    label(note.harm) if note.harm else "",
                    note.narrative,
                    note.immediate_action,
                    note.vehicle,
                    label(note.status),
                    note.review_note,
                    note.partner_response,
                    _when(note.received_at),
                ]
            )
        if cursor is None:
            return


def _download(rows: Iterator[str], name: str) -> StreamingResponse:
    stamp = utcnow().strftime("%Y%m%d")
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="frontline-{name}-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/ideas.csv", response_class=StreamingResponse, responses=error_responses(403))
def export_ideas(user: ManagerUser, filters: IdeaFiltersDep) -> StreamingResponse:
    """Every idea matching the filters, newest first, as UTF-8 CSV with a header row."""
    return _download(_idea_rows(filters), "ideas")


@router.get("/handovers.csv", response_class=StreamingResponse, responses=error_responses(403))
def export_handovers(user: ManagerUser, filters: HandoverFiltersDep) -> StreamingResponse:
    """Every handover note matching the filters, newest first. Crew members are not named."""
    return _download(_handover_rows(filters), "handover-notes")
