"""Patient-identifiable data guard (product spec §3.3).

Free text in Frontline must not carry patient identifiers. The one identifier
we can recognise reliably is the NHS number, so any free-text field containing
one is refused with a message naming the field: in the browser before submit
(``web/static/js/pid-guard.js``, which must give the same answers) and by the
server (422). Both sides are tested against ``tests/vectors/nhs_numbers.json``.

What counts as an NHS number candidate, and why:

* Ten ASCII digits, either run together (``9434765919``) or grouped 3-3-4
  (``943 476 5919``, ``943-476-5919``). Each of the two gaps may hold nothing,
  one space or one dash, chosen independently, so mixes such as
  ``943 476-5919`` or ``943 4765919`` also count. Being stricter would let
  carelessly typed identifiers through, and a false alarm costs the user only
  an edit.
* The ten digits must not be part of a longer digit run: ``129434765919``
  (12 digits) and the phone number ``07700 900123`` (11 digits) are not
  candidates. Only digits end a run. Letters do not, so ``ref9434765919``
  still counts: an NHS number stuck to a word is still an NHS number.
* Only ASCII ``0-9`` are digits here (the browser's ``\\d`` is ASCII-only
  too, and the two sides must agree). Full-width or other Unicode digits are
  not detected. Non-breaking spaces, several spaces in a row and other dash
  characters are not treated as separators.

A candidate is refused only when its digits pass the NHS modulus 11 check and
are not one digit repeated ten times. Every repeated-digit number (0000000000,
1111111111, ... 9999999999) happens to pass modulus 11, so they must be
excluded by name. They are placeholders, not real numbers.

About 9% of random 10-digit strings pass modulus 11, so a genuine reference
number will sometimes be refused. So a candidate written directly after a
recognised reference prefix (:data:`REFERENCE_PREFIXES`, e.g. ``ref``,
``booking``, ``datix``) is someone else's reference, not an NHS number, and
the message tells the user to write ``ref`` in front of a reference number.
The exact rule, and why each part is there:

* Between the prefix and the digits there may be spaces, then optionally
  ``no`` or ``number``, then spaces, then optionally one of ``: # . -``, then
  spaces (``ref: 943 476 5919``, ``job no. 9434765919``, ``ref9434765919``).
  ``no``/``number`` is handled here rather than listing ``job no``,
  ``incident no`` ... so that every prefix gets it and the list stays short.
  Anything else between them (a newline, a non-breaking space, two
  punctuation marks) breaks the link, and the number is judged as usual:
  the rule only exempts what it clearly recognises.
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
* The exemption covers only the candidate directly after the prefix. Any
  later candidate in the same text is judged on its own.

The message's example reference (1234567890) also fails modulus 11 (the check
digit works out as 10), so following the example is never refused, with or
without its prefix.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = [
    "PID_MESSAGE",
    "REFERENCE_PREFIXES",
    "find_nhs_number",
    "is_valid_nhs_number",
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

#: Words allowed between a prefix and the digits ("ref no. ...").
_CONNECTORS: Final = ("no", "number")

#: Words the walk back from a prefix passes over when looking for "nhs".
_CHAIN_WORDS: Final = frozenset(REFERENCE_PREFIXES + _CONNECTORS)

#: Used when a caller passes a blank label, so the message still starts
#: with a subject.
_FALLBACK_LABEL: Final = "This field"

_WEIGHTS: Final = (10, 9, 8, 7, 6, 5, 4, 3, 2)

_TEN_DIGITS: Final = re.compile(r"[0-9]{10}")

#: Ten digits with at most one space or dash between any two: every candidate contains such a run,
#: so text without one holds no NHS number (a fast path; the answer is the same without it).
_ANY_TEN: Final = re.compile(r"[0-9](?:[ -]?[0-9]){9}")

#: An NHS number candidate (group ``number``): 3-3-4 ASCII digits, each gap
#: empty or one space or dash, and no digit directly before or after. Only one
#: candidate is possible at any start position, because a gap is either a
#: digit, which starts the next group, or a separator, which must be consumed.
#: Optionally preceded by a reference prefix and its separator (group
#: ``prefix``). Matching the prefix in the same scan finds the leftmost, so
#: longest, prefix. Whether the prefix is a whole word and not NHS wording is
#: checked in :func:`find_nhs_number`, because the word-character test needs
#: Unicode categories, which ``re`` does not offer.
_CANDIDATE: Final = re.compile(
    r"(?P<prefix>(?:"
    + "|".join(sorted(REFERENCE_PREFIXES, key=len, reverse=True))
    + r") *(?:(?:"
    + "|".join(sorted(_CONNECTORS, key=len, reverse=True))
    + r") *)?(?:[:#.\-] *)?)?"
    r"(?<![0-9])(?P<number>[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4})(?![0-9])",
    re.IGNORECASE | re.ASCII,
)


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

    Candidates are ten digits, bare or grouped 3-3-4 with a single space or
    dash in each gap, not adjacent to further digits. A candidate directly
    after a recognised reference prefix ("booking ref 943 476 5919") is
    skipped, unless the prefix is glued to another word or follows "nhs"
    (see the module docstring for why). The first remaining candidate
    passing :func:`is_valid_nhs_number` is returned exactly as it appears,
    separators included, so callers can point at it. Nothing is logged or
    stored here: the return value is an identifier and must not be logged
    either.

    ``web/static/js/pid-guard.js`` runs the same loop, step for step.
    """
    if _ANY_TEN.search(text) is None:
        return None  # the common case, decided by one cheap scan
    pos = 0
    while (match := _CANDIDATE.search(text, pos)) is not None:
        pos = match.end()
        if match.group("prefix") is not None:
            start = match.start()
            if start > 0 and _is_word_char(text[start - 1]):
                # The prefix is the tail of a longer word ("preference"): look
                # again from the next character, for a shorter prefix or the
                # bare candidate.
                pos = start + 1
                continue
            if not _names_nhs_number(text, start):
                continue  # A labelled reference number, not an NHS number.
        candidate = match.group("number")
        if is_valid_nhs_number(candidate.replace(" ", "").replace("-", "")):
            return candidate
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
