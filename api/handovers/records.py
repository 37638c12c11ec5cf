"""How a handover note is stored from a submission: the sync kind, its row and category links."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Table
from sqlmodel import Session

from api.push import messages
from api.push import service as push
from api.reference.service import known_ids
from api.sync.kinds import RecordKind, Sender
from schemas.accounts import Partner
from schemas.enums import Role
from schemas.field_errors import FieldError
from schemas.handovers import Handover, HandoverCategory, HandoverIn

HANDOVER_TABLE: Table = Handover.__table__  # type: ignore[attr-defined]


def _row(
    record_id: uuid.UUID, data: BaseModel, sender: Sender, digest: str, now: datetime
) -> dict[str, Any]:
    assert isinstance(data, HandoverIn)
    return {
        "id": record_id,
        "occurred_at": data.occurred_at,
        "partner_id": data.partner_id,
        "location_detail": data.location_detail,
        "journey_type": str(data.journey_type) if data.journey_type else None,
        "note_type": str(data.note_type),
        "categories": [str(c) for c in data.categories],
        "good_practice": [str(g) for g in data.good_practice],
        "delay_minutes": data.delay_minutes,
        "harm": str(data.harm) if data.harm else None,
        "narrative": data.narrative,
        "immediate_action": data.immediate_action,
        "vehicle": data.vehicle,
        "status": "new",
        "reported_by": sender.id,
        "review_note": "",
        "partner_response": "",
        "raised_at": None,
        "partner_response_by": None,
        "partner_response_at": None,
        "partner_acknowledged_at": None,
        "lfpse_reference": "",
        "version": 1,
        "content_hash": digest,
        "created_at": data.created_at or now,
        "received_at": now,
        "updated_at": now,
    }


def _links(record_id: uuid.UUID, data: BaseModel) -> list[tuple[Table, dict[str, Any]]]:
    assert isinstance(data, HandoverIn)
    table: Table = HandoverCategory.__table__  # type: ignore[attr-defined]
    return [(table, {"handover_id": record_id, "category": str(c)}) for c in data.categories]


def _check_references(connection: Connection, records: list[BaseModel]) -> list[list[FieldError]]:
    notes = [r for r in records if isinstance(r, HandoverIn)]
    partners = known_ids(connection, Partner, (n.partner_id for n in notes))
    return [
        []
        if note.partner_id in partners
        else [FieldError(field="partner_id", message="Select a partner organisation from the list")]
        for note in notes
    ]


def _tell_managers_of_harm(
    session: Session, created: list[tuple[uuid.UUID, BaseModel]], sender: Sender
) -> None:
    """Moderate harm or worse reaches every manager's phone at once (no record text in it)."""
    for record_id, data in created:
        assert isinstance(data, HandoverIn)
        if data.needs_formal_report and data.harm is not None:
            message = messages.handover_harm_reported(record_id, data.harm)
            push.notify_role(
                session, Role.manager, **message.model_dump(), exclude_user_id=sender.id
            )


HANDOVER_KIND = RecordKind(
    name="handover",
    model=HandoverIn,
    table=HANDOVER_TABLE,
    owner_column="reported_by",
    link_rows=_links,
    check_references=_check_references,
    to_row=_row,
    after_create=_tell_managers_of_harm,
)
