"""Patient-identifiable data guard (product spec §3.3).

Free text in Frontline must not carry patient identifiers. The one identifier
we can recognise reliably is the NHS number, so any free-text field containing
one is refused with a message naming the field: in the browser before submit
(``web/static/js/pid-guard.js``, which must give the same answers) and by the
server (422). Both sides are tested against ``tests/vectors/nhs_numbers.json``.

Text is first normalised the way a person reads it (SPEC §3.3), so that the
guard cannot be stepped round with characters that look the same:

* Each code point goes through Unicode NFKC (full-width ``９``, circled ``⑨``,
  mathematical ``𝟗`` become ASCII digits; a non-breaking space becomes a
  space). Decimal digits of other scripts (Arabic-Indic ``٩``, Devanagari
  ``९`` ...) become ``0-9`` by :data:`DIGIT_ZEROS`, a fixed table both sides
  share, so they agree whatever Unicode version each knows.
* Invisible format characters (category Cf: zero-width spaces and joiners,
  soft hyphen, word joiner, BOM, direction marks) and combining marks
  (categories Mn, Me: a keycap ``9️⃣`` is a 9) are removed.

Then the text is read as *digit groups* (maximal runs of ``0-9``). Two groups
belong to the same *chain* when only :data:`SEPARATORS` stand between them:
any run of spaces (tabs, newlines, non-breaking and other Unicode spaces),
dashes (every Unicode dash and the minus sign), dots, slashes and underscores
counts as one separator. Anything else (a letter, ``:``, ``,``, brackets)
ends the chain. A *candidate* is any run of whole consecutive groups in a
chain holding exactly ten digits, so every grouping counts: ``9434765919``,
``943 476 5919``, ``9434 765 919``, ``9 4 3 4 7 6 5 9 1 9``,
``943.476.5919``, ``943  /  476__5919``. A group is never split, so a longer
run of digits (``129434765919``) holds no candidate, and neither do UK phone
numbers in their usual groupings (11 digits: ``07700 900 123``,
``01632 960123``, ``020 7946 0123``): no run of their groups adds up to ten.

Three things a person reads as something else are not digit groups at all
(they end a chain), because the corpus of realistic narratives
(``tests/vectors/pid_corpus.json``) showed them to be the main false alarms:

* a clock time: 1-2 digits up to 23, then ``:`` or ``.``, then exactly two
  digits up to 59 (``14:05``, ``9.30``), so ``12/03/2026 14:05`` is a date
  and a time, not ``1203202614``;
* a date: day 1-31, month 1-12 and a 2 or 4 digit year (or ISO year first),
  joined by the same single ``/``, ``-`` or ``.`` (``12/03/2026``);
* a UK phone number written internationally: ``+44`` (optionally ``(0)``)
  and the groups after it in its chain, up to the ten digits of a UK
  national number (``+44 7700 900123``, ``+44 (0)20 7946 0123``).

A candidate is refused only when its digits pass the NHS modulus 11 check and
are not one digit repeated ten times. Every repeated-digit number (0000000000,
1111111111, ... 9999999999) happens to pass modulus 11, so they must be
excluded by name. They are placeholders, not real numbers.

About 9% of random 10-digit strings pass modulus 11, so a genuine reference
number will sometimes be refused. So a candidate written directly after a
recognised reference prefix (:data:`REFERENCE_PREFIXES`, e.g. ``ref``,
``booking``, ``datix``) is someone else's reference, not an NHS number, and
the message tells the user to write ``ref`` in front of a reference number.
The exact rule (applied to the normalised text), and why each part is there:

* Between the prefix and the digits there may be spaces, then optionally
  ``no`` or ``number``, then spaces, then optionally one of ``: # . -``, then
  spaces (``ref: 943 476 5919``, ``job no. 9434765919``, ``ref9434765919``).
  ``no``/``number`` is handled here rather than listing ``job no``,
  ``incident no`` ... so that every prefix gets it and the list stays short.
  Anything else between them (a newline, a tab, two punctuation marks)
  breaks the link, and the number is judged as usual: the rule only exempts
  what it clearly recognises.
* The prefix must be a whole word: the character before it must not be a
  word character (a Unicode letter, mark or number, or ``_``). So
  ``preference 9434765919``, ``xref 9434765919`` and ``catalog 9434765919``
  are still refused. Characters missing from Python's Unicode database count
  as word characters, so when the browser knows a newer Unicode than the
  server, the only disagreement is the server refusing (never accepting)
  what the browser let through.
* Prefixes match case-insensitively, ASCII letters only (``re.ASCII``): the
  browser's ``i`` flag without ``u`` does the same, and a lookalike such as
  the Kelvin sign must not be read as a ``k`` on one side only.
* Wording that names an NHS number never exempts. Walking back from the
  prefix over spaces, punctuation and further prefix words (and ``no``,
  ``number``), if the word reached is ``nhs`` the exemption is cancelled:
  ``nhs ref 9434765919``, ``NHS booking  ref ...`` and
  ``NHS number: ref ...`` are refused. ``NHS number 9434765919`` and ``NHS
  no: ...`` are refused anyway, since ``number`` and ``no`` are not prefixes.
  The walk crosses any punctuation, so ``...the NHS. Ref 943 476 5919`` is
  refused too: a false alarm costs an edit, a missed NHS number costs more.
* The exemption covers only the candidates starting at the first group after
  the prefix. Any other candidate in the same text is judged on its own.

The message's example reference (1234567890) also fails modulus 11 (the check
digit works out as 10), so following the example is never refused, with or
without its prefix.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

__all__ = [
    "DIGIT_ZEROS",
    "PID_MESSAGE",
    "REFERENCE_PREFIXES",
    "SEPARATORS",
    "find_nhs_number",
    "is_valid_nhs_number",
    "normalise",
    "pid_error",
]

#: Template of the user-facing message. ``{label}`` is replaced by the field's
#: label as shown on the form. The text must stay identical to the one in
#: ``web/static/js/pid-guard.js``, and to ``message_template`` in the shared
#: test vectors.
PID_MESSAGE: Final = (
    "{label} looks like it contains an NHS number. Remove patient identifiers. "
    'If it is a reference number, write "ref" in front of it, '
    'for example "booking ref 123 456 7890".'
)

#: Words that mark the number written directly after them as a reference
#: number of some other system, not an NHS number (see the module docstring
#: for the exact rule). Lower case ASCII, single words: "booking ref" is
#: "booking" then "ref", and "job no" is "job" then the connector "no". Keep
#: this short and clearly non-NHS. It must stay identical to
#: REFERENCE_PREFIXES in ``web/static/js/pid-guard.js`` and to
#: ``reference_prefixes`` in the shared test vectors. "ref" must stay in it:
#: the message tells users to write it.
REFERENCE_PREFIXES: Final = (
    "booking",
    "reference",
    "ref",
    "job",
    "incident",
    "cad",
    "datix",
    "log",
    "order",
    "invoice",
)

#: Characters that join two digit groups into one chain (any run of them is
#: one separator): spaces of every kind, every Unicode dash and the minus
#: sign, dots, slashes and underscores. Written out rather than taken from
#: Unicode categories so the browser, whatever Unicode it knows, uses the very
#: same set; equal to ``separators`` in the shared test vectors.
SEPARATORS: Final = (
    " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"  # spaces
    "-\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e17"
    "\u2e1a\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d"  # dashes
    ".\xb7\u2022\u2024\u2027\u2219\u22c5\u30fb\u3002\uff0e\uff61\uff65"  # dots
    "/\\\u2044\u2215\u29f5\u29f8\u29f9\uff0f\uff3c"  # slashes
    "_\u2017\u203f\u2040\u2054\ufe33\ufe34\ufe4d\ufe4e\ufe4f\uff3f"  # underscores
)
_SEPARATOR_SET: Final = frozenset(SEPARATORS)

#: The code point of the zero of every block of decimal digits NFKC leaves as
#: it is (ASCII, Arabic-Indic, Devanagari, ...): a digit is ``cp - zero``.
#: Fixed here, and identical in the browser, so both read the same digits.
DIGIT_ZEROS: Final = (
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6,
    0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0,
    0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0,
    0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136,
    0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950,
    0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1E140, 0x1E2F0, 0x1E950,
)  # fmt: skip

#: Words allowed between a prefix and the digits ("ref no. ...").
_CONNECTORS: Final = ("no", "number")

#: Words the walk back from a prefix passes over when looking for "nhs".
_CHAIN_WORDS: Final = frozenset(REFERENCE_PREFIXES + _CONNECTORS)

#: Used when a caller passes a blank label, so the message still starts
#: with a subject.
_FALLBACK_LABEL: Final = "This field"

_WEIGHTS: Final = (10, 9, 8, 7, 6, 5, 4, 3, 2)

_TEN_DIGITS: Final = re.compile(r"[0-9]{10}")

_DIGIT_RUN: Final = re.compile(r"[0-9]+")

#: A run of ASCII characters, or one other character (normalise() copies ASCII runs whole).
_ASCII_OR_ONE: Final = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]")

#: Any decimal digit of any script (Python's \d on str): a text whose NFKC holds fewer than ten of
#: them holds no candidate, whatever else normalising does.
_ANY_DIGIT: Final = re.compile(r"\d")

#: A reference prefix and its separator, ending exactly where a digit group
#: starts (searched in the text before the group). A search finds the
#: leftmost, so longest, prefix; whether it is a whole word and not NHS
#: wording is checked in :func:`_exempt`, because the word-character test
#: needs Unicode categories, which ``re`` does not offer.
_PREFIX_TAIL: Final = re.compile(
    r"(?:"
    + "|".join(sorted(REFERENCE_PREFIXES, key=len, reverse=True))
    + r") *(?:(?:"
    + "|".join(sorted(_CONNECTORS, key=len, reverse=True))
    + r") *)?(?:[:#.\-] *)?\Z",
    re.IGNORECASE | re.ASCII,
)

#: "+44", optionally "(0)", before the national number of a UK phone.
_UK_INTERNATIONAL: Final = re.compile(r"\+ ?44[ \-]*(?:\( ?0 ?\)[ \-]*)?(?=[0-9])")

#: A UK national number has at most ten digits after its trunk 0 or +44.
_UK_NATIONAL_DIGITS: Final = 10


def _is_word_char(char: str) -> bool:
    """Whether ``char`` (one code point) can be part of a word.

    Letters, marks and numbers in any script, and ``_``. Unassigned code
    points count too, so a character newer than this Python's Unicode
    database makes the server stricter, never more lenient, than a browser.
    """
    if char == "_":
        return True
    category = unicodedata.category(char)
    return category[0] in "LMN" or category == "Cn"


def _word_before(text: str, end: int) -> tuple[str, int]:
    """The last word ending at or before ``end``, and where it starts.

    Non-word characters directly before ``end`` are skipped. Returns
    ``("", 0)`` when there is no word before.
    """
    stop = end
    while stop > 0 and not _is_word_char(text[stop - 1]):
        stop -= 1
    start = stop
    while start > 0 and _is_word_char(text[start - 1]):
        start -= 1
    return text[start:stop], start


def _names_nhs_number(text: str, prefix_start: int) -> bool:
    """Whether the word "nhs" comes before the prefix starting at ``prefix_start``.

    The walk back passes over non-word characters and over further prefix
    and connector words, so "NHS booking ref", "NHS no. ref" and "nhs-ref"
    all count. Such wording names the number as an NHS number, so it must
    not be exempted.
    """
    end = prefix_start
    while True:
        word, end = _word_before(text, end)
        lowered = word.lower() if word.isascii() else ""
        if lowered == "nhs":
            return True
        if lowered not in _CHAIN_WORDS:
            return False


_ZEROS: Final = frozenset(DIGIT_ZEROS)


def _ascii_digit(char: str) -> str | None:
    """The ASCII digit a decimal digit of any script in :data:`DIGIT_ZEROS` stands for."""
    value = unicodedata.decimal(char, None)
    if value is None or ord(char) - value not in _ZEROS:
        return None
    return chr(0x30 + value)


def _normalise(text: str, with_origins: bool) -> tuple[str, list[int], list[int]]:
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for run in _ASCII_OR_ONE.finditer(text):
        index = run.start()
        char = run.group()
        if char[0].isascii():
            # A run of ASCII is its own NFKC: copied whole (most text is mostly ASCII).
            out.append(char)
            if with_origins:
                starts.extend(range(index, run.end()))
                ends.extend(range(index + 1, run.end() + 1))
            continue
        if unicodedata.category(char) in {"Cf", "Mn", "Me"}:
            continue
        for piece in unicodedata.normalize("NFKC", char):
            if not piece.isascii():
                if unicodedata.category(piece) in {"Cf", "Mn", "Me"}:
                    continue
                piece = _ascii_digit(piece) or piece
            out.append(piece)
            if with_origins:
                starts.append(index)
                ends.append(index + 1)
    return "".join(out), starts, ends


def normalise(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` as a person reads it, and where each of its characters came from.

    Returns the normalised text and, for each of its characters, the start
    and end index in ``text`` of the code point it came from (so a match can
    be shown as written). See the module docstring for the steps.
    """
    return _normalise(text, with_origins=True)


