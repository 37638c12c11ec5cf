"""Accessibility (SPEC §9, EVIDENCE E20, docs/accessibility.md): axe-core on every page the app
serves, in both roles (crew and manager, plus admin and signed-out), in its empty, filled, error,
queued and offline states; and keyboard-only use of both record forms.

axe-core (pinned in package.json, installed by `npm ci`) is put into each page as a Playwright
init script of its context (or with `page.evaluate(<axe source>)`). Both go through the DevTools
protocol, which the page's Content-Security-Policy does not govern, so the pages are checked under
their real CSP: a
`bypass_csp` context, or an injected <script> tag (refused by `script-src 'self'`), would either
change the page under test or not run at all.
"""

from __future__ import annotations

import functools
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.conftest import LAPTOP, PHONE, LiveServer, layout_shift, sign_in, wait_until
from tests.browser.test_offline import (
    SEND_TIMEOUT,
    keep_for_offline,
    outbox_cards,
    start_signed_in,
    unique,
    wait_sent,
)
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: WCAG 2.2 AA is the target (SPEC §9); axe tags each rule with the success criteria it tests.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
#: Set to a file name to have every finding (minor and moderate too) appended to it as JSON lines,
#: for docs/accessibility.md.
AXE_REPORT = os.environ.get("AXE_REPORT")
#: A page built on base.html is settled once the outbox client has started (it fills the count,
#: the sync status and the outbox list after load).
BASE_READY = "document.body.classList.contains('app-outbox-ready')"
DOCS_READY = "document.querySelectorAll('.opblock').length > 0"
OUTBOX_LISTED = "document.querySelector('[data-outbox-loading]').hidden"
#: A laptop (the size the journeys use too): the NHS.UK grids, the header and the tables lay out
#: differently from a phone.
DESKTOP = LAPTOP

USERS = {
    "crew": ("crew@demo.nhs.uk", "crew-demo-pass"),
    "staff": ("staff@demo.nhs.uk", "staff-demo-pass"),
    "manager": ("manager@demo.nhs.uk", "manager-demo-pass"),
    "admin": ("admin@demo.nhs.uk", "admin-demo-pass"),
    "partner": ("partner@demo.nhs.uk", "partner-demo-pass"),
}

RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), impact: n.impact,
                              summary: n.failureSummary, html: n.html.slice(0, 200)})),
  }));
}"""


@functools.cache
def axe_source() -> str:
    if not AXE_PATH.exists():
        pytest.fail(f"{AXE_PATH.relative_to(ROOT)} is missing: run `npm ci` (scripts/test does)")
    return AXE_PATH.read_text()


def with_axe(context: Any) -> Any:
    """The context with axe-core in every document it opens. Evaluating axe's 0.5 MB after each
    navigation instead cost about 0.1 s more a check (goto, evaluate and run on /login, ten
    rounds each way), and the checks below are some 250 in a run."""
    context.add_init_script(axe_source())
    return context


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every WCAG A/AA violation axe finds on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())  # a context made without with_axe
    return page.evaluate(RUN_AXE, AXE_TAGS)


def describe(violations: list[dict[str, Any]], nodes_per_rule: int = 10) -> str:
    """Each rule broken, with its impact, and where: a CSS path to the node, its markup and what
    would fix it."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:nodes_per_rule]:
            lines.append(f"    at {node['target']}: {node['html']}")
            lines.append("      " + " ".join(node["summary"].split()))
        if len(v["nodes"]) > nodes_per_rule:
            lines.append(f"    ... and {len(v['nodes']) - nodes_per_rule} more")
    return "\n".join(lines)


def assert_no_serious_violations(page: Any, where: str) -> None:
    violations = axe_violations(page)
    if AXE_REPORT:
        with Path(AXE_REPORT).open("a") as report:
            report.write(json.dumps({"page": where, "violations": violations}) + "\n")
    serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert not serious, f"axe-core found serious or critical problems on {where}:\n" + describe(
        serious
    )


# Records for the pages to show -------------------------------------------------------------


def csrf_of(client: httpx.Client) -> str:
    page = client.get("/").text
    return page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def api_call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    headers = {"x-csrf-token": csrf_of(client), **kwargs.pop("headers", {})}
    response = client.request(method, path, headers=headers, **kwargs)
    assert response.status_code < 300, (method, path, response.status_code, response.text)
    return response.json()


@dataclass(frozen=True)
class Records:
    idea_id: str
    handover_id: str
    harm_handover_id: str
    partner_id: int
    team_id: int
    aim_id: int
    user_id: int
    learning_id: str


