"""A partner organisation's user over HTTP: `/partner` (the notes about their organisation, a note,
acknowledge and respond; works without JavaScript), `/partner/pack` (their review pack), and the
API's `POST /api/v1/handovers/{id}/acknowledge` and `/response` (SPEC §6). The list and one note as
JSON are the handover API's own routes, which answer partners with the anonymised model."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.auth.identity import PartnerUser
from api.db import SessionDep
from api.errors import Invalid, error_responses
from api.forms import FormDep, error_context
from api.measures.partner_pack import build_pack, pack_period, trend_filters
from api.measures.series import Measure
from api.measures.service import chart
from api.partnership.service import (
    PartnerFilters,
    acknowledge,
    get_partner_note,
    list_partner_notes,
    organisation_sites,
    overdue_count,
    respond,
)
from api.reference.service import reference_data
from api.templating import render
from api.triage import query_params as qp
from api.triage.service import select_items
from schemas.enums import Category, NoteType
from schemas.field_errors import FieldError, field_errors
from schemas.handovers import PartnerNoteRead, PartnerResponseIn

api_router = APIRouter(prefix="/api/v1/handovers", tags=["partners"])
page_router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 25
DONE_MESSAGES = {
    "acknowledged": "Thank you. The trust and the crew member can see you have read this note.",
    "responded": "Your response was sent. The crew member and the trust's managers can read it.",
}


@api_router.post(
    "/{note_id}/acknowledge", response_model=PartnerNoteRead, responses=error_responses(403, 404)
)
def acknowledge_note(note_id: uuid.UUID, user: PartnerUser, session: SessionDep) -> PartnerNoteRead:
    """ "We have read this": stamped once (`partner_acknowledged_at`); again is harmless."""
    return acknowledge(session, user, note_id)


@api_router.post(
    "/{note_id}/response",
    response_model=PartnerNoteRead,
    responses=error_responses(403, 404, 413),
)
def respond_to_note(
    note_id: uuid.UUID, body: PartnerResponseIn, user: PartnerUser, session: SessionDep
) -> PartnerNoteRead:
    """The partner's answer (`body`): what they found and what they changed. It reaches the crew
    member (My submissions, push) and the trust's managers."""
    return respond(session, user, note_id, body.body)


# Pages


@page_router.get("/partner")
def partner_home(request: Request, user: PartnerUser, session: SessionDep) -> Response:
    assert user.partner_id is not None
    params = request.query_params
    sites = organisation_sites(session, user.partner_id)
    site_id = qp.positive_int(params, "site_id")
    date_from, date_to, date_errors = qp.days(params)
    filters = PartnerFilters(
        site_id=site_id if site_id in dict(sites) else None,
        category=qp.choice(params, "category", Category),
        note_type=qp.choice(params, "note_type", NoteType),
        date_from=date_from,
        date_to=date_to,
    )
    cursor = qp.text(params, "cursor", 300)
    try:
        items, next_cursor = list_partner_notes(session, user, filters, cursor, PAGE_SIZE)
    except Invalid:  # a damaged cursor from an old link: start from the first page
        items, next_cursor = list_partner_notes(session, user, filters, None, PAGE_SIZE)
    next_query = None
    if next_cursor:
        kept = [(k, v) for k, v in params.multi_items() if k != "cursor" and v]
        next_query = urlencode([*kept, ("cursor", next_cursor)])
    reference = reference_data(session)
    return render(
        request,
        "partnership/index.html",
        {
            "organisation": sites[0][1] if sites else "",
            "items": items,
            "next_query": next_query,
            "overdue": overdue_count(session, user),
            "choices": {
                "site_id": select_items(sites, filters.site_id, "All sites")
                if len(sites) > 1
                else [],
                "category": select_items(
                    [(o["value"], o["label"]) for o in reference["categories"]],
                    filters.category,
                    "Anything",
                ),
                "note_type": select_items(
                    [
                        (NoteType.concern.value, "Concerns raised with you"),
                        (NoteType.good_practice.value, "Thanks (good practice)"),
                    ],
                    filters.note_type,
                    "Concerns and thanks",
                ),
            },
            "date_from": params.get("from", ""),
            "date_to": params.get("to", ""),
            **error_context(date_errors),
        },
        status_code=422 if date_errors else 200,
    )


def _note_page(
    request: Request,
    session: SessionDep,
    user: Any,
    note_id: uuid.UUID,
    *,
    form: dict[str, Any] | None = None,
    errors: Any = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    note = get_partner_note(session, user, note_id)
    return render(
        request,
        "partnership/note.html",
        {"note": note, "form": form or {}, "message": message, **error_context(errors or [])},
        status_code=status_code,
    )


@page_router.get("/partner/notes/{note_id}")
def partner_note(
    note_id: uuid.UUID, request: Request, user: PartnerUser, session: SessionDep
) -> Response:
    done = request.query_params.get("done", "")
    return _note_page(request, session, user, note_id, message=DONE_MESSAGES.get(done))


@page_router.post("/partner/notes/{note_id}/acknowledge")
def partner_acknowledge_form(
    note_id: uuid.UUID, user: PartnerUser, session: SessionDep
) -> Response:
    acknowledge(session, user, note_id)
    return RedirectResponse(f"/partner/notes/{note_id}?done=acknowledged", status_code=303)


@page_router.post("/partner/notes/{note_id}/response")
def partner_response_form(
    note_id: uuid.UUID, request: Request, user: PartnerUser, session: SessionDep, form: FormDep
) -> Response:
    text = str(form.get("body", ""))
    try:
        body = PartnerResponseIn(body=text)
    except ValidationError as exc:
        # `body` is named "Comment" for the managers' comment boxes; on this form it is a response.
        errors = [
            FieldError(
                field=e.field,
                message=e.message.replace("Comment", "Your response").replace(
                    "comment", "your response"
                ),
            )
            for e in field_errors(exc)
        ]
        return _note_page(
            request, session, user, note_id, form={"body": text}, errors=errors, status_code=422
        )
    respond(session, user, note_id, body.body)
    return RedirectResponse(f"/partner/notes/{note_id}?done=responded", status_code=303)


@page_router.get("/partner/pack")
def partner_pack(request: Request, user: PartnerUser, session: SessionDep) -> Response:
    """Their own organisation's review pack: the trust's pack builder and chart, for their
    organisation; the figures cover every note about it, the narratives only those shared with it."""
    assert user.partner_id is not None
    date_from, date_to, errors = pack_period(request.query_params)
    pack = build_pack(session, user.partner_id, date_from, date_to)
    trend = chart(
        session,
        Measure.handovers_per_week,
        trend_filters(session, user.partner_id, date_from, date_to),
        title=f"Handover concerns per week: {pack.partner.name}",
    )
    return render(
        request,
        "measures/partner.html",
        {
            "pack": pack,
            "trend": trend,
            **error_context(errors),
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            # The partner's own view of the same pack (see the template).
            "partner_view": True,
        },
        status_code=422 if errors else 200,
    )
