"""The synthetic corpus of realistic handover and idea narratives the PID guard's false-positive
rate is measured on (EVIDENCE E19). ``python -m tests.security.pid_corpus`` rewrites
``tests/vectors/pid_corpus.json`` from a fixed seed, so the file is reviewable and reproducible.

Every narrative is free of NHS numbers by construction: what it holds are the numbers crews and
staff really write (clock times, dates, UK phone numbers in Ofcom's drama ranges, call signs,
booking references with their prefix, delays, ward and bed numbers), so any refusal is a false
alarm. Each entry carries its category, so the rate is reported per kind of number.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "vectors" / "pid_corpus.json"
PER_CATEGORY = 400


def _time(r: random.Random) -> str:
    h, m = r.randrange(24), r.randrange(60)
    return r.choice([f"{h:02d}:{m:02d}", f"{h}:{m:02d}", f"{h:02d}{m:02d}", f"{h:02d}.{m:02d}"])


def _date(r: random.Random) -> str:
    d, mo, y = r.randint(1, 28), r.randint(1, 12), r.choice([2025, 2026])
    return r.choice(
        [f"{d:02d}/{mo:02d}/{y}", f"{d}/{mo}/{y}", f"{d:02d}/{mo:02d}/{y % 100:02d}",
         f"{d:02d}-{mo:02d}-{y}", f"{y}-{mo:02d}-{d:02d}", f"{d:02d}.{mo:02d}.{y}"]
    )  # fmt: skip


def _uk_phone(r: random.Random) -> str:
    """Ofcom's numbers for drama (never allocated), in the ways people write them."""
    tail3 = f"{r.randrange(1000):03d}"
    tail4 = f"0{tail3}"
    area = r.choice(["0113", "0114", "0115", "0116", "0117", "0118", "0121", "0131", "0141",
                     "0151", "0161", "0191"])  # fmt: skip
    return r.choice(
        [
            f"07700 900{tail3}",
            f"07700 900 {tail3}",
            f"07700900{tail3}",
            f"+44 7700 900{tail3}",
            f"+44 7700 900 {tail3}",
            f"+44 (0)7700 900{tail3}",
            f"+447700900{tail3}",
            f"01632 960{tail3}",
            f"01632 960 {tail3}",
            f"(01632) 960{tail3}",
            f"{area} 496 {tail4}",
            f"{area} 496{tail4}",
            f"{area}-496-{tail4}",
            f"({area}) 496 {tail4}",
            f"020 7946 {tail4}",
            f"020-7946-{tail4}",
            f"+44 20 7946 {tail4}",
            f"+44 (0)20 7946 {tail4}",
            f"+44 (0){area[1:]} 496 {tail4}",
            f"0808 157 {tail4}",
        ]
    )


def _reference(r: random.Random) -> str:
    digits = f"{r.randrange(10**10):010d}"
    a, b, c = digits[:3], digits[3:6], digits[6:]
    written = r.choice([digits, f"{a} {b} {c}", f"{a}-{b}-{c}", f"{digits[:4]} {digits[4:]}"])
    prefix = r.choice(["booking ref", "Booking ref:", "ref", "Ref no.", "CAD", "Datix",
                       "incident no", "job", "PTS booking", "order", "log #"])  # fmt: skip
    return f"{prefix} {written}"


def _call_sign(r: random.Random) -> str:
    return r.choice([f"vehicle {r.randint(1000, 9999)}", f"call sign {r.choice('ABCDEFGH')}"
                     f"{r.choice('ABCDEFGH')}{r.randint(1, 99)}", f"RRV {r.randint(100, 9999)}",
                     f"unit {r.randint(1, 9999)}", f"crew {r.randint(1, 40)}"])  # fmt: skip


def _ward(r: random.Random) -> str:
    return r.choice(
        [f"Ward {r.randint(1, 40)}", f"Ward {r.randint(1, 40)}, bay {r.randint(1, 8)}, bed "
         f"{r.randint(1, 30)}", f"room {r.randint(1, 3)}.{r.randint(1, 40):02d}",
         f"bed {r.randint(1, 30)}", f"cubicle {r.randint(1, 20)}"]
    )  # fmt: skip


def _delay(r: random.Random) -> str:
    return r.choice(
        [f"delayed {r.randint(5, 240)} minutes", f"waited {r.randint(1, 6)} hours "
         f"{r.randint(0, 59)} minutes", f"{r.randint(10, 180)} mins", f"{r.randint(1, 9)}.5 hrs"]
    )  # fmt: skip


