"""Constrained field types shared by the record models: free text (with the PID guard), ids, lists."""

from __future__ import annotations

import unicodedata
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


# Characters that show nothing: format characters (zero-width spaces and joiners, word joiner,
# soft hyphen, bidi marks, BOM), controls, separators, and the letters and marks fonts draw as
# blank (Hangul fillers, the braille blank, the combining grapheme joiner, variation selectors).
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp"})
_BLANK_GLYPHS = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
)


def is_invisible(character: str) -> bool:
    """Whether a character shows nothing on a page: whitespace included."""
    return (
        character in _BLANK_GLYPHS
        or unicodedata.category(character) in _INVISIBLE_CATEGORIES
        or 0xE0100 <= ord(character) <= 0xE01EF  # variation selectors supplement
    )


# In ASCII the only invisible characters are the controls and the space; the controls that are not
# whitespace are dropped, and str.split() then collapses whitespace as the general path does.
_ASCII_INVISIBLE = {c: None for c in range(128) if not chr(c).isspace() and is_invisible(chr(c))}


def visible_text(value: str) -> str:
    """What a reader sees of `value`: invisible characters dropped, spaces kept between words
    (collapsed to one). For measuring and for the blank rule, never for storing."""
    if value.isascii():
        # Most text is ASCII: one C-level pass instead of a Python call per character, which
        # was two fifths of a sync batch's CPU (issue 16). The same answer as below (tested).
        return " ".join(value.translate(_ASCII_INVISIBLE).split())
    shown = "".join(" " if c.isspace() else "" if is_invisible(c) else c for c in value)
    return " ".join(shown.split())


def is_blank(value: str) -> bool:
    """The one blank rule for every free-text field: nothing a reader could see. Text of only
    zero-width or other invisible characters used to pass as written (issue #10)."""
    return not visible_text(value)


def _require_text(min_length: int) -> AfterValidator:
    """No NUL, not blank, long enough, no NHS number: in that order (the first that fails is the
    field's error), in one validator call rather than three (issue 16: a sync batch of 100 ideas
    makes 300 of them)."""

    def check(value: str) -> str:
        _refuse_nul(value)
        stripped = visible_text(value)
        if not stripped:
            raise PydanticCustomError("text_blank", "is blank")
        if len(stripped) < min_length:
            raise PydanticCustomError("text_too_short", "is too short", {"min_length": min_length})
        return _refuse_nhs_numbers(value)

    return AfterValidator(check)


def _optional_text(value: str) -> str:
    """No NUL, no NHS number, in one validator call."""
    return _refuse_nhs_numbers(_refuse_nul(value))


def required_text(max_length: int, min_length: int = 1) -> Any:
    """Text the user must write; stored as typed, measured without surrounding spaces."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length),
        _require_text(min_length),
        # What the validator above checks, told to the API description (and so to clients and
        # the fuzzer): at least this long, and not only spaces.
        Field(json_schema_extra={"minLength": min_length, "pattern": r"\S"}),
    ]


def optional_text(max_length: int) -> Any:
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(_optional_text)]


def _unique(values: list[Any]) -> list[Any]:
    # A repeated checkbox value means nothing more; keep the first of each, in order.
    return list(dict.fromkeys(values))


unique_list = AfterValidator(_unique)
# Ids are 32-bit integers in PostgreSQL; a larger number cannot name a record (and SQLite cannot
# even bind one past 64 bits), so it is refused or not found before it reaches the database.
MAX_RECORD_ID = 2**31 - 1
RecordRef = Annotated[int, Field(gt=0, le=MAX_RECORD_ID)]