@pytest.fixture(scope="module")
def records(live_server: LiveServer) -> Iterator[Records]:
    """An idea in testing with a PDSA cycle, feedback and history; two handover notes (one with
    moderate harm) reviewed and commented on: so every page has something in each of its parts."""
    now = datetime.now(UTC)
    crew = live_server.api(*USERS["crew"])
    staff = live_server.api(*USERS["staff"])
    manager = live_server.api(*USERS["manager"])
    try:
        reference = crew.get("/api/v1/reference").json()
        partner_id = reference["partners"][0]["id"]
        team_id = reference["teams"][0]["id"]
        aim_id = reference["aims"][0]["id"]
        handover_ids = []
        for harm in ("none", "moderate"):
            handover_id = str(uuid.uuid4())
            api_call(
                crew,
                "POST",
                "/api/v1/handovers",
                json={
                    "id": handover_id,
                    "occurred_at": (now - timedelta(hours=2)).isoformat(),
                    "partner_id": partner_id,
                    "location_detail": "ED ambulance bay",
                    "journey_type": "admission",
                    "categories": ["handover_delay", "missing_paperwork"],
                    "delay_minutes": 45,
                    "harm": harm,
                    "narrative": unique("Accessibility check handover"),
                    "immediate_action": "Escalated to the nurse in charge.",
                    "vehicle": "PTS",
                    "created_at": (now - timedelta(hours=1)).isoformat(),
                },
            )
            handover_ids.append(handover_id)
        api_call(
            manager,
            "POST",
            f"/api/v1/handovers/{handover_ids[0]}/transitions",
            json={"to": "reviewed", "note": "Raised at the weekly meeting."},
        )
        api_call(
            manager,
            "POST",
            f"/api/v1/handovers/{handover_ids[0]}/comments",
            json={"body": "Thank you, we are looking into it."},
        )

        idea_id = str(uuid.uuid4())
        api_call(
            staff,
            "POST",
            "/api/v1/ideas",
            json={
                "id": idea_id,
                "title": unique("Accessibility check idea"),
                "problem": "Crews wait for the trolley to arrive after they do.",
                "proposal": "Add a trolley question to the booking form.",
                "wastes": ["waiting", "motion"],
                "aims": [aim_id],
                "team_id": team_id,
                "benefits": ["safety"],
                "show_name": True,
                "created_at": (now - timedelta(minutes=5)).isoformat(),
            },
        )
        for to, extra in (
            ("under_review", {}),
            ("accepted", {"equity_note": "Everyone on the route benefits."}),
            ("testing", {}),
        ):
            api_call(
                manager,
                "POST",
                f"/api/v1/ideas/{idea_id}/transitions",
                json={"to": to, **extra},
            )
        api_call(
            manager,
            "POST",
            f"/api/v1/ideas/{idea_id}/comments",
            json={"body": "A good idea: we are trying it on two routes."},
        )
        cycle = api_call(
            manager,
            "POST",
            f"/api/v1/ideas/{idea_id}/pdsa",
            json={
                "plan": "Ask about the trolley when booking.",
                "start_date": (date.today() - timedelta(days=14)).isoformat(),
                "measure_name": "Waits for the trolley",
                "measure_unit": "minutes",
            },
        )
        for days_ago, value in ((12, 30.0), (8, 22.0), (4, 15.0), (1, 10.0)):
            api_call(
                manager,
                "POST",
                f"/api/v1/ideas/{idea_id}/pdsa/{cycle['id']}/points",
                json={"day": (date.today() - timedelta(days=days_ago)).isoformat(), "value": value},
            )
        # An idea that worked, for the learning library: tried (PDSA with values), implemented.
        learning_id = str(uuid.uuid4())
        api_call(
            staff,
            "POST",
            "/api/v1/ideas",
            json={
                "id": learning_id,
                "title": unique("Accessibility check learning"),
                "problem": "Patients waited for transport after discharge.",
                "proposal": "Ring transport 30 minutes before the patient is ready.",
                "aims": [aim_id],
                "team_id": team_id,
                "equity_prompt": "Patients who need an interpreter to be told.",
            },
        )
        for to, extra in (
            ("under_review", {}),
            ("accepted", {"equity_note": "Works the same for every patient."}),
        ):
            api_call(
                manager,
                "POST",
                f"/api/v1/ideas/{learning_id}/transitions",
                json={"to": to, **extra},
            )
        tried = api_call(
            manager,
            "POST",
            f"/api/v1/ideas/{learning_id}/pdsa",
            json={
                "plan": "Ring ahead on two wards.",
                "study": "Waits fell by half.",
                "start_date": (date.today() - timedelta(days=14)).isoformat(),
                "measure_name": "Minutes waiting for transport",
                "measure_unit": "minutes",
            },
        )
        for days_ago, value in ((12, 40.0), (9, 35.0), (6, 20.0), (3, 18.0)):
            api_call(
                manager,
                "POST",
                f"/api/v1/ideas/{learning_id}/pdsa/{tried['id']}/points",
                json={"day": (date.today() - timedelta(days=days_ago)).isoformat(), "value": value},
            )
        api_call(
            manager, "POST", f"/api/v1/ideas/{learning_id}/transitions", json={"to": "implemented"}
        )
        user_id = crew.get("/api/v1/me").json()["id"]
        yield Records(
            idea_id=idea_id,
            handover_id=handover_ids[0],
            harm_handover_id=handover_ids[1],
            partner_id=partner_id,
            team_id=team_id,
            aim_id=aim_id,
            user_id=user_id,
            learning_id=learning_id,
        )
    finally:
        for client in (crew, staff, manager):
            client.close()


# Signed-in browsers, one per role ---------------------------------------------------------


def new_context(browser: Any, viewport: dict[str, int]) -> Any:
    """A phone (touch, high density, as tests/browser/conftest.py's) or a desktop browser."""
    mobile = viewport == PHONE
    return with_axe(
        browser.new_context(
            viewport=viewport,
            device_scale_factor=2 if mobile else 1,
            is_mobile=mobile,
            has_touch=mobile,
        )
    )


@pytest.fixture(scope="module")
def pages(browser: Any, live_server: LiveServer) -> Iterator[Callable[[str, dict[str, int]], Any]]:
    """A signed-in page per role and viewport, opened on first use and kept for the module: looking
    at a page changes nothing (a GET never does), so the checks can share a session."""
    opened: dict[tuple[str, str], Any] = {}
    contexts: list[Any] = []

    def page_for(role: str, viewport: dict[str, int]) -> Any:
        key = (role, f"{viewport['width']}")
        if key not in opened:
            context = new_context(browser, viewport)
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(15_000)
            if role != "anonymous":
                sign_in(page, live_server, *USERS[role])
            opened[key] = page
        return opened[key]

    yield page_for
    for context in contexts:
        context.close()


# The pages --------------------------------------------------------------------------------


def submit_first_form(selector: str) -> Callable[[Any], None]:
    """Sends a form as it is (usually empty), so the page shows its error summary."""

    def action(page: Any) -> None:
        with page.expect_navigation():
            page.click(f"{selector} button[type=submit]")
        assert page.locator(".nhsuk-error-summary").is_visible()

    return action


