"""Tests for the patient-identifiable data guard (spec §3.3), server side.

The answers come from tests/vectors/nhs_numbers.json, which the browser tests
(tests/js/pid_guard.test.js) read too, so both sides are held to the same
behaviour. The property tests cover the modulus 11 rule, the candidate
matching and the reference-prefix exemption beyond the hand-picked vectors.
The last test runs the browser module in node on the same generated inputs,
when node is available.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from schemas.pid_guard import (
    DIGIT_ZEROS,
    PID_MESSAGE,
    REFERENCE_PREFIXES,
    SEPARATORS,
    find_nhs_number,
    is_valid_nhs_number,
    normalise,
    pid_error,
)

REPO = Path(__file__).resolve().parent.parent
VECTORS: dict[str, Any] = json.loads(
    (REPO / "tests" / "vectors" / "nhs_numbers.json").read_text(encoding="utf-8")
)
JS_MODULE = REPO / "web" / "static" / "js" / "pid-guard.js"

ASCII_DIGITS = "0123456789"
WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def check_digit(first_nine: str) -> int:
    """Modulus 11 check digit for nine digits, 10 meaning "no valid number"."""
    check = 11 - sum(int(d) * w for d, w in zip(first_nine, WEIGHTS, strict=True)) % 11
    return 0 if check == 11 else check


def formats(number: str) -> list[str]:
    """A 10-digit number bare, spaced 3-3-4 and dashed 3-3-4."""
    a, b, c = number[:3], number[3:6], number[6:]
    return [number, f"{a} {b} {c}", f"{a}-{b}-{c}"]


nine_digits = st.text(alphabet=ASCII_DIGITS, min_size=9, max_size=9)


@st.composite
def valid_nhs_numbers(draw: st.DrawFn) -> str:
    first_nine = draw(nine_digits.filter(lambda s: check_digit(s) != 10 and len(set(s)) > 1))
    return first_nine + str(check_digit(first_nine))


#: Any text with no digit in it once normalised (no ASCII digit, and no other form of one).
no_ascii_digits = st.text(alphabet=st.characters(blacklist_characters=ASCII_DIGITS)).filter(
    lambda s: not any(c in ASCII_DIGITS for c in normalise(s)[0])
)

#: Text that ends like a reference prefix and its separator would. Deliberately
#: broader than the real rule (any letter case folding, no word boundary), so
#: filtering with it never keeps a text that the exemption could apply to.
PREFIX_TAIL = re.compile(
    "(?:" + "|".join((*REFERENCE_PREFIXES, "no", "number")) + r")[ :#.\-]*\Z", re.IGNORECASE
)

pytestmark = pytest.mark.no_database  # pure code (tests/conftest.py)


def random_case(word: str) -> st.SearchStrategy[str]:
    return st.tuples(*(st.sampled_from([c.lower(), c.upper()]) for c in word)).map("".join)


#: A recognised prefix, in any letter case.
prefixes = st.sampled_from(REFERENCE_PREFIXES).flatmap(random_case)

#: What may stand between a prefix and the digits: spaces, optionally "no" or
#: "number", spaces, optionally one of : # . -, spaces.
prefix_separators = st.tuples(
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(["", "no", "number"]).flatmap(random_case),
    st.sampled_from(["", " "]),
    st.sampled_from(["", ":", "#", ".", "-"]),
    st.sampled_from(["", " ", "  "]),
).map("".join)

#: Characters that end a word, so a prefix after them is a whole word.
word_ends = st.sampled_from([" ", "(", "\n", ", ", "\u201c", "\u00a0", "\u2014 "])

#: Text before a prefix that cannot itself name an NHS number.
not_nhs_wording = no_ascii_digits.filter(lambda s: "nhs" not in s.lower())

#: Wording that names an NHS number, ending where digits or a prefix may follow.
nhs_wording = st.tuples(
    random_case("nhs"),
    st.sampled_from([" ", "  ", "-", ": ", "\n", " number ", " no. ", " No: ", " booking ", "/"]),
).map("".join)


# --- Shared vectors ---------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["digits"], ids=[v["note"] for v in VECTORS["digits"]])
def test_is_valid_nhs_number_matches_shared_vectors(vector: dict[str, Any]) -> None:
    assert is_valid_nhs_number(vector["digits"]) is vector["valid"]


@pytest.mark.parametrize("vector", VECTORS["texts"], ids=[v["note"] for v in VECTORS["texts"]])
def test_find_nhs_number_matches_shared_vectors(vector: dict[str, Any]) -> None:
    found = find_nhs_number(vector["text"])
    assert found == vector["found"]
    assert (found is not None) is vector["contains_nhs_number"]


def test_reference_prefixes_are_the_shared_ones() -> None:
    assert list(REFERENCE_PREFIXES) == VECTORS["reference_prefixes"]
    # "ref" is what the message tells users to write.
    assert "ref" in REFERENCE_PREFIXES
    assert "nhs" not in REFERENCE_PREFIXES
    for prefix in REFERENCE_PREFIXES:
        assert re.fullmatch("[a-z]+", prefix), prefix


def test_separators_and_digit_tables_are_the_shared_ones() -> None:
    assert VECTORS["separators"] == SEPARATORS
    assert list(DIGIT_ZEROS) == VECTORS["digit_zeros"]


def test_digit_table_covers_every_decimal_digit_nfkc_leaves_alone() -> None:
    """Every Nd character of this Python's Unicode that NFKC does not already make ASCII is in a
    DIGIT_ZEROS block, at its decimal value: no script's digits step round the guard."""
    missing = []
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) != "Nd" or unicodedata.normalize("NFKC", char).isascii():
            continue
        zero = code - unicodedata.decimal(char)
        if zero not in DIGIT_ZEROS:
            missing.append(hex(code))
    assert missing == []


