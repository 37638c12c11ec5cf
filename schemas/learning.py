"""The shared learning library as the API returns it (SPEC §6 `GET /api/v1/learning`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from schemas.pdsa import PdsaCycleRead


class LearningItem(BaseModel):
    """An implemented or shared idea for any member of staff: what it was, what was tried (its
    PDSA cycles, each with its measure's values) and how far it has spread. The submitter shows as
    "Anonymous" when they chose so; no user ids are given."""

    id: uuid.UUID
    title: str
    problem: str
    proposal: str
    wastes: list[str]
    aims: list[int]
    aim_names: list[str]
    benefits: list[str]
    team_id: int
    team_name: str
    status: str
    submitter_name: str
    received_at: datetime
    updated_at: datetime
    pdsa: list[PdsaCycleRead]
    tried_in_teams: int
    spread_from: uuid.UUID | None


class LearningPage(BaseModel):
    items: list[LearningItem]
    next_cursor: str | None