def post_record_form(page: Any) -> None:
    """The record form sent to the server as it is, past the phone's own checks (as a browser
    without the outbox would), so the page is the server's error page."""
    with page.expect_navigation():
        page.evaluate(
            "HTMLFormElement.prototype.submit.call(document.querySelector('form[data-record-form]'))"
        )
    assert page.locator(".nhsuk-error-summary").is_visible()


def phone_check_errors(page: Any) -> None:
    """The record form sent empty with JavaScript: the phone's own error summary."""
    page.click("form[data-record-form] button[type=submit]")
    wait_until(page, "document.querySelector('.nhsuk-error-summary') !== null")


def htmx_submit(form: str, panel: str) -> Callable[[Any], None]:
    """A manager's form sent empty through htmx: the panel comes back with its error summary."""

    def action(page: Any) -> None:
        page.click(f"{form} button[type=submit]")
        wait_until(page, f"document.querySelector('{panel} .nhsuk-error-summary') !== null")
        # Swapped in, the summary takes focus, so a screen reader reads it out.
        wait_until(page, "document.activeElement.classList.contains('nhsuk-error-summary')")

    return action


def open_and_submit_move(page: Any) -> None:
    """A card's move sent with nothing chosen: the board comes back with its error summary."""
    page.click(".app-huddle__move summary")
    page.click(".app-huddle__move button[type=submit]")
    wait_until(page, "document.querySelector('#board .nhsuk-error-summary') !== null")


def select_notes_and_raise_nothing(page: Any) -> None:
    """The bulk answer without an answer typed: the results come back with an error summary."""
    page.click("#handover-results input[name=ids] + label")
    page.click("button:has-text('Record the partner')")
    wait_until(page, "document.querySelector('#handover-results .nhsuk-error-summary') !== null")


def open_operation(page: Any) -> None:
    """Swagger UI's first operation (POST /api/v1/ideas) opened, with "Try it out" on."""
    page.click(".opblock-post .opblock-summary-control")
    page.click(".opblock-post .try-out__btn")
    wait_until(page, "document.querySelector('.opblock-post .opblock-body textarea') !== null")


def wrong_password(page: Any) -> None:
    page.fill("#email", "crew@demo.nhs.uk")
    page.fill("#password", "not the password")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.locator(".nhsuk-error-summary").is_visible()


def good_practice_chosen(page: Any) -> None:
    """The handover form as a good-practice note: what went well, no harm question."""
    page.check("#note_type-2")
    assert page.is_visible("text=What went well?")


def saved_then_sent(page: Any) -> None:
    """A note submitted with JavaScript: "Saved on this phone", then "Sent" with its reference."""
    page.check("#note_type")  # a concern, whatever a draft from an earlier case put back
    page.select_option("#partner_id", index=1)
    page.check("#categories")
    page.fill("#narrative", "Waited in the corridor for a nurse to take handover.")
    page.click("form[data-record-form] button[type=submit]")
    wait_until(page, "!document.querySelector('[data-saved-sent]').hidden")


@dataclass(frozen=True)
class Case:
    role: str
    path: str
    status: int = 200
    action: Callable[[Any], None] | None = None
    label: str = ""
    ready: str = BASE_READY
    #: Text that shows the page is in the state the label names.
    shows: str = ""

    @property
    def id(self) -> str:
        return f"{self.role}:{self.label or self.path}"