#: How a person may write the gap between two digit groups: runs of the shared separators,
#: including invisible characters around them.
gaps = st.lists(
    st.sampled_from([*SEPARATORS, "\u200b", "\u00ad", "\u2060", "\ufeff"]),
    min_size=1,
    max_size=3,
).map("".join)

#: Each digit as ASCII or as the same digit in another form (full-width, other scripts).
digit_forms = st.sampled_from(["ascii", "fullwidth", *range(len(DIGIT_ZEROS))])


def _write_digit(digit: str, form: str | int) -> str:
    if form == "ascii":
        return digit
    if form == "fullwidth":
        return chr(0xFF10 + int(digit))
    return chr(DIGIT_ZEROS[int(form)] + int(digit))


@given(
    digits=st.text(alphabet=ASCII_DIGITS, min_size=10, max_size=10),
    cuts=st.sets(st.integers(min_value=1, max_value=9)),
    data=st.data(),
)
def test_any_grouping_of_ten_digits_is_found_exactly_when_mod_11_says_so(
    digits: str, cuts: set[int], data: st.DataObject
) -> None:
    """E5 on the normalised text: ten digits in any grouping, with any separators between groups,
    any digit forms and invisible characters, are refused if and only if they are a valid NHS
    number (mod 11, not repeated)."""
    form = data.draw(digit_forms)
    pieces = []
    for i, digit in enumerate(digits):
        if i in cuts:
            pieces.append(data.draw(gaps))
        pieces.append(_write_digit(digit, form))
    # A gap of invisible characters only leaves the digits in one group: ten digits either way.
    # A lone "/", "-" or "." next to a short group may make a date or clock time, which a person
    # reads as such (tests/vectors cover those): such groupings are drawn again.
    text = "Seen " + "".join(pieces) + " today"
    normalised = normalise(text)[0]
    groups = re.findall("[0-9]+", normalised)
    gaps_written = re.findall("[0-9]([^0-9]+)(?=[0-9])", normalised)
    assume(
        not any(g in {".", "/", "-", ":"} for g in gaps_written)
        or all(len(group) > 2 for group in groups)
    )
    found = find_nhs_number(text)
    assert (found is not None) is is_valid_nhs_number(digits), (text, digits)
    if found is not None:
        assert found in text


def test_vectors_use_the_known_valid_nhs_numbers() -> None:
    valid = {v["digits"] for v in VECTORS["digits"] if v["valid"]}
    assert {"9434765919", "9434765870", "4010232137"} <= valid


def test_every_repeated_digit_passes_modulus_11_but_is_rejected() -> None:
    # Why the exclusion exists: d * (10+9+...+2) = 54d, and 54d mod 11 always
    # makes the check digit d, so all ten of these pass the arithmetic alone.
    for digit in ASCII_DIGITS:
        assert check_digit(digit * 9) == int(digit)
        assert not is_valid_nhs_number(digit * 10)


# --- Message ----------------------------------------------------------------


def test_message_template_is_the_shared_one() -> None:
    assert VECTORS["message_template"] == PID_MESSAGE