@dataclass(frozen=True)
class _Group:
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def _joined(text: str, left: _Group, right: _Group) -> bool:
    """Whether only separators stand between two digit groups."""
    return all(char in _SEPARATOR_SET for char in text[left.end : right.start])


def _read_elsewhere(text: str, groups: list[_Group]) -> set[int]:
    """Indexes of the groups a person reads as a date, a clock time or a UK phone number."""
    skip: set[int] = set()
    values = [int(text[g.start : g.end]) for g in groups]
    for i in range(len(groups) - 2):
        a, b, c = groups[i : i + 3]
        gap = text[a.end : b.start]
        if gap not in {"/", "-", "."} or text[b.end : c.start] != gap:
            continue
        day_first = (
            a.size <= 2 and 1 <= values[i] <= 31 and b.size <= 2 and 1 <= values[i + 1] <= 12
        ) and c.size in {2, 4}
        year_first = (
            a.size == 4 and b.size <= 2 and 1 <= values[i + 1] <= 12 and c.size <= 2
        ) and 1 <= values[i + 2] <= 31
        if day_first or year_first:
            skip.update((i, i + 1, i + 2))
    for i in range(len(groups) - 1):
        a, b = groups[i], groups[i + 1]
        if (
            text[a.end : b.start] in {":", "."}
            and a.size <= 2
            and values[i] <= 23
            and b.size == 2
            and values[i + 1] <= 59
        ):
            skip.update((i, i + 1))
    by_start = {group.start: i for i, group in enumerate(groups)}
    for match in _UK_INTERNATIONAL.finditer(text):
        # "44" and a bracketed "0" are the prefix; the groups of the national number follow.
        skip.update(i for i, g in enumerate(groups) if match.start() < g.start < match.end())
        first = by_start.get(match.end())
        total = 0
        for j in range(first if first is not None else len(groups), len(groups)):
            total += groups[j].size
            if total > _UK_NATIONAL_DIGITS:
                break
            skip.add(j)
            if j + 1 < len(groups) and not _joined(text, groups[j], groups[j + 1]):
                break
    return skip


