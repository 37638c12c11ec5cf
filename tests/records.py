"""Valid record payloads built from the demo trust, for tests to vary one field at a time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from api.db import open_session
from schemas.accounts import Aim, Partner, Team


def reference_ids() -> dict[str, list[int]]:
    with open_session(write=False) as session:
        return {
            "teams": list(session.execute(select(Team.id).order_by(Team.id)).scalars()),
            "partners": list(session.execute(select(Partner.id).order_by(Partner.id)).scalars()),
            "aims": list(session.execute(select(Aim.id).order_by(Aim.id)).scalars()),
        }


def idea_data(**overrides: Any) -> dict[str, Any]:
    ids = reference_ids()
    data = {
        "title": "Book the bariatric trolley with the transport",
        "problem": "Crews wait for the trolley to arrive after they do.",
        "proposal": "Add a trolley question to the booking form.",
        "wastes": ["waiting", "motion"],
        "aims": [ids["aims"][0], ids["aims"][1]],
        "team_id": ids["teams"][0],
        "benefits": ["safety"],
        "show_name": True,
        "created_at": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
    }
    data.update(overrides)
    return data


def handover_data(**overrides: Any) -> dict[str, Any]:
    ids = reference_ids()
    data = {
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "partner_id": ids["partners"][0],
        "location_detail": "ED ambulance bay",
        "journey_type": "admission",
        "categories": ["handover_delay"],
        "delay_minutes": 45,
        "harm": "none",
        "narrative": "Waited 45 minutes in the corridor before a nurse took handover.",
        "immediate_action": "Escalated to the nurse in charge.",
        "vehicle": "PTS12",
        "created_at": (datetime.now(UTC) - timedelta(minutes=50)).isoformat(),
    }
    data.update(overrides)
    return data


def new_id() -> str:
    return str(uuid.uuid4())