@pytest.mark.parametrize("label", VECTORS["message_labels"])
def test_message_names_the_field_verbatim(label: str) -> None:
    assert pid_error(label) == VECTORS["message_template"].replace("{label}", label)
    assert pid_error(label).startswith(label + " looks like it contains an NHS number.")


@pytest.mark.parametrize("label", ["", "   ", "\t"])
def test_message_for_a_blank_label_says_this_field(label: str) -> None:
    fallback = VECTORS["message_fallback_label"]
    assert pid_error(label) == VECTORS["message_template"].replace("{label}", fallback)


def test_message_tells_the_user_what_to_do() -> None:
    message = pid_error("Description")
    assert "Remove patient identifiers" in message
    assert 'write "ref" in front of it' in message
    assert '"booking ref 123 456 7890"' in message


@given(number=valid_nhs_numbers(), before=no_ascii_digits)
def test_following_the_message_advice_is_never_refused(number: str, before: str) -> None:
    # The advice must be true: "ref" in front of a reference number is enough,
    # whatever the number is (unless the text calls it an NHS number).
    assume("nhs" not in before.lower())
    for written in formats(number):
        assert find_nhs_number(f"{before} ref {written}") is None
        assert find_nhs_number(f"{before} booking ref {written}") is None


def test_message_example_contains_no_valid_nhs_number() -> None:
    # The example "123 456 7890" has check digit 10, so no number starting
    # 123456789 is valid: a user copying the example is never refused.
    assert check_digit("123456789") == 10
    assert find_nhs_number(PID_MESSAGE) is None
    assert find_nhs_number(pid_error("Description")) is None


@given(label=no_ascii_digits)
def test_message_never_contains_a_valid_nhs_number(label: str) -> None:
    assert find_nhs_number(pid_error(label)) is None


# --- Modulus 11 properties --------------------------------------------------


@given(first_nine=nine_digits)
@example(first_nine="943476591")
@example(first_nine="123456789")
@example(first_nine="000000000")
def test_only_the_computed_check_digit_makes_a_valid_number(first_nine: str) -> None:
    check = check_digit(first_nine)
    all_same = len(set(first_nine)) == 1
    for last in ASCII_DIGITS:
        expected = check != 10 and int(last) == check and not all_same
        assert is_valid_nhs_number(first_nine + last) is expected


@given(number=valid_nhs_numbers())
def test_valid_number_with_separators_is_not_itself_valid_digits(number: str) -> None:
    # is_valid_nhs_number takes bare digits only; separators are for find.
    assert is_valid_nhs_number(number)
    for written in formats(number)[1:]:
        assert not is_valid_nhs_number(written)


@given(text=st.text(max_size=12).filter(lambda s: not re.fullmatch("[0-9]{10}", s)))
def test_is_valid_nhs_number_rejects_anything_but_ten_ascii_digits(text: str) -> None:
    assert not is_valid_nhs_number(text)


# --- Candidate matching properties ------------------------------------------


@given(number=valid_nhs_numbers(), before=no_ascii_digits, after=no_ascii_digits)
def test_finds_a_valid_number_embedded_in_text_in_every_format(
    number: str, before: str, after: str
) -> None:
    assume(not PREFIX_TAIL.search(before))
    for written in formats(number):
        assert find_nhs_number(before + written + after) == written


@given(
    number=valid_nhs_numbers(),
    seps=st.tuples(st.sampled_from(["", " ", "-"]), st.sampled_from(["", " ", "-"])),
)
def test_finds_a_valid_number_with_any_mix_of_separators(
    number: str, seps: tuple[str, str]
) -> None:
    written = number[:3] + seps[0] + number[3:6] + seps[1] + number[6:]
    assert find_nhs_number(f"seen {written}.") == written


@given(number=valid_nhs_numbers(), extra=st.sampled_from(ASCII_DIGITS))
def test_ignores_a_valid_number_inside_a_longer_digit_run(number: str, extra: str) -> None:
    for written in formats(number):
        assert find_nhs_number(f"x {extra}{written} x") is None
        assert find_nhs_number(f"x {written}{extra} x") is None


@given(number=valid_nhs_numbers())
def test_ignores_a_number_with_a_wrong_check_digit(number: str) -> None:
    for wrong in ASCII_DIGITS.replace(number[9], ""):
        for written in formats(number[:9] + wrong):
            assert find_nhs_number(f"call {written} now") is None


# --- Reference-prefix exemption properties ----------------------------------


