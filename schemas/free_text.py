"""Constrained field types shared by the record models: free text (with the PID guard), ids, lists."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from schemas.pid_guard import find_nhs_number


def _refuse_nhs_numbers(value: str) -> str:
    if find_nhs_number(value):
        raise PydanticCustomError("pid_detected", "contains what looks like an NHS number")
    return value


def _refuse_nul(value: str) -> str:
    # No one types NUL and PostgreSQL text cannot hold it (storing it was a 500): bad input, on
    # SQLite too.
    if "\x00" in value:
        raise PydanticCustomError("text_nul", "contains a NUL character")
    return value


no_nul = AfterValidator(_refuse_nul)


def _require_text(min_length: int) -> AfterValidator:
    def check(value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise PydanticCustomError("text_blank", "is blank")
        if len(stripped) < min_length:
            raise PydanticCustomError("text_too_short", "is too short", {"min_length": min_length})
        return value

    return AfterValidator(check)


def required_text(max_length: int, min_length: int = 1) -> Any:
    """Text the user must write; stored as typed, measured without surrounding spaces."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length),
        no_nul,
        _require_text(min_length),
        AfterValidator(_refuse_nhs_numbers),
        # What the validator above checks, told to the API description (and so to clients and
        # the fuzzer): at least this long, and not only spaces.
        Field(json_schema_extra={"minLength": min_length, "pattern": r"\S"}),
    ]


def optional_text(max_length: int) -> Any:
    return Annotated[
        str, StringConstraints(max_length=max_length), no_nul, AfterValidator(_refuse_nhs_numbers)
    ]


def _unique(values: list[Any]) -> list[Any]:
    # A repeated checkbox value means nothing more; keep the first of each, in order.
    return list(dict.fromkeys(values))


unique_list = AfterValidator(_unique)
# Ids are 32-bit integers in PostgreSQL; a larger number cannot name a record (and SQLite cannot
# even bind one past 64 bits), so it is refused or not found before it reaches the database.
MAX_RECORD_ID = 2**31 - 1
RecordRef = Annotated[int, Field(gt=0, le=MAX_RECORD_ID)]