CASES = [
    # Signed out
    Case("anonymous", "/login"),
    Case("anonymous", "/login", action=wrong_password, label="/login (errors)"),
    Case("anonymous", "/signup"),
    Case("anonymous", "/signup", action=submit_first_form("form"), label="/signup (errors)"),
    Case("anonymous", "/offline"),
    Case("anonymous", "/no-such-page", status=404, label="404"),
    # A crew member (reporter)
    Case("crew", "/"),
    Case("crew", "/handovers/new"),
    Case("crew", "/handovers/new", action=phone_check_errors, label="/handovers/new (errors)"),
    Case(
        "crew",
        "/handovers/new",
        action=post_record_form,
        label="/handovers/new (server errors)",
    ),
    Case("crew", "/ideas/new"),
    Case("crew", "/ideas/new", action=phone_check_errors, label="/ideas/new (errors)"),
    Case("crew", "/ideas/new", action=post_record_form, label="/ideas/new (server errors)"),
    Case("crew", "/submitted/handover/{handover_id}", label="/submitted/handover"),
    Case(
        "crew",
        "/submitted/handover/{harm_handover_id}",
        label="/submitted/handover (moderate harm)",
    ),
    Case("crew", "/mine"),
    Case("crew", "/mine?kind=handover&status=new", label="/mine (filtered)"),
    Case("crew", "/mine?kind=nope", status=422, label="/mine (errors)", shows="There is a problem"),
    Case("crew", "/mine/handovers/{handover_id}", label="/mine/handovers/{id}"),
    Case(
        "crew",
        "/handovers/new",
        action=good_practice_chosen,
        label="/handovers/new (good practice)",
    ),
    Case("crew", "/handovers/new", action=saved_then_sent, label="/handovers/new (sent)"),
    Case(
        "crew",
        "/outbox",
        ready=f"{BASE_READY} && {OUTBOX_LISTED}",
        label="/outbox (empty)",
        shows="Nothing is waiting on this phone.",
    ),
    Case("crew", "/offline"),
    Case("crew", "/logout"),
    Case("crew", "/account"),
    Case(
        "crew",
        "/account",
        action=submit_first_form("form[action='/account/password']"),
        label="/account (errors)",
    ),
    Case("crew", "/account?changed=1", label="/account (changed)"),
    Case("crew", "/docs", ready=DOCS_READY),
    Case(
        "crew", "/docs", ready=DOCS_READY, action=open_operation, label="/docs (an operation open)"
    ),
    Case("crew", "/triage", status=403, label="403"),
    Case("crew", "/no-such-page", status=404, label="404"),
    Case("staff", "/submitted/idea/{idea_id}", label="/submitted/idea"),
    Case("staff", "/mine"),
    Case("staff", "/mine/ideas/{idea_id}", label="/mine/ideas/{id}"),
    # A manager
    Case("manager", "/", shows="What needs you today"),
    Case("manager", "/triage"),
    Case("manager", "/triage?view=matrix", label="/triage (matrix)"),
    Case("manager", "/triage?status=testing&sort=oldest", label="/triage (filtered)"),
    Case(
        "manager",
        "/triage?q=nothingmatchesthis",
        label="/triage (no results)",
        shows="No ideas match these filters.",
    ),
    Case("manager", "/triage/ideas/{idea_id}", label="/triage/ideas/{id}"),
    Case(
        "manager",
        "/triage/ideas/{idea_id}?done=commented",
        label="/triage/ideas/{id} (done message)",
    ),
    Case(
        "manager",
        "/triage/ideas/{idea_id}",
        action=htmx_submit("form[action$='/move']", "#idea"),
        label="/triage/ideas/{id} (errors)",
    ),
    Case("manager", "/handovers"),
    Case("manager", "/handovers?status=reviewed", label="/handovers (filtered)"),
    Case(
        "manager",
        "/handovers?attention=no_lfpse",
        label="/handovers (needs attention)",
        shows="No LFPSE reference",
    ),
    Case(
        "manager",
        "/handovers",
        action=select_notes_and_raise_nothing,
        label="/handovers (bulk errors)",
    ),
    Case(
        "manager",
        "/triage/ideas/{idea_id}?dup_q=check",
        label="/triage/ideas/{id} (searching for an original)",
    ),
    Case("manager", "/triage?include_closed=1", label="/triage (closed included)"),
    Case(
        "manager",
        "/handovers?q=nothingmatchesthis",
        label="/handovers (no results)",
        shows="No handover notes match these filters.",
    ),
    Case("manager", "/handovers/{handover_id}", label="/handovers/{id}"),
    Case(
        "manager",
        "/handovers/{harm_handover_id}",
        action=htmx_submit("form[action$='/move']", "#handover"),
        label="/handovers/{id} (moderate harm, errors)",
    ),
    Case("manager", "/measures"),
    Case(
        "manager",
        "/measures?from=2030-01-01&to=2020-01-01",
        status=422,
        label="/measures (errors)",
        shows="There is a problem",
    ),
    Case("manager", "/partners/{partner_id}", label="/partners/{id}"),
    Case(
        "manager",
        "/handovers?from=0001-01-01&to=9999-12-31",
        status=422,
        label="/handovers (dates out of range)",
        shows="There is a problem",
    ),
    Case(
        "manager",
        "/partners/{partner_id}?to=9999-12-31",
        status=422,
        label="/partners/{id} (date out of range)",
        shows="There is a problem",
    ),
    Case("manager", "/measures/delay-minutes-per-week/shape", label="/measures/{measure}/shape"),
    Case("manager", "/mine"),
    Case("manager", "/admin", status=403, label="403"),
    # An admin
    Case("admin", "/admin"),
    Case("admin", "/admin/users"),
    Case("admin", "/admin/users?role=manager", label="/admin/users (filtered)"),
    Case(
        "admin",
        "/admin/users?done=user_updated&id={user_id}",
        label="/admin/users (done banner)",
    ),
    Case("admin", "/admin/users/new"),
    Case(
        "admin",
        "/admin/users/new",
        action=submit_first_form("main form"),
        label="/admin/users/new (errors)",
    ),
    Case("admin", "/admin/users/{user_id}", label="/admin/users/{id}"),
    Case("admin", "/admin/teams"),
    Case("admin", "/admin/teams/new"),
    Case("admin", "/admin/teams/{team_id}", label="/admin/teams/{id}"),
    Case("admin", "/admin/partners"),
    Case("admin", "/admin/partners/new"),
    Case(
        "admin",
        "/admin/partners/new",
        action=submit_first_form("main form"),
        label="/admin/partners/new (errors)",
    ),
    Case("admin", "/admin/partners/{partner_id}", label="/admin/partners/{id}"),
    Case("admin", "/admin/aims"),
    Case("admin", "/admin/aims/new"),
    Case("admin", "/admin/aims/{aim_id}", label="/admin/aims/{id}"),
    Case("admin", "/mine", label="/mine (empty)", shows="You have not submitted anything yet."),
    # The improvement system (docs/improvement-system.md)
    Case("crew", "/huddle", label="/huddle (read only)"),
    Case("manager", "/huddle?team_id={team_id}", label="/huddle"),
    Case("manager", "/huddle?team_id={team_id}&view=wall", label="/huddle (wall screen)"),
    Case(
        "manager",
        "/huddle?team_id={team_id}",
        action=open_and_submit_move,
        label="/huddle (errors)",
    ),
    Case("crew", "/learning"),
    Case(
        "crew",
        "/learning?q=nothingmatchesthis",
        label="/learning (no results)",
        shows="No shared learning matches",
    ),
    Case("staff", "/learning/{learning_id}/try", label="/learning/{id}/try"),
    Case("crew", "/readiness"),
    Case(
        "crew",
        "/readiness",
        action=submit_first_form("form[action='/readiness']"),
        label="/readiness (errors)",
    ),
    Case("manager", "/readiness?team_id={team_id}", label="/readiness (a manager)"),
    # A partner organisation's user (the notes about them: tests/browser/test_partner_journey.py)
    Case("partner", "/partner"),
    Case(
        "partner",
        "/partner?category=infection_control&from=2001-01-01",
        label="/partner (no results)",
        shows="No notes match these filters.",
    ),
    Case("partner", "/partner/pack"),
    Case("partner", "/ideas/new"),
    Case("partner", "/mine"),
    Case("partner", "/handovers/new", status=403, label="403"),
]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_no_serious_axe_finding_and_no_layout_shift(
    case: Case,
    viewport: dict[str, int],
    pages: Callable[[str, dict[str, int]], Any],
    records: Records,
    live_server: LiveServer,
) -> None:
    page = pages(case.role, viewport)
    path = case.path.format(**records.__dict__)
    response = page.goto(f"{live_server.url}{path}")
    assert response is not None and response.status == case.status, (path, response.status)
    wait_until(page, case.ready)
    if case.action is not None:
        case.action(page)
    if case.shows:
        assert case.shows in page.text_content("main"), f"{path} does not say {case.shows!r}"
    assert_no_serious_violations(page, f"{case.id} ({path})")
    if case.action is None:
        # As opened, after its scripts have settled and axe has run (a second or so): the page
        # does not move under a reader's finger (CLS < 0.1, issue 16). Nobody touched it, so
        # every shift counts (the polls above are user gestures to Chromium).
        shift = layout_shift(page, with_input=True)
        assert shift < 0.1, f"{case.id} ({path}): layout shift {shift:.3f}"


