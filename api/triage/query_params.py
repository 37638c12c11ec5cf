"""Reading a GET filter form leniently: an empty select means "any", a value that is not one of the
choices is ignored (and said so) rather than failing the page."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TypeVar

from starlette.datastructures import QueryParams

from api.filtering import day_in_range, day_out_of_range
from schemas.field_errors import FieldError

E = TypeVar("E", bound=StrEnum)


def text(params: QueryParams, name: str, max_length: int = 200) -> str | None:
    value = (params.get(name) or "").strip()
    return value[:max_length] or None


def positive_int(params: QueryParams, name: str) -> int | None:
    value = (params.get(name) or "").strip()
    # isdecimal, not isdigit: "²" is a digit that int() cannot read.
    return int(value) if value.isdecimal() and 0 < int(value) < 2**31 else None


def choice(params: QueryParams, name: str, enum: type[E]) -> E | None:
    value = (params.get(name) or "").strip()
    return enum(value) if value in enum._value2member_map_ else None


def day(params: QueryParams, name: str) -> date | None:
    try:
        return date.fromisoformat((params.get(name) or "").strip())
    except ValueError:
        return None


def days(params: QueryParams) -> tuple[date | None, date | None, list[FieldError]]:
    """The `from` and `to` dates of a filter form: one that cannot be read is ignored as before;
    one out of range is dropped and named in the errors, for the page's error summary."""
    found: dict[str, date | None] = {}
    errors: list[FieldError] = []
    for name in ("from", "to"):
        value = day(params, name)
        if value is not None and not day_in_range(value):
            errors.append(day_out_of_range(name))
            value = None
        found[name] = value
    return found["from"], found["to"], errors
