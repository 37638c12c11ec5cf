"""Reading a GET filter form leniently: an empty select means "any", a value that is not one of the
choices is ignored (and said so) rather than failing the page."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TypeVar

from starlette.datastructures import QueryParams

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
