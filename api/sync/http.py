"""How the single-record endpoints answer an outcome in HTTP terms."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.errors import ErrorBody
from api.sync.outcome import HTTP_STATUS, Outcome
from schemas.field_errors import FieldError

CONFLICT_DETAIL = "A different record already has this id. Send it again with a new id."
RECORD_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "An identical replay: acknowledged, nothing new stored"},
    409: {"model": ErrorBody, "description": CONFLICT_DETAIL},
}


def record_response(
    outcome: Outcome, errors: list[FieldError], read: Callable[[], BaseModel]
) -> JSONResponse:
    """201 with the record, 200 for a replay (the same body), 409 for a clash, 422 with field errors.
    The body always echoes the id on success: the phone's proof that this item arrived."""
    status = HTTP_STATUS[outcome]
    if outcome is Outcome.rejected:
        return JSONResponse({"detail": [e.model_dump() for e in errors]}, status)
    if outcome is Outcome.conflict:
        return JSONResponse({"detail": CONFLICT_DETAIL}, status)
    return JSONResponse(read().model_dump(mode="json"), status)
