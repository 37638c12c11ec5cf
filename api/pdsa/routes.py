"""PDSA cycles over HTTP: `/api/v1/ideas/{id}/pdsa` for managers."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.auth.identity import ManagerUser
from api.db import SessionDep
from api.errors import error_responses
from api.pdsa.service import add_cycle, cycles_of, record_point, update_cycle
from schemas.pdsa import PdsaCycleIn, PdsaCycleRead, PdsaPointIn

router = APIRouter(prefix="/api/v1/ideas/{idea_id}/pdsa", tags=["pdsa"])


@router.get("", response_model=list[PdsaCycleRead], responses=error_responses(403))
def list_cycles(idea_id: uuid.UUID, user: ManagerUser, session: SessionDep) -> list[PdsaCycleRead]:
    return cycles_of(session, idea_id)


@router.post(
    "",
    response_model=PdsaCycleRead,
    status_code=201,
    responses=error_responses(403, 404, 409, 413),
)
def create_cycle(
    idea_id: uuid.UUID, body: PdsaCycleIn, user: ManagerUser, session: SessionDep
) -> PdsaCycleRead:
    """A new cycle; 409 unless the idea is accepted or testing."""
    return add_cycle(session, user, idea_id, body)


@router.put("/{cycle_id}", response_model=PdsaCycleRead, responses=error_responses(403, 404, 413))
def replace_cycle(
    idea_id: uuid.UUID, cycle_id: int, body: PdsaCycleIn, user: ManagerUser, session: SessionDep
) -> PdsaCycleRead:
    update_cycle(session, idea_id, cycle_id, body)
    return next(c for c in cycles_of(session, idea_id) if c.id == cycle_id)


@router.post(
    "/{cycle_id}/points", response_model=PdsaCycleRead, responses=error_responses(403, 404, 413)
)
def add_point(
    idea_id: uuid.UUID, cycle_id: int, body: PdsaPointIn, user: ManagerUser, session: SessionDep
) -> PdsaCycleRead:
    """Record the measure's value for a day (again for the same day replaces it)."""
    record_point(session, idea_id, cycle_id, body)
    return next(c for c in cycles_of(session, idea_id) if c.id == cycle_id)