def _exempt(text: str, group_start: int) -> bool:
    """Whether a recognised reference prefix stands directly before the group at ``group_start``."""
    head = text[:group_start]
    pos = 0
    while (match := _PREFIX_TAIL.search(head, pos)) is not None:
        start = match.start()
        if start > 0 and _is_word_char(head[start - 1]):
            # The prefix is the tail of a longer word ("preference"): look again from the next
            # character, for a shorter prefix.
            pos = start + 1
            continue
        return not _names_nhs_number(text, start)
    return False


def is_valid_nhs_number(digits: str) -> bool:
    """Return whether ``digits`` is a valid NHS number.

    ``digits`` must be exactly ten ASCII digits with no separators. Anything
    else is ``False``. Valid means the modulus 11 check digit matches the
    tenth digit. Multiply the first nine digits by 10, 9, ... 2 and sum them.
    The check digit is ``11 - sum % 11``, where 11 becomes 0 and 10 means no
    valid number. One digit repeated ten times is also rejected: all ten such
    strings pass modulus 11, but they are placeholders, not NHS numbers.
    """
    if not _TEN_DIGITS.fullmatch(digits):
        return False
    if digits == digits[0] * 10:
        return False
    total = sum(int(digit) * weight for digit, weight in zip(digits, _WEIGHTS, strict=False))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(digits[9])


