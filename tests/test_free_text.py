"""The blank rule's ASCII shortcut (schemas/free_text.py::visible_text, issue 16) gives what the
character-by-character rule gives, for every ASCII text: controls, whitespace and words alike."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.free_text import is_blank, is_invisible, visible_text

pytestmark = pytest.mark.no_database  # pure code (tests/conftest.py)


def visible_by_character(value: str) -> str:
    """The general rule, one character at a time, as it was before the shortcut."""
    shown = "".join(" " if c.isspace() else "" if is_invisible(c) else c for c in value)
    return " ".join(shown.split())


@settings(max_examples=300, derandomize=True, database=None)
@given(st.text(st.characters(max_codepoint=127), max_size=60))
def test_ascii_text_is_seen_as_the_general_rule_sees_it(value: str) -> None:
    assert visible_text(value) == visible_by_character(value)


def test_every_ascii_control_and_space_is_handled_like_the_general_rule() -> None:
    for code in range(128):
        value = f"a{chr(code)}b {chr(code)} c{chr(code)}"
        assert visible_text(value) == visible_by_character(value), code


def test_ascii_controls_between_letters_join_them_and_whitespace_separates() -> None:
    assert visible_text("ab\x00\x07cd") == "abcd"
    assert visible_text(" one\t\ttwo\r\nthree\x1f ") == "one two three"
    assert is_blank("\x00\x01 \t\x7f")
    assert not is_blank("\x00x")


def test_text_beyond_ascii_still_takes_the_general_rule() -> None:
    assert visible_text("caf\u00e9\u200b  ok") == "caf\u00e9 ok"
    assert is_blank("\u200b\u3164 \u00a0")