def test_the_check_finds_a_planted_problem(
    pages: Callable[[str, dict[str, int]], Any], live_server: LiveServer
) -> None:
    """The checks above can fail: an image without a text alternative and a field without a label,
    put into a real page, are reported with their rule, impact and node."""
    page = pages("anonymous", PHONE)
    page.goto(f"{live_server.url}/login")
    wait_until(page, BASE_READY)
    page.evaluate(
        """() => {
          const main = document.querySelector('main');
          const img = document.createElement('img');
          img.id = 'planted-image';
          img.src = '/static/vendor/nhsuk-frontend/assets/images/nhsuk-icon-180.png';
          const input = document.createElement('input');
          input.id = 'planted-input';
          main.append(img, input);
        }"""
    )
    try:
        with pytest.raises(AssertionError) as failure:
            assert_no_serious_violations(page, "/login with planted problems")
    finally:
        page.goto(f"{live_server.url}/login")  # the shared page, as it was
    message = str(failure.value)
    assert "- image-alt (critical)" in message
    assert "at #planted-image" in message
    assert "- label (critical)" in message
    assert "at #planted-input" in message


def test_the_layout_shift_check_finds_a_planted_shift(
    pages: Callable[[str, dict[str, int]], Any], live_server: LiveServer
) -> None:
    """The layout check above can fail: a banner put above the content after the page has drawn,
    with no tap or key press before it (so Lighthouse would count it too), pushes everything down
    and is counted."""
    page = pages("anonymous", PHONE)
    page.goto(f"{live_server.url}/login")
    wait_until(page, BASE_READY)
    assert layout_shift(page, with_input=True) < 0.1
    try:
        page.evaluate(
            """() => setTimeout(() => {
              const banner = document.createElement('div');
              banner.style.height = '400px';
              document.querySelector('main').prepend(banner);
            }, 600)"""
        )
        # 600 ms after the evaluate: a shift without recent input, by either count.
        assert layout_shift(page, settle_ms=900) > 0.1
        assert layout_shift(page, with_input=True) > 0.1
    finally:
        page.goto(f"{live_server.url}/login")  # the shared page, as it was


# The phone's own states: queued, offline, needing attention ---------------------------------


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_serious_axe_finding_while_offline_with_an_item_queued(
    browser: Any, viewport: dict[str, int], live_server: LiveServer
) -> None:
    """A crew member with no signal: the form after "Saved on this phone", the outbox listing the
    waiting item, My submissions from the phone's copy, and the page shown for a page the phone
    has no copy of. Nothing is sent: the context is closed before it comes back online."""
    context = new_context(browser, viewport)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        start_signed_in(page, live_server, USERS["crew"])
        keep_for_offline(page, live_server, "/mine", "/outbox", "/handovers/new")

        context.set_offline(True)
        page.select_option("#partner_id", index=1)
        page.check("#categories")
        page.fill("#narrative", unique("Queued accessibility check"))
        page.click("form[data-record-form] button[type=submit]")
        wait_until(page, "!document.querySelector('[data-saved-panel]').hidden")
        wait_until(page, "document.querySelector('[data-outbox-count]').textContent.trim() === '1'")
        assert_no_serious_violations(page, "/handovers/new (saved on this phone, offline)")

        page.goto(f"{live_server.url}/outbox")
        wait_until(page, BASE_READY)
        assert [c["state"] for c in outbox_cards(page, 1)] == ["waiting"]
        assert_no_serious_violations(page, "/outbox (one item waiting, offline)")

        page.goto(f"{live_server.url}/mine")
        wait_until(page, BASE_READY)
        wait_until(page, "document.querySelector('.app-offline-copy') !== null")
        assert_no_serious_violations(page, "/mine (the phone's copy, offline)")

        page.goto(f"{live_server.url}/measures")  # never kept on the phone
        wait_until(page, BASE_READY)
        assert page.text_content("h1") == "You are offline"
        assert_no_serious_violations(page, "/offline (a page the phone has no copy of)")
    finally:
        context.close()


