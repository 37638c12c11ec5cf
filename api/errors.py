"""Domain errors and the one handler that answers them as JSON (API) or as a page (HTML)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.field_errors import FieldError, messages_for

logger = logging.getLogger("frontline")


class DomainError(Exception):
    status_code = 400
    default_detail = "The request could not be completed."

    def __init__(self, detail: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.default_detail)
        self.detail = detail if detail is not None else self.default_detail
        self.headers = headers or {}


class NotSignedIn(DomainError):
    status_code = 401
    default_detail = "Sign in to continue."


class Forbidden(DomainError):
    status_code = 403
    default_detail = "You do not have permission to do this."


class MustChoosePassword(Forbidden):
    """An account whose password an admin set: nothing else until they choose their own."""

    default_detail = "Choose your own password before you continue: open /account/new-password."


class CsrfRefused(Forbidden):
    default_detail = "The form expired or came from another site. Reload the page and try again."


class NotFound(DomainError):
    status_code = 404
    default_detail = "Not found."


class Conflict(DomainError):
    status_code = 409
    default_detail = "This conflicts with what is already recorded."


class PreconditionFailed(DomainError):
    status_code = 412
    default_detail = "Someone else changed this record. Reload it and try again."


class Invalid(DomainError):
    status_code = 422

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__([e.model_dump() for e in errors])
        self.errors = errors


class TooManyRequests(DomainError):
    status_code = 429
    default_detail = "Too many attempts. Wait a few minutes and try again."

    def __init__(self, detail: str | None = None, retry_after: int = 60) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(DomainError):
    status_code = 503
    default_detail = "The service is unavailable. Your work is safe; try again shortly."


class ErrorBody(BaseModel):
    """A refusal as a sentence to show the person."""

    detail: str


class RefusedMove(BaseModel):
    """Why a workflow move or PDSA change cannot happen from the record's status."""

    message: str
    status: str
    allowed: list[str] = []


class ConflictBody(BaseModel):
    detail: str | RefusedMove


class FieldErrorsBody(BaseModel):
    """Every 422, from request parsing or a service: one message per field (SPEC §6)."""

    detail: list[FieldError]


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
_ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Not signed in, or the session has ended"},
    403: {
        "model": ErrorBody,
        "description": "The role does not allow it, or (unsafe methods) the CSRF token is missing "
        "or wrong, or the request came from another site",
    },
    404: {"model": ErrorBody, "description": "No such record, or not one the caller may see"},
    409: {"model": ConflictBody, "description": "Conflicts with what is already recorded"},
    412: {"model": ErrorBody, "description": "If-Match names a version that is no longer current"},
    413: {"model": ErrorBody, "description": "The request body is larger than 1 MiB"},
    422: {"model": FieldErrorsBody, "description": "Field-level validation errors"},
    428: {"model": ErrorBody, "description": "If-Match is required"},
    429: {
        "model": ErrorBody,
        "description": "Too many writes in a minute",
        "headers": _RETRY_AFTER,
    },
    503: {
        "model": ErrorBody,
        "description": "The database is unavailable; nothing was stored",
        "headers": _RETRY_AFTER,
    },
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses=` entries for the refusals a route really gives."""
    return {code: _ERROR_RESPONSES[code] for code in codes}


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in {"/openapi.json", "/healthz"}


def _page_error(request: Request, status: int, detail: Any, headers: dict[str, str]) -> Response:
    from api.templating import render

    message = detail if isinstance(detail, str) else "The request could not be completed."
    return render(
        request,
        "error.html",
        {"status": status, "message": message},
        status_code=status,
        headers=headers,
    )


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if wants_json(request):
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    if isinstance(exc, MustChoosePassword):
        return RedirectResponse("/account/new-password", status_code=303)
    if isinstance(exc, NotSignedIn):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return _page_error(request, exc.status_code, exc.detail, exc.headers)


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = messages_for(exc.errors())
    if wants_json(request):
        return JSONResponse({"detail": [e.model_dump() for e in errors]}, 422)
    return _page_error(request, 422, "; ".join(e.message for e in errors), {})


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI answers a JSON body that is not UTF-8 with a bare 400, where malformed JSON gets
        # a 422: both are invalid input, so both get the one field-level answer (SPEC §6).
        not_json = RequestValidationError([{"type": "json_invalid", "loc": ("body",)}])
        return await handle_validation_error(request, not_json)
    headers = dict(exc.headers or {})
    if wants_json(request) or exc.status_code == 413:
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=headers)
    detail = "Page not found." if exc.status_code == 404 else exc.detail
    return _page_error(request, exc.status_code, detail, headers)


# PostgreSQL's "read-only SQL transaction": a standby, or default_transaction_read_only. psycopg
# counts it an InternalError, yet it is the database refusing writes, not a fault of the request.
READ_ONLY_SQLSTATE = "25006"


def database_fault(exc: DBAPIError) -> str | None:
    """The driver's name for a fault of the database itself (unreachable, locked past its timeout,
    read-only, out of disk or other resources), which a client should simply retry later; None for
    any other database error, which is a bug of ours and stays a plain 500."""
    orig = exc.orig
    name = getattr(orig, "sqlite_errorname", None) or type(orig).__name__
    # sqlite3 raises OperationalError for SQLITE_FULL, SQLITE_READONLY, SQLITE_BUSY and
    # SQLITE_CANTOPEN; psycopg for a lost connection and SQLSTATE classes 08, 40, 53, 57.
    if isinstance(exc, OperationalError | InterfaceError):
        return name
    if getattr(orig, "sqlstate", None) == READ_ONLY_SQLSTATE:
        return name
    return None


async def handle_database_error(request: Request, exc: Exception) -> Response:
    """The database is down, locked, full or read-only: a generic 503 with Retry-After, never a
    stack trace, and never an acknowledgement (the phone keeps its queue and retries). The request's
    transaction was rolled back whole, so nothing of a batch was kept."""
    assert isinstance(exc, DBAPIError)
    fault = database_fault(exc)
    if fault is None:
        raise exc  # CatchAll answers it as a plain 500
    logger.error("database unavailable", extra={"event": "db_unavailable", "error": fault})
    return await handle_domain_error(request, ServiceUnavailable(headers={"Retry-After": "30"}))


async def handle_unstorable_text(request: Request, exc: Exception) -> Response:
    """PostgreSQL text cannot hold NUL. The record models refuse it field by field
    (schemas/free_text.py); this answers any other input that carries one to the database (a
    search, a sign-in form) as the bad input it is, not as a 500."""
    assert isinstance(exc, DataError)
    if "NUL" not in str(exc.orig):
        raise exc
    message = "A value contains a character that cannot be stored (NUL); remove it"
    return await handle_domain_error(request, Invalid([FieldError(field="body", message=message)]))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(DBAPIError, handle_database_error)
    # More specific than DBAPIError, so Starlette picks it for a DataError.
    app.add_exception_handler(DataError, handle_unstorable_text)