@given(
    number=valid_nhs_numbers(),
    before=not_nhs_wording,
    end=word_ends,
    prefix=prefixes,
    sep=prefix_separators,
    after=no_ascii_digits,
)
@example(number="9434765919", before="", end=" ", prefix="booking", sep=" ", after="")
def test_a_valid_number_after_a_recognised_prefix_is_never_found(
    number: str, before: str, end: str, prefix: str, sep: str, after: str
) -> None:
    for written in formats(number):
        assert find_nhs_number(f"{before}{end}{prefix}{sep}{written}{after}") is None
        assert find_nhs_number(f"{prefix}{sep}{written}{after}") is None


@given(
    number=valid_nhs_numbers(),
    before=no_ascii_digits,
    wording=st.sampled_from(["NHS number", "NHS no", "NHS no.", "NHS No:", "nhs number:"]),
    sep=prefix_separators,
    after=no_ascii_digits,
)
def test_a_valid_number_after_nhs_number_is_always_found(
    number: str, before: str, wording: str, sep: str, after: str
) -> None:
    for written in formats(number):
        for text in (f"{wording}{sep}{written}{after}", f"{before} {wording} {written}{after}"):
            assert find_nhs_number(text) == written


@given(
    number=valid_nhs_numbers(),
    before=no_ascii_digits,
    wording=nhs_wording,
    prefix=prefixes,
    sep=prefix_separators,
    after=no_ascii_digits,
)
@example(number="9434765919", before="", wording="nhs ", prefix="ref", sep=" ", after="")
def test_nhs_directly_before_a_prefix_cancels_the_exemption(
    number: str, before: str, wording: str, prefix: str, sep: str, after: str
) -> None:
    for written in formats(number):
        assert find_nhs_number(f"{before} {wording}{prefix}{sep}{written}{after}") == written


@given(
    number=valid_nhs_numbers(),
    # A letter, a spacing mark or a digit glued on: combining marks alone (Mn, Me) are removed
    # before matching (SPEC §3.3, as a keycap "9️⃣" reads as 9), so a lone one before the prefix
    # leaves the prefix a word of its own, as a reader sees it.
    # Text is read after NFKC (SPEC §3.3): a character whose compatibility form holds a
    # separator ("Ŀ" is "L·") is not glued to the prefix any more, as a reader sees it.
    glued=st.characters(whitelist_categories=("L", "Mc", "N")).filter(
        lambda c: all(part.isalnum() for part in unicodedata.normalize("NFKC", c))
    )
    | st.just("_"),
    prefix=prefixes,
    sep=prefix_separators,
)
@example(number="9434765919", glued="p", prefix="reference", sep=" ")
def test_a_prefix_glued_to_the_end_of_a_word_does_not_exempt(
    number: str, glued: str, prefix: str, sep: str
) -> None:
    for written in formats(number):
        assert find_nhs_number(f"x {glued}{prefix}{sep}{written}") == written


@given(
    first=valid_nhs_numbers(), second=valid_nhs_numbers(), prefix=prefixes, sep=prefix_separators
)
def test_the_exemption_covers_only_the_number_right_after_the_prefix(
    first: str, second: str, prefix: str, sep: str
) -> None:
    for written in formats(second):
        assert find_nhs_number(f"{prefix}{sep}{first} and {written}") == written
        assert find_nhs_number(f"{prefix}{sep}{first}, {prefix}{sep}{first} {written}.") == written


# --- Texts without candidates -----------------------------------------------


digit_runs = st.text(alphabet=ASCII_DIGITS, min_size=1, max_size=20).filter(
    lambda run: len(run) != 10
)
# No ASCII digit, space or dash, so runs cannot join up into a 3-3-4 group.
joiners = st.text(
    alphabet=st.characters(blacklist_characters=ASCII_DIGITS + " -"), min_size=1, max_size=5
)


@given(parts=st.lists(st.tuples(joiners, digit_runs), max_size=6), tail=joiners)
def test_never_finds_a_number_in_text_without_a_ten_digit_run(
    parts: list[tuple[str, str]], tail: str
) -> None:
    text = "".join(joiner + run for joiner, run in parts) + tail
    assert find_nhs_number(text) is None


@given(text=st.text())
def test_fewer_than_ten_ascii_digits_is_never_an_nhs_number(text: str) -> None:
    if sum(ch in ASCII_DIGITS for ch in text) < 10:
        assert find_nhs_number(text) is None


@given(text=st.text(alphabet=ASCII_DIGITS + " -ab\n", max_size=40))
def test_whatever_is_found_is_a_valid_number_as_written(text: str) -> None:
    found = find_nhs_number(text)
    if found is not None:
        assert found in text
        # Any separator of SPEC §3.3 joins groups, a line break too ("2603169\n467").
        digits = "".join(char for char in found if char not in SEPARATORS)
        assert is_valid_nhs_number(digits)


