"""Turn validation failures into the field-level messages people read (SPEC §6: field + message)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from schemas.pid_guard import find_nhs_number, pid_error


class FieldError(BaseModel):
    field: str
    message: str


FIELD_LABELS: dict[str, str] = {
    "id": "Record id",
    "title": "Title",
    "problem": "What gets in the way today",
    "proposal": "What you would change",
    "wastes": "Wastes",
    "aims": "Strategic aims",
    "team_id": "Team",
    "benefits": "Benefits",
    "show_name": "Show my name",
    "created_at": "Created at",
    "occurred_at": "When it happened",
    "partner_id": "Partner organisation",
    "location_detail": "Where exactly",
    "journey_type": "Journey type",
    "note_type": "Type of note",
    "categories": "What went wrong",
    "good_practice": "What went well",
    "lfpse_reference": "LFPSE reference",
    "delay_minutes": "Delay in minutes",
    "harm": "Harm",
    "narrative": "What happened",
    "immediate_action": "What was done at the time",
    "vehicle": "Vehicle call sign",
    "email": "Email address",
    "password": "Password",
    "name": "Full name",
    "plan": "Plan",
    "start_date": "Start date",
    "end_date": "End date",
    "measure_name": "Measure",
    "day": "Date",
    "value": "Value",
    "q": "Search words",
    "note": "Note",
    "equity_note": "Equity Pause",
    "body": "Comment",
    "equity_prompt": "Who could be left out",
    "spread_from": "The idea you are trying",
    "from": "From date",
    "to": "To date",
    "target": "Target",
    "baseline_to": "Baseline ends",
    "kind": "Type of mark",
    "text": "What it says",
}

# The dates a list, a measure or an export may be asked about (api/filtering.py::FilterDay).
DAY_RANGE = "must be a date from 1 January 2000 to 31 December 2099"

# What to say when a required field is missing or empty: the action the person must take.
REQUIRED_MESSAGES: dict[str, str] = {
    "title": "Enter a title",
    "problem": "Enter what gets in the way today",
    "proposal": "Enter what you would change",
    "aims": "Select at least one strategic aim",
    "team_id": "Select your team",
    "occurred_at": "Enter when it happened",
    "partner_id": "Select the partner organisation",
    "categories": "Select at least one thing that went wrong",
    "good_practice": "Select at least one thing that went well",
    "narrative": "Describe what happened",
    "id": "A record id (UUID) is required",
    "kind": "Select a change of limits or a note",
    "text": "Enter what changed, or the note",
}


# A number out of range: the bound's key in the error's context, and how to say it.
RANGE_WORDS: dict[str, tuple[str, str]] = {
    "greater_than": ("gt", "more than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def label_for(field: str) -> str:
    return FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


def _message(field: str, error: Any) -> str:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    label = label_for(field)
    if kind in {"missing", "text_blank"} or (kind == "too_short" and field in REQUIRED_MESSAGES):
        return REQUIRED_MESSAGES.get(field, f"Enter {label.lower()}")
    if kind == "text_nul":
        return f"{label} contains a character that cannot be stored (NUL); remove it"
    if kind == "pid_detected":
        return pid_error(label)
    if kind == "string_too_long":
        return f"{label} must be {ctx.get('max_length')} characters or fewer"
    if kind == "text_too_short":
        return f"{label} must be at least {ctx.get('min_length')} characters"
    if kind == "too_long":
        return f"{label}: choose at most {ctx.get('max_length')}"
    if kind == "enum":
        return f"Select a valid option for {label.lower()}"
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return f"{label} must be a whole number"
    if kind in RANGE_WORDS:
        if field == "delay_minutes":
            return "Delay in minutes must be between 0 and 1440 (24 hours)"
        if field.endswith("_id") or field in {"aims", "aim"}:
            return f"{label} must refer to an existing record"
        limit_key, words = RANGE_WORDS[kind]
        return f"{label} must be {words} {_number(ctx.get(limit_key))}"
    if kind == "in_future":
        return f"{label} must not be in the future"
    if kind == "not_for_concern":
        return "Choose good practice to say what went well, or leave it empty on a concern"
    if kind == "not_for_good_practice":
        return f"{label} does not apply to a good-practice note; leave it empty"
    if kind == "end_before_start":
        return "The end date must be on or after the start date"
    if kind == "date_out_of_range":
        return f"{label} {DAY_RANGE}"
    if kind == "too_early":
        return f"{label} must be after 1 January 2000"
    if kind in {"datetime_parsing", "datetime_type", "datetime_from_date_parsing"}:
        return f"{label} must be a date and time, for example 2026-11-24T14:30"
    if kind == "datetime_out_of_range":
        return f"{label} must be a date and time between the years 1 and 9999"
    if kind == "string_unicode":
        return f"{label} must be text (it holds characters that are not)"
    if kind == "timezone_aware":
        return f"{label} must include a time zone offset, for example 2026-11-24T14:30:00+00:00"
    if kind == "extra_forbidden":
        return f"{field} cannot be set by the app; remove it"
    if kind in {"bool_parsing", "bool_type"}:
        return f"{label} must be yes or no"
    if kind in {"list_type"}:
        return f"{label} must be a list"
    if kind in {"string_type"}:
        return f"{label} must be text"
    if kind in {"uuid_parsing", "uuid_type", "uuid_version"}:
        return f"{label} must be a UUID"
    if kind in {"float_parsing", "float_type", "finite_number"}:
        return f"{label} must be a number, for example 12 or 4.5"
    if kind in {
        "date_parsing",
        "date_type",
        "date_from_datetime_parsing",
        "date_from_datetime_inexact",
    }:
        return f"{label} must be a real date, for example 2026-11-24"
    return f"{label}: {error.get('msg', 'is not valid')}"


def field_errors(exc: ValidationError) -> list[FieldError]:
    return messages_for(exc.errors(include_url=False))


def messages_for(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """One message per field (the first problem found), in the order the errors came. Locations
    from a request ("body", "query", "path") name the field, not where it travelled."""
    seen: dict[str, FieldError] = {}
    for error in errors:
        loc = [p for p in error.get("loc", ()) if p not in {"body", "query", "path", "header"}]
        if error.get("type") == "json_invalid":
            seen.setdefault("body", FieldError(field="body", message="The body is not valid JSON"))
            continue
        field = next((str(part) for part in loc if isinstance(part, str)), "body")
        if field not in seen:
            seen[field] = FieldError(field=field, message=_message(field, error))
    return list(seen.values())


def in_form_order(errors: Iterable[FieldError], fields: tuple[str, ...]) -> list[FieldError]:
    """One error a field, listed as the form asks its fields (an error summary reads top down);
    a field the form does not name goes last."""
    seen: dict[str, FieldError] = {}
    for error in errors:
        seen.setdefault(error.field, error)
    return sorted(seen.values(), key=lambda e: fields.index(e.field) if e.field in fields else 99)


def nhs_number_problems(
    texts: Mapping[str, str], labels: Mapping[str, str] | None = None
) -> list[FieldError]:
    """SPEC §3.3 for free text that is not part of a record model (a manager's note, comment or
    Equity Pause answer, a person's name, a team's, partner's or aim's name and description): one
    field error for each field that carries what looks like an NHS number, named by ``labels``
    (default FIELD_LABELS). The records use the same check through schemas/free_text.py."""
    names = {**FIELD_LABELS, **(labels or {})}
    return [
        FieldError(field=name, message=pid_error(names.get(name, "")))
        for name, text in texts.items()
        if find_nhs_number(text)
    ]
