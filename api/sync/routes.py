"""`POST /api/v1/sync`: a batch of up to 100 records from a phone's outbox."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth.identity import SignedInUser, is_staff
from api.db import SessionDep
from api.errors import error_responses
from api.one_hop import OneHopRoute
from api.sync.guard import limit_writes
from api.sync.ingest import Submitted, ingest
from api.sync.kinds import Sender
from schemas.field_errors import FieldError

PARTNER_KINDS = frozenset({"idea"})

# One worker-thread hand-over a request (api/one_hop.py): the request a phone sends most.
router = APIRouter(prefix="/api/v1", tags=["sync"], route_class=OneHopRoute)

MAX_BATCH = 100


class SyncItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="idea or handover")
    id: str = Field(description="The client-made UUID, the same on every retry")
    data: dict[str, Any]


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[SyncItem] = Field(max_length=MAX_BATCH)


class SyncResult(BaseModel):
    id: str
    kind: str
    outcome: Literal["created", "duplicate", "rejected", "conflict"]
    errors: list[FieldError]


class SyncResponse(BaseModel):
    results: list[SyncResult]


@router.post("/sync", response_model=SyncResponse, responses=error_responses(403, 413, 429))
def sync(body: SyncRequest, user: SignedInUser, session: SessionDep) -> JSONResponse:
    """Each item is judged on its own; outcomes come back in request order. `created` and
    `duplicate` are acknowledgements (the phone may delete its copy); `rejected` carries field errors;
    `conflict` means the id already belongs to different content."""
    limit_writes(user)
    results = ingest(
        session,
        Sender.of(user),
        [Submitted(kind=i.kind, id=i.id, data=i.data) for i in body.items],
        # A partner organisation's user submits ideas, never handover notes (SPEC §2).
        allowed_kinds=None if is_staff(user) else PARTNER_KINDS,
    )
    # The answer is SyncResponse (the schema above and tests/api/test_sync.py hold it to that);
    # written as plain dicts because building and re-validating 100 models per batch cost more
    # than storing them (bench/sync_ingest.py).
    return JSONResponse(
        {
            "results": [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "outcome": r.outcome.value,
                    "errors": [{"field": e.field, "message": e.message} for e in r.errors],
                }
                for r in results
            ]
        }
    )