#: Pieces that exercise prefixes, NHS wording, word boundaries and numbers.
TOKENS = (
    "ref",
    "REF",
    "Booking",
    "log",
    "no",
    "number",
    "nhs",
    "NHS",
    " ",
    " ",
    "  ",
    ":",
    "#",
    ".",
    "-",
    "x",
    "_",
    "\n",
    "\u00e9",
    "\u0301",
    "\u00a0",
    "\u201c",
    "\U0001d400",
    "\u212a",
    "\u017f",
    "9434765919",
    "943 476 5919",
    "401-023-2137",
    "9434765918",
    "1",
)


@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=12))
def test_whatever_is_found_among_prefixes_is_a_valid_number_as_written(
    tokens: list[str],
) -> None:
    text = "".join(tokens)
    found = find_nhs_number(text)
    if found is not None:
        assert found in text
        # Read as the guard reads it (SPEC §3.3): NFKC, invisible characters and combining
        # marks dropped ("5919\u0301943" is ten digits to a reader), then any separator, a
        # line break too ("2603169\n467"), joins groups.
        read, _, _ = normalise(found)
        digits = "".join(char for char in read if char not in SEPARATORS)
        assert is_valid_nhs_number(digits)
    # A space for every ASCII letter removes all prefixes without joining or
    # splitting digit runs, so it can only make the guard stricter.
    if find_nhs_number(re.sub("[A-Za-z]", " ", text)) is None:
        assert found is None


# --- Browser parity ---------------------------------------------------------

NODE = shutil.which("node")

_NODE_SCRIPT = """
const guard = require(process.argv[1]);
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { texts, digits, labels } = JSON.parse(input);
  process.stdout.write(JSON.stringify({
    found: texts.map((t) => guard.findNhsNumber(t)),
    valid: digits.map((d) => guard.isValidNhsNumber(d)),
    messages: labels.map((l) => guard.pidError(l)),
    prefixes: guard.REFERENCE_PREFIXES,
  }));
});
"""


#: Shapes the normaliser reads as something else (times, dates, +44 phones), for the parity run.
CORPUS_LIKE = (
    "05/03/2026 14:05",
    "+44 7700 900000",
    "+44 (0)20 7946 0005",
    "2026-03-12 14.05",
    "14:05-14:30 943 476 5919",
    "12.03.26 9.30 1",
)


def _random_inputs(seed: int, count: int) -> tuple[list[str], list[str]]:
    """Texts dense in digits, separators, prefixes and near-misses; 10-digit strings."""
    rng = random.Random(seed)
    alphabet = [*ASCII_DIGITS * 4, " ", "-", " ", "a", "\n", "é", ".", "/", "_", ":", "+", "\t"]
    alphabet += ["\u200b", "\u00ad", "\uff19", "\u0669", "\u2013", "\u00a0", "\u0301", "(", ")"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(count)]
    texts += [rng.choice(formats(f"{rng.randrange(10**10):010d}")) for _ in range(count)]
    texts += ["".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 12))) for _ in range(count)]
    texts += [rng.choice(CORPUS_LIKE) for _ in range(count // 10)]
    digits = [f"{rng.randrange(10**10):010d}" for _ in range(count)]
    return texts, digits


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_browser_module_gives_the_same_answers_as_the_server() -> None:
    texts, digits = _random_inputs(seed=33, count=3000)
    labels = ["Description", "", "  What happened  ", "$& {label}"]
    payload = json.dumps({"texts": texts, "digits": digits, "labels": labels})
    assert NODE is not None
    result = subprocess.run(
        [NODE, "-e", _NODE_SCRIPT, str(JS_MODULE)],
        input=payload,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
        timeout=60,
    )
    js = json.loads(result.stdout)
    assert js["found"] == [find_nhs_number(t) for t in texts]
    assert js["valid"] == [is_valid_nhs_number(d) for d in digits]
    assert js["messages"] == [pid_error(label) for label in labels]
    assert js["prefixes"] == list(REFERENCE_PREFIXES)
    # The random inputs must actually exercise both answers, and the exemption.
    assert any(f is not None for f in js["found"])
    exempted = zip(js["found"], texts, strict=True)
    assert any(f is None and "ref" in t and "9434765919" in t for f, t in exempted)
    assert any(js["valid"]) and not all(js["valid"])