OPENINGS = ("Arrived", "Crew arrived", "Booked for", "Patient ready at", "Handed over")


def _times(r: random.Random) -> str:
    return r.choice(
        [
            f"Arrived {_time(r)}, handed over {_time(r)}.",
            f"Waited {_time(r)}-{_time(r)} in the ambulance bay.",
            f"Booked for {_time(r)}, patient not ready until {_time(r)} ({_delay(r)}).",
            f"From {_time(r)} to {_time(r)}, then {_time(r)} to {_time(r)}.",
            f"{_time(r)} arrival, {_time(r)} handover, {_time(r)} clear.",
        ]
    )


def _dates(r: random.Random) -> str:
    return r.choice(
        [
            f"On {_date(r)} at {_time(r)} the discharge letter was missing.",
            f"{_date(r)} {_time(r)}: patient not ready, {_delay(r)}.",
            f"Booked {_date(r)} {_time(r)}, collected {_date(r)} {_time(r)}.",
            f"Third time since {_date(r)}; last on {_date(r)}.",
        ]
    )


def _phones(r: random.Random) -> str:
    return r.choice(
        [
            f"Rang the ward on {_uk_phone(r)}, no answer, then {_uk_phone(r)}.",
            f"Care home number on the booking was wrong: {_uk_phone(r)}.",
            f"Please call {_uk_phone(r)} before arrival.",
            f"Control said ring {_uk_phone(r)} or {_uk_phone(r)} at {_time(r)}.",
        ]
    )


def _references(r: random.Random) -> str:
    return r.choice(
        [
            f"Wrong address on {_reference(r)}, crew redirected.",
            f"Raised on {_reference(r)} at {_time(r)}.",
            f"See {_reference(r)} and {_reference(r)}.",
        ]
    )


def _mixed(r: random.Random) -> str:
    return (
        f"{r.choice(OPENINGS)} {_ward(r)} at {_time(r)} on {_date(r)}, {_call_sign(r)}; "
        f"{_delay(r)}. Ward phone {_uk_phone(r)}. {_reference(r)}. {_ward(r)}."
    )


def _crews(r: random.Random) -> str:
    return f"{_call_sign(r)} and {_call_sign(r)} at {_ward(r)}, {_delay(r)}, {_delay(r)}."


def _freephone(r: random.Random) -> str:
    """0800 and 0808 numbers with six digits after the code: ten digits, like an NHS number, so
    about one in eleven passes modulus 11. No rule can tell them apart from an NHS number; they
    are here so the report shows the rate a real trust will see on them."""
    six = f"{r.randrange(10**6):06d}"
    code = r.choice(["0800", "0808"])
    number = r.choice([f"{code} {six}", f"{code} {six[:3]} {six[3:]}", f"{code}{six}"])
    return f"The care home asked us to ring their freephone line {number} before arriving."


def _figures(r: random.Random) -> str:
    """Lists of small figures people type in a row (delays, counts, bed numbers)."""
    figures = [str(r.randint(1, 120)) for _ in range(r.randint(3, 6))]
    sep = r.choice([", ", " ", " / ", "; "])
    return f"Delays this week in minutes: {sep.join(figures)}; beds {r.randint(1, 30)} and {r.randint(1, 30)}."


CATEGORIES: dict[str, Callable[[random.Random], str]] = {
    "clock times": _times,
    "dates and times": _dates,
    "UK phone numbers": _phones,
    "prefixed references": _references,
    "call signs, wards, delays": _crews,
    "mixed narratives": _mixed,
    "lists of figures": _figures,
    "10-digit freephone numbers": _freephone,
}


def build(seed: int = 2026) -> list[dict[str, str]]:
    r = random.Random(seed)
    return [
        {"category": name, "text": make(r)}
        for name, make in CATEGORIES.items()
        for _ in range(PER_CATEGORY)
    ]


if __name__ == "__main__":
    payload = {
        "_comment": "Synthetic narratives without NHS numbers, for the PID guard's false-positive "
        "rate (tests/security/test_pid_guard_bypass.py). Made by python -m tests.security.pid_corpus "
        "(seed 2026); phone numbers are Ofcom drama numbers.",
        "narratives": build(),
    }
    CORPUS.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