def crew_outbox_offline(context: Any, live_server: LiveServer) -> Any:
    """The crew's /outbox, kept for offline and opened with the network off."""
    page = context.new_page()
    page.set_default_timeout(15_000)
    start_signed_in(page, live_server, USERS["crew"])
    keep_for_offline(page, live_server, "/outbox")
    context.set_offline(True)
    page.goto(f"{live_server.url}/outbox")
    wait_until(page, BASE_READY)
    return page


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_serious_axe_finding_on_an_item_that_needs_attention(
    browser: Any, viewport: dict[str, int], live_server: LiveServer
) -> None:
    """An item the server refused: its card on /outbox and the form that fixes it, with the
    server's messages in the error summary."""
    context = new_context(browser, viewport)
    try:
        # Queued offline with a partner the server does not know (as tests/browser/test_offline.py
        # does), then sent: the server refuses it.
        page = crew_outbox_offline(context, live_server)
        bad_id = page.evaluate(
            """(narrative) => FrontlineOutboxClient.ready
                .then(c => c.store.enqueue({
                  id: FrontlineOutbox.newRecordId(), kind: 'handover', userId: c.userId,
                  data: {occurred_at: new Date(Date.now() - 2 * 3600e3).toISOString(),
                         partner_id: '999999', categories: ['handover_delay'],
                         narrative: narrative, created_at: new Date().toISOString()}}))
                .then(r => FrontlineOutboxClient.changed().then(() => r.item.id))""",
            unique("Refused accessibility check"),
        )
        context.set_offline(False)
        wait_until(
            page,
            "document.querySelector('.app-outbox-item[data-state=attention]') !== null",
            timeout=SEND_TIMEOUT,
        )
        assert [c["state"] for c in outbox_cards(page, 1)] == ["attention"]
        assert_no_serious_violations(page, "/outbox (an item needs attention)")

        page.goto(f"{live_server.url}/handovers/new?fix={bad_id}")
        wait_until(page, BASE_READY)
        wait_until(page, "document.querySelector('.nhsuk-error-summary') !== null")
        assert_no_serious_violations(page, "/handovers/new?fix= (the server's errors)")
    finally:
        context.close()


# Keyboard only -----------------------------------------------------------------------------

