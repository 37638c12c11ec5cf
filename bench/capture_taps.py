"""How quick is a handover note to log on a phone? (issue #11: ≤ 30 s and ≤ 8 taps besides typing
the narrative.) Debian Chromium at 390x844 with touch, signed in as the demo crew member on a
fresh phone, logs three typical notes one after another from the home page:

1. a delay concern (the first note on this phone: nothing remembered yet);
2. a missing-paperwork concern with moderate harm (the partner and call sign are remembered);
3. a good-practice note about another partner.

Every tap (a button, a box, a radio, a field to type into) counts one; a drop-down counts two
(open, choose). Typing is not a tap. Reported per note: taps, characters typed, the wall time
the browser took (from the first tap to "Saved on this phone"), and a person's time estimated
with the keystroke-level model (1.1 s per tap including finding the target, 0.3 s per character
typed on a phone keyboard, 1.2 s to read the screen once per note).

    python -m bench.capture_taps
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bench.offline_drain import demo_server_and_chromium, sign_in

TAP_S = 1.1
CHAR_S = 0.3
READ_S = 1.2


@dataclass
class Note:
    name: str
    taps: int = 0
    typed: int = 0
    narrative: int = 0
    steps: list[str] = field(default_factory=list)


class Person:
    """Drives the page as a thumb does, counting as it goes."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.note = Note("")
        self.last_send = 0.0

    def send(self) -> None:
        # The NHS button ignores a second press within a second of the last (its double-click
        # guard); a person never logs two notes that fast, a script does.
        pause = 1.1 - (time.perf_counter() - self.last_send)
        if pause > 0:
            time.sleep(pause)
        self.tap("form[data-record-form] button[type=submit]", "Send handover note")
        self.last_send = time.perf_counter()

    def tap(self, selector: str, what: str) -> None:
        self.page.tap(selector)
        self.note.taps += 1
        self.note.steps.append(what)

    def choose(self, selector: str, index: int, what: str) -> None:
        self.page.select_option(selector, index=index)
        self.note.taps += 2
        self.note.steps.append(what + " (drop-down)")

    def type_into(self, selector: str, text: str, what: str, *, narrative: bool = False) -> None:
        self.tap(selector, what)
        self.page.fill(selector, text)
        self.note.typed += len(text)
        if narrative:
            self.note.narrative += len(text)


def wait_saved(page: Any) -> None:
    for _ in range(200):
        if page.evaluate("!document.querySelector('[data-saved-panel]').hidden"):
            return
        time.sleep(0.05)
    summary = page.evaluate("(document.querySelector('.nhsuk-error-summary') || {}).textContent")
    raise RuntimeError(f"the note was not saved: {summary}")


def log_three(page: Any, url: str) -> list[tuple[Note, float]]:
    person = Person(page)
    results: list[tuple[Note, float]] = []

    # 1. A delay concern, from the home page.
    person.note = Note("Delay concern (first note on the phone)")
    started = time.perf_counter()
    person.tap("main a[href='/handovers/new']", "Log a handover note")
    page.wait_for_url(f"{url}/handovers/new")
    person.choose("#partner_id", 1, "Where was the patient handed over?")
    person.tap("label[for=categories]", "Handover delay")
    person.type_into("#delay_minutes", "45", "Delay in minutes")
    person.tap("label[for=harm]", "No harm")
    person.type_into(
        "#narrative",
        "Waited 45 min in ED corridor, no nurse free to take handover.",
        "What happened?",
        narrative=True,
    )
    person.type_into("#vehicle", "PTS12", "Vehicle call sign")
    person.send()
    wait_saved(page)
    results.append((person.note, time.perf_counter() - started))

    # 2. Missing paperwork with moderate harm: partner and call sign remembered.
    person.note = Note("Missing paperwork, moderate harm")
    started = time.perf_counter()
    person.tap("[data-log-another]", "Log another")
    person.tap("label[for=categories-3]", "Missing paperwork")
    person.tap("label[for=harm-3]", "Moderate harm")
    if not page.is_visible("[data-harm-reminder]"):
        raise RuntimeError("the LFPSE reminder did not show for moderate harm")
    person.type_into(
        "#narrative",
        "No discharge letter or TTO sheet; patient left without meds list.",
        "What happened?",
        narrative=True,
    )
    person.send()
    wait_saved(page)
    results.append((person.note, time.perf_counter() - started))

    # 3. Good practice about another partner.
    person.note = Note("Good practice, another partner")
    started = time.perf_counter()
    person.tap("[data-log-another]", "Log another")
    person.tap("label[for=note_type-2]", "Something went well")
    person.choose("#partner_id", 2, "Where was the patient handed over?")
    person.tap("label[for=good_practice]", "Patient ready on time")
    person.tap("label[for=good_practice-4]", "Clear communication")
    person.type_into(
        "#narrative",
        "Ward 7 had patient ready with meds and letter. Thank you!",
        "What happened?",
        narrative=True,
    )
    person.send()
    wait_saved(page)
    results.append((person.note, time.perf_counter() - started))
    return results


def main() -> None:
    with demo_server_and_chromium() as (server, browser):
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
        page = context.new_page()
        sign_in(page, server.url)
        for _ in range(100):  # the outbox is open before the first tap
            if page.evaluate("document.body.classList.contains('app-outbox-ready')"):
                break
            time.sleep(0.05)
        results = log_three(page, server.url)
        print(
            "note | taps (besides typing the narrative) | characters typed | browser wall time | person (KLM)"
        )
        for note, wall in results:
            narrative_taps = 1  # the tap into the narrative is part of typing it
            person = note.taps * TAP_S + note.typed * CHAR_S + READ_S
            print(
                f"{note.name} | {note.taps - narrative_taps} | {note.typed} | {wall:.2f} s | {person:.1f} s"
            )
            print("    taps: " + "; ".join(note.steps))


if __name__ == "__main__":
    main()
