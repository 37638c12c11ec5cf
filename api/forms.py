"""Reading HTML form posts into the JSON shapes of SPEC §3, and the page-side error helpers."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from api.sync.guard import limit_writes
from api.sync.ingest import submit_one
from api.sync.kinds import Sender
from api.sync.outcome import Outcome
from schemas.accounts import User
from schemas.field_errors import FieldError

# Fields (JSON names) that may repeat in a form post.
LIST_FIELDS = frozenset({"wastes", "aims", "benefits", "categories", "good_practice"})
BOOL_FIELDS = frozenset({"show_name"})
NOT_DATA = frozenset({"csrf_token", "id"})
# The handover form shows the concern and the good-practice questions together when JavaScript is
# off (a radio, once ticked, cannot be unticked): what does not apply to the chosen note type is
# not data. The JSON API stays strict. Twin: web/static/js/form-payload.js NOT_FOR_NOTE_TYPE.
NOT_FOR_NOTE_TYPE = {
    "concern": ("good_practice",),
    "good_practice": ("categories", "harm", "delay_minutes"),
}


def form_to_data(form: FormData) -> dict[str, Any]:
    """Empty inputs mean "not given", so optional fields fall back to their defaults and required
    ones get the "Enter …" message instead of a type error."""
    data: dict[str, Any] = {}
    for key in form:
        if key in NOT_DATA:
            continue
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        if key in LIST_FIELDS:
            data[key] = [v for v in values if v != ""]
        elif values and values[-1].strip() != "":
            data[key] = values[-1] if key not in BOOL_FIELDS else values[-1] == "true"
    for field in NOT_FOR_NOTE_TYPE.get(str(data.get("note_type", "")), ()):
        data.pop(field, None)
    return data


def form_values(form: FormData) -> dict[str, Any]:
    """What the person typed, to put back into the form when it is shown again with errors."""
    values: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        raw = [v for v in form.getlist(key) if isinstance(v, str)]
        values[key] = raw if key in LIST_FIELDS else (raw[-1] if raw else "")
    if "show_name" in values:
        values["show_name"] = values["show_name"] == "true"
    # Reference ids come back as numbers so the page can tick and select what was chosen.
    for key in ("team_id", "partner_id"):
        if isinstance(values.get(key), str) and values[key].isdecimal():
            values[key] = int(values[key])
    if "aims" in values:
        values["aims"] = [int(v) if v.isdecimal() else v for v in values["aims"]]
    return values


def error_context(errors: list[FieldError]) -> dict[str, Any]:
    """`errors` by field for the inputs, `error_list` for the summary (each linking to its field)."""
    return {
        "errors": {e.field: e.message for e in errors},
        "error_list": [{"text": e.message, "href": f"#{e.field}"} for e in errors],
    }


async def _read_form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(_read_form)]

STALE_FORM_NOTICE = "This form had lost its reference. Check your answers and submit again."
REUSED_FORM_NOTICE = (
    "You already sent something different from this form. To send this as a new record, "
    "check your answers and submit again."
)


def _parse_id(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class FormPage(Protocol):
    def __call__(
        self,
        request: Request,
        session: Session,
        form: dict[str, Any],
        *,
        errors: list[FieldError] | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Response: ...


def submit_form(
    request: Request, session: Session, user: User, form: FormData, kind: str, page: FormPage
) -> Response:
    """The no-JavaScript path for both record forms. The hidden id makes a double click or a
    resent form harmless: a replay is acknowledged, not stored twice."""
    values = form_values(form)
    record_id = _parse_id(values.get("id"))
    if record_id is None:
        values["id"] = str(uuid.uuid4())
        return page(request, session, values, notice=STALE_FORM_NOTICE, status_code=422)
    limit_writes(user)
    result = submit_one(session, Sender.of(user), kind, record_id, form_to_data(form))
    if result.outcome is Outcome.rejected:
        return page(request, session, values, errors=result.errors, status_code=422)
    if result.outcome is Outcome.conflict:
        values["id"] = str(uuid.uuid4())
        return page(request, session, values, notice=REUSED_FORM_NOTICE, status_code=409)
    replay = "?again=1" if result.outcome is Outcome.duplicate else ""
    return RedirectResponse(f"/submitted/{kind}/{record_id}{replay}", status_code=303)


def form_version(form: Any) -> int | None:
    """The record version a manager's form was rendered with (the page's If-Match)."""
    value = str(form.get("version", "")).strip()
    return int(value) if value.isdecimal() else None