#: NHS.UK frontend's focus colour: every focused control is drawn with it (an outline, a
#: box-shadow or a background), and nothing is drawn with it at rest.
FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {visible: false, what: 'nothing (the page itself)'};
  const yellow = 'rgb(255, 235, 59)';
  const shows = (s) =>
    (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0
      && !/^rgba\\(\\d+, \\d+, \\d+, 0\\)$/.test(s.outlineColor))
    || s.boxShadow.includes(yellow) || s.backgroundColor === yellow;
  // NHS.UK radios and checkboxes hide the native control and draw it, and its focus ring, as
  // the label's ::before.
  const box = el.type === 'radio' || el.type === 'checkbox';
  const drawn = box && el.labels && el.labels[0] ? el.labels[0] : el;
  const style = getComputedStyle(drawn, box ? '::before' : null);
  const rect = drawn.getBoundingClientRect();
  const text = (el.getAttribute('aria-label') || el.textContent || el.value || '').trim();
  return {
    visible: rect.width > 0 && rect.height > 0 && shows(style),
    what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.name ? `[name=${el.name}]` : '') + (text ? ` "${text.slice(0, 40)}"` : ''),
  };
}"""


@dataclass
class Keyboard:
    """Moves focus with Tab and Shift+Tab only, checking that every stop on the way shows it."""

    page: Any
    unseen: list[str]

    def focus_state(self) -> dict[str, Any]:
        return self.page.evaluate(FOCUS_STATE)

    def settled_focus_state(self, tries: int = 20) -> dict[str, Any]:
        """Chromium moves focus into a date field's parts a moment after the field itself takes
        it, and styles it only then: look again for a while before calling the focus unseen."""
        state = self.focus_state()
        for _ in range(tries):
            if state["visible"]:
                break
            time.sleep(0.05)
            state = self.focus_state()
        return state

    def is_on(self, selector: str) -> bool:
        return bool(
            self.page.evaluate(
                "(s) => document.activeElement !== null && document.activeElement.matches(s)",
                selector,
            )
        )

    def tab_to(self, selector: str, *, backwards: bool = False, limit: int = 80) -> None:
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(limit):
            self.page.keyboard.press(key)
            state = self.settled_focus_state()
            if not state["visible"]:
                self.unseen.append(state["what"])
            if self.is_on(selector):
                return
        raise AssertionError(f"{limit} presses of {key} never reached {selector}")

    def assert_focus_always_visible(self) -> None:
        assert not self.unseen, "focus was not visible on: " + ", ".join(dict.fromkeys(self.unseen))


@pytest.fixture
def keyboard_page(browser: Any) -> Iterator[Any]:
    """A desktop browser (where a keyboard is), in the trust's language and time zone so the
    date field's parts come in a known order."""
    context = with_axe(
        browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London")
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


LONDON = ZoneInfo("Europe/London")


def day_equal_to_month_before(now: datetime) -> datetime:
    """The latest day before today whose day of the month equals its month (11 November, ...)."""
    day = now - timedelta(days=1)
    while day.day != day.month:
        day -= timedelta(days=1)
    return day.replace(second=0, microsecond=0)


def sign_in_by_keyboard(page: Any, server: LiveServer, who: tuple[str, str]) -> Keyboard:
    keys = Keyboard(page, [])
    page.goto(f"{server.url}/login")
    wait_until(page, BASE_READY)
    keys.tab_to("#email")
    page.keyboard.type(who[0])
    keys.tab_to("#password")
    page.keyboard.type(who[1])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{server.url}/"
    return keys


def open_form(page: Any, server: LiveServer, path: str) -> str:
    """Opens a record form and waits for its script; returns the record id it was given."""
    page.goto(f"{server.url}{path}")
    wait_until(page, BASE_READY)
    # The form script puts its own id in the hidden field once the outbox is open.
    return page.input_value("input[name=id]")


def submit_and_wait_until_sent(page: Any, keys: Keyboard) -> str:
    """Enter on the submit button; the "Saved on this phone" panel takes focus, visibly; then
    the phone sends it. Returns the record id."""
    record_id = page.input_value("input[name=id]")
    keys.tab_to("form[data-record-form] button[type=submit]")
    page.keyboard.press("Enter")
    wait_until(page, "!document.querySelector('[data-saved-panel]').hidden")
    assert keys.is_on("[data-saved-panel]")
    state = keys.focus_state()
    assert state["visible"], f"focus is not visible on {state['what']}"
    assert wait_sent(page, record_id)["outcome"] == "created"
    return record_id


def my_submissions(server: LiveServer, who: tuple[str, str]) -> dict[str, Any]:
    client = server.api(*who)
    try:
        return client.get("/api/v1/me/submissions").json()
    finally:
        client.close()


def test_a_handover_note_by_keyboard_alone_reaches_the_server_once(
    keyboard_page: Any, live_server: LiveServer
) -> None:
    page = keyboard_page
    keys = sign_in_by_keyboard(page, live_server, USERS["crew"])
    open_form(page, live_server, "/handovers/new")
    when = day_equal_to_month_before(datetime.now(LONDON)).replace(hour=10, minute=30)
    narrative = unique("Keyboard handover")

    # The date field's parts fill in turn, each moving on to the next when full (the year too: the
    # field's max bounds it to four digits). Headless Chromium orders them as en-US (month first,
    # 12-hour clock) whatever the locale, so the day equals the month and "A" sets AM where there
    # is such a part: the same keys then give the same time in either order.
    # The form's order since issue #11: what most notes need first, the rest under "More detail
    # (optional)", a details element opened with Enter on its summary.
    keys.tab_to("#partner_id")
    page.keyboard.press("ArrowDown")  # the first organisation after "Select an organisation"
    partner_id = page.input_value("#partner_id")
    assert partner_id
    keys.tab_to("#occurred_at")
    page.keyboard.type(when.strftime("%d%m%Y%H%M") + "A")
    assert page.input_value("#occurred_at") == when.strftime("%Y-%m-%dT%H:%M")
    keys.tab_to("#categories")
    page.keyboard.press("Space")
    keys.tab_to("#delay_minutes")
    page.keyboard.type("35")
    keys.tab_to("input[name=harm]")
    page.keyboard.press("Space")
    keys.tab_to("#narrative")
    page.keyboard.type(narrative)
    keys.tab_to("[data-more-detail] summary")
    page.keyboard.press("Enter")
    keys.tab_to("#location_detail")
    page.keyboard.type("ED ambulance bay")
    keys.tab_to("input[name=journey_type]")
    page.keyboard.press("ArrowDown")  # arrows move within a radio group and choose
    journey = page.evaluate("document.querySelector('input[name=journey_type]:checked').value")
    assert journey == "discharge"
    record_id = submit_and_wait_until_sent(page, keys)
    keys.assert_focus_always_visible()

    notes = [
        n
        for n in my_submissions(live_server, USERS["crew"])["handovers"]
        if n["narrative"] == narrative
    ]
    assert len(notes) == 1, f"the server holds {len(notes)} copies"
    note = notes[0]
    assert note["id"] == record_id
    assert datetime.fromisoformat(note["occurred_at"]).astimezone(when.tzinfo) == when
    assert (note["partner_id"], note["location_detail"], note["journey_type"]) == (
        int(partner_id),
        "ED ambulance bay",
        "discharge",
    )
    assert (note["categories"], note["delay_minutes"], note["harm"]) == (
        ["handover_delay"],
        35,
        "none",
    )


def test_an_idea_by_keyboard_alone_reaches_the_server_once(
    keyboard_page: Any, live_server: LiveServer
) -> None:
    page = keyboard_page
    keys = sign_in_by_keyboard(page, live_server, USERS["staff"])
    open_form(page, live_server, "/ideas/new")
    title = unique("Keyboard idea")

    keys.tab_to("#title")
    page.keyboard.type(title)
    keys.tab_to("#problem")
    page.keyboard.type("The trolley arrives after the crew.")
    keys.tab_to("#proposal")
    page.keyboard.type("Ask about the trolley when booking.")
    keys.tab_to("#aims")
    page.keyboard.press("Space")
    aim = page.input_value("#aims")
    keys.tab_to("#wastes")
    page.keyboard.press("Space")
    waste = page.input_value("#wastes")
    keys.tab_to("#team_id")
    page.keyboard.press("ArrowDown")
    team_id = page.input_value("#team_id")
    assert team_id
    keys.tab_to("input[name=show_name]")
    assert keys.is_on("input[name=show_name][value=true]:checked")  # the group's checked radio
    page.keyboard.press("ArrowDown")
    assert keys.is_on("input[name=show_name][value=false]:checked")
    record_id = submit_and_wait_until_sent(page, keys)
    keys.assert_focus_always_visible()

    ideas = [i for i in my_submissions(live_server, USERS["staff"])["ideas"] if i["title"] == title]
    assert len(ideas) == 1, f"the server holds {len(ideas)} copies"
    idea = ideas[0]
    assert idea["id"] == record_id
    assert (idea["aims"], idea["wastes"], idea["team_id"], idea["show_name"]) == (
        [int(aim)],
        [waste],
        int(team_id),
        False,
    )


@pytest.mark.parametrize("path", ["/handovers/new", "/ideas/new"])
def test_errors_by_keyboard_focus_the_summary_whose_links_focus_the_fields(
    keyboard_page: Any, live_server: LiveServer, path: str
) -> None:
    page = keyboard_page
    keys = sign_in_by_keyboard(page, live_server, USERS["crew"])
    record_id = open_form(page, live_server, path)

    keys.tab_to("form[data-record-form] button[type=submit]")
    page.keyboard.press("Enter")
    wait_until(page, "document.querySelector('.nhsuk-error-summary') !== null")
    assert keys.is_on(".nhsuk-error-summary"), "the error summary did not take focus"
    assert keys.focus_state()["visible"]
    hrefs = page.evaluate(
        "Array.from(document.querySelectorAll('.nhsuk-error-summary a'), a => a.getAttribute('href'))"
    )
    assert len(hrefs) >= 2, hrefs

    # Forward from the summary to its first link; after that, back up from the field to the next.
    for index, href in enumerate(hrefs):
        link = f".nhsuk-error-summary li:nth-child({index + 1}) a"
        keys.tab_to(link, backwards=index > 0)
        page.keyboard.press("Enter")
        wait_until(
            page, f"document.activeElement && document.activeElement.id === {json.dumps(href[1:])}"
        )
        state = keys.focus_state()
        assert state["visible"], f"focus is not visible on {state['what']}"
    keys.assert_focus_always_visible()

    # Nothing was sent, and nothing waits on the phone.
    assert page.text_content("[data-outbox-count]").strip() == "0"
    mine = my_submissions(live_server, USERS["crew"])
    assert record_id not in {r["id"] for r in mine["handovers"] + mine["ideas"]}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_serious_axe_finding_when_choosing_a_password_at_first_sign_in(
    browser: Any, viewport: dict[str, int], live_server: LiveServer
) -> None:
    """An account an admin has just added: the first sign-in goes to "Choose your password",
    empty and with its errors."""
    email = f"first.{uuid.uuid4().hex[:10]}@demo.nhs.uk"
    given = "given-by-the-admin-1"
    admin = live_server.api(*USERS["admin"])
    try:
        token = csrf_of(admin)
        added = admin.post(
            "/admin/users/new",
            data={
                "name": "First Timer",
                "email": email,
                "role": "reporter",
                "team_id": "",
                "password": given,
                "csrf_token": token,
            },
        )
        assert added.status_code == 303, added.text
    finally:
        admin.close()
    context = new_context(browser, viewport)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/login")
        page.fill("#email", email)
        page.fill("#password", given)
        with page.expect_navigation():
            page.click("form button[type=submit]")
        assert page.url == f"{live_server.url}/account/new-password"
        wait_until(page, BASE_READY)
        assert_no_serious_violations(page, "/account/new-password")
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert page.locator(".nhsuk-error-summary").is_visible()
        assert_no_serious_violations(page, "/account/new-password (errors)")
    finally:
        context.close()


def partner_note_errors(page: Any) -> None:
    """The partner's response form sent empty: the server's error summary."""
    with page.expect_navigation():
        page.click("form[action$='/response'] button[type=submit]")
    assert page.locator(".nhsuk-error-summary").is_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_serious_axe_finding_on_a_partners_notes(
    viewport: dict[str, int],
    pages: Callable[[str, dict[str, int]], Any],
    live_server: LiveServer,
) -> None:
    """/partner with a raised concern and a thanks in it, a note, and its response form's errors."""
    crew = live_server.api(*USERS["crew"])
    manager = live_server.api(*USERS["manager"])
    try:
        partners = crew.get("/api/v1/reference").json()["partners"]
        riverside = next(p["id"] for p in partners if p["name"] == "Riverside General Hospital")
        now = datetime.now(UTC)
        ids = []
        for extra in (
            {"categories": ["handover_delay"], "harm": "none"},
            {"note_type": "good_practice", "good_practice": ["patient_ready"], "categories": []},
        ):
            note_id = str(uuid.uuid4())
            api_call(
                crew,
                "POST",
                "/api/v1/handovers",
                json={
                    "id": note_id,
                    "occurred_at": (now - timedelta(hours=2)).isoformat(),
                    "partner_id": riverside,
                    "narrative": unique("Accessibility check partner note"),
                    **extra,
                },
            )
            ids.append(note_id)
        for to in ("reviewed", "raised_with_partner"):
            api_call(manager, "POST", f"/api/v1/handovers/{ids[0]}/transitions", json={"to": to})
    finally:
        crew.close()
        manager.close()
    page = pages("partner", viewport)
    for path, action in (
        ("/partner", None),
        (f"/partner/notes/{ids[0]}", None),
        (f"/partner/notes/{ids[1]}", None),
        (f"/partner/notes/{ids[0]}", partner_note_errors),
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        wait_until(page, BASE_READY)
        if action is not None:
            action(page)
        assert_no_serious_violations(page, f"partner:{path}")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_serious_axe_finding_on_a_long_outbox(
    browser: Any, viewport: dict[str, int], live_server: LiveServer
) -> None:
    """Issue 16, sixth pass: 60 items waiting with no signal, the 51st needing attention: /outbox
    draws the oldest 50 cards and the one needing attention, counts the other 9 with a button
    that draws them; then every card, focus on the first card not drawn before (the 52nd, not
    the attention card already on screen)."""
    context = new_context(browser, viewport)
    try:
        page = crew_outbox_offline(context, live_server)
        queue = page.evaluate(
            """(narrative) => FrontlineOutboxClient.ready.then(async (c) => {
                 const ids = [];
                 for (let i = 0; i < 60; i++) {
                   const r = await c.store.enqueue({
                     id: FrontlineOutbox.newRecordId(), kind: 'handover', userId: c.userId,
                     data: {occurred_at: new Date(Date.now() - 2 * 3600e3).toISOString(),
                            partner_id: '1', categories: ['handover_delay'],
                            narrative: narrative + ' ' + i}});
                   ids.push(r.item.id);
                 }
                 const listed = await c.store.listItems(c.userId);
                 await c.store.markAttention(listed[50].id, 'rejected',
                   [{field: 'narrative', message: 'Describe what happened'}],
                   'Frontline could not accept this.');
                 await FrontlineOutboxClient.changed();
                 return listed.map((item) => item.id);
               })""",
            unique("Long outbox accessibility check"),
        )
        assert len(outbox_cards(page, 51)) == 51
        assert "9 more items waiting to be sent are not shown." in page.text_content(
            "[data-outbox-more]"
        )
        assert_no_serious_violations(page, "/outbox (a long outbox: 50 cards and 9 counted)")
        page.click("[data-outbox-more] [data-action=show-all]")
        assert len(outbox_cards(page, 60)) == 60
        assert page.evaluate("document.activeElement.id") == f"item-{queue[51]}"
        assert_no_serious_violations(page, "/outbox (a long outbox, every card shown)")
    finally:
        context.close()