def find_nhs_number(text: str) -> str | None:
    """Return the first NHS number in ``text`` as written, or ``None``.

    The text is normalised (:func:`normalise`); candidates are runs of whole
    digit groups in one chain holding ten digits, leftmost first, and at one
    start the shortest. Candidates starting right after a recognised
    reference prefix are skipped, unless the prefix is glued to another word
    or follows "nhs" (see the module docstring for why). The first remaining
    candidate passing :func:`is_valid_nhs_number` is returned exactly as it
    appears in ``text``, separators and invisible characters included, so
    callers can point at it. Nothing is logged or stored here: the return
    value is an identifier and must not be logged either.

    ``web/static/js/pid-guard.js`` runs the same steps.
    """
    if len(text) < 10:
        return None
    if text.isascii():
        if sum(map(text.count, "0123456789")) < 10:
            return None  # the common case, decided cheaply
    elif len(_ANY_DIGIT.findall(unicodedata.normalize("NFKC", text))) < 10:
        return None
    norm = text if text.isascii() else _normalise(text, with_origins=False)[0]
    groups = [_Group(m.start(), m.end()) for m in _DIGIT_RUN.finditer(norm)]
    skip = _read_elsewhere(norm, groups)
    # Whether each group is joined to the next by separators only, worked out once.
    linked = [_joined(norm, a, b) for a, b in pairwise(groups)]
    for first, group in enumerate(groups):
        if first in skip or group.size > 10:
            continue
        exempt: bool | None = None
        digits = ""
        for last in range(first, len(groups)):
            if last in skip or (last > first and not linked[last - 1]):
                break
            digits += norm[groups[last].start : groups[last].end]
            if len(digits) < 10:
                continue
            if len(digits) == 10 and is_valid_nhs_number(digits):
                if exempt is None:
                    exempt = _exempt(norm, group.start)
                if not exempt:
                    if norm is text:
                        return text[group.start : groups[last].end]
                    _, starts, ends = normalise(text)  # only for a hit, which is rare
                    return text[starts[group.start] : ends[groups[last].end - 1]]
            break
    return None


def pid_error(field_label: str) -> str:
    """Build the message refusing a field that contains an NHS number.

    ``field_label`` is the label as shown on the form (already in sentence
    case, e.g. ``"Description"``). It is used verbatim so the user can match
    the message to the field. A blank label falls back to "This field". The
    message never repeats the number itself, so it is safe to log.
    """
    label = field_label.strip() or _FALLBACK_LABEL
    return PID_MESSAGE.replace("{label}", label)
