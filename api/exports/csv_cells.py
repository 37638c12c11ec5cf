"""Spreadsheet-safe CSV cells: a cell a spreadsheet could read as a formula is written as text
(OWASP CSV injection) by a leading apostrophe. That is a cell whose first character a reader can
see is `=`, `+`, `-` or `@` in any form NFKC folds to them (the full-width `＝＋－＠`, the small and
superscript signs), even behind leading spaces, tabs, line breaks or invisible characters, which
spreadsheets skip; and any cell that starts with a tab, CR or LF."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from typing import Any

from schemas.free_text import is_invisible

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
FORMULA_CHARACTERS = frozenset("=+-@")
BOM = "\ufeff"  # Excel reads UTF-8 CSV correctly only with it


def _looks_like_formula(text: str) -> bool:
    if text.startswith(FORMULA_STARTS):
        return True
    for character in text:
        if character.isspace() or is_invisible(character):
            continue
        return unicodedata.normalize("NFKC", character)[:1] in FORMULA_CHARACTERS
    return False


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if _looks_like_formula(text) else text


def csv_line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([safe_cell(v) for v in values])
    return buffer.getvalue()
