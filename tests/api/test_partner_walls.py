"""The walls around a partner organisation's user (SPEC §2, §6; EVIDENCE E12), swept over EVERY
route of the app: a partner may use the few routes in PARTNER_MAY (with the answers listed there);
every other route answers 403, so a route another change adds later is walled unless it is added to
the table on purpose. Path parameters name real records a route without its role check would
happily show (a note about the partner's own organisation, a staff member's idea, the partner's own
organisation's manager pack), so a 403 here comes from the role check, not from a missing record."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from api.db import open_session
from schemas.accounts import User
from tests.api.test_good_practice_notes import good_practice_data
from tests.conftest import Client
from tests.records import handover_data, idea_data, new_id, reference_ids

# (method, path template) -> the statuses a partner's user gets. Everything else: 403.
PARTNER_MAY: dict[tuple[str, str], set[int]] = {
    ("GET", "/"): {303},  # to /partner
    ("GET", "/partner"): {200},
    ("GET", "/partner/notes/{note_id}"): {200},
    ("POST", "/partner/notes/{note_id}/acknowledge"): {303},
    ("POST", "/partner/notes/{note_id}/response"): {422},  # an empty form: the error summary
    ("GET", "/partner/pack"): {200},
    ("GET", "/api/v1/handovers"): {200},  # their organisation's shared notes, anonymised
    ("GET", "/api/v1/handovers/{note_id}"): {200},
    ("POST", "/api/v1/handovers/{note_id}/acknowledge"): {200},
    ("POST", "/api/v1/handovers/{note_id}/response"): {422},  # no body
    # Joint improvement: the idea form and API, their own submissions and feedback.
    ("GET", "/ideas/new"): {200},
    ("POST", "/ideas"): {422},
    ("POST", "/api/v1/ideas"): {422},
    ("GET", "/api/v1/ideas/{idea_id}"): {404},  # a staff member's idea: not theirs
    ("GET", "/api/v1/ideas/{idea_id}/events"): {404},
    ("GET", "/submitted/{kind}/{record_id}"): {404},
    ("POST", "/api/v1/sync"): {422},  # ideas only (tests/api/test_partners.py)
    ("GET", "/mine"): {200},
    ("POST", "/mine/notifications/read"): {200, 204, 303},
    ("GET", "/outbox"): {200},
    ("GET", "/api/v1/reference"): {200},  # their own organisation only among the partners
    ("GET", "/api/v1/me"): {200},
    ("GET", "/api/v1/me/submissions"): {200},
    ("GET", "/api/v1/me/notifications"): {200},
    ("GET", "/api/v1/push/vapid-public-key"): {200},
    ("POST", "/api/v1/push/subscriptions"): {422},
    ("DELETE", "/api/v1/push/subscriptions"): {422},
    # Their own submissions in full, and a reply to a reviewer (someone else's record: 404).
    ("GET", "/mine/ideas/{record_id}"): {404},
    ("GET", "/mine/handovers/{record_id}"): {404},
    ("POST", "/mine/{kinds}/{record_id}/replies"): {422},  # path words the sweep cannot fill
    # Their own account: change the password, like anyone signed in.
    ("GET", "/account"): {200},
    ("POST", "/account/password"): {422},
    ("GET", "/account/new-password"): {303},  # nothing to choose: back home
    ("POST", "/account/new-password"): {303},
}
# Outside the role walls for everyone (sign-in, health, the app shell, the API description for
# any signed-in user): any answer but a server error.
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/logout"),
    ("POST", "/logout"),
    ("GET", "/signup"),
    ("POST", "/signup"),
    ("GET", "/healthz"),
    ("GET", "/offline"),
    ("GET", "/sw.js"),
    ("GET", "/manifest.webmanifest"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/signup/confirm"),
    ("POST", "/signup/confirm"),
    ("GET", "/login/nhsmail"),
    ("GET", "/login/nhsmail/callback"),
    ("GET", "/metrics"),  # operators' token or addresses, not a role
}
CREW_NAME = "Casey Crew"
VEHICLE = "PTS12"


def every_route(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, through included routers, as the app will serve them."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:  # FastAPI's included router
                yield from walk(inner.routes, prefix + route.include_context.prefix)
            elif getattr(route, "methods", None):
                for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                    yield method, prefix + route.path

    yield from walk(app.routes, "")


@pytest.fixture
def records(crew: Client, staff: Client, manager: Client) -> dict[str, str]:
    """A raised note about the partner's own organisation and a staff member's idea."""
    note_id = new_id()
    assert (
        crew.post("/api/v1/handovers", json={"id": note_id, **handover_data()}).status_code == 201
    )
    for status in ("reviewed", "raised_with_partner"):
        manager.post(f"/api/v1/handovers/{note_id}/transitions", json={"to": status})
    idea_id = new_id()
    assert staff.post("/api/v1/ideas", json={"id": idea_id, **idea_data()}).status_code == 201
    with open_session(write=False) as session:
        admin_id = session.execute(
            select(User.id).where(User.email == "admin@demo.nhs.uk")
        ).scalar_one()
    return {
        "note_id": note_id,
        "idea_id": idea_id,
        "record_id": idea_id,
        "kind": "idea",
        "user_id": str(admin_id),
        "partner_id": str(reference_ids()["partners"][0]),  # their own organisation
        "slug": "teams",
        "item_id": "1",
        "cycle_id": "1",
        "measure": "handovers-per-week",
    }


def concrete(template: str, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return values.get(name, "1")

    return re.sub(r"\{([^}]+)\}", fill, template)


def call(client: Client, method: str, path: str, body: Any = None) -> Any:
    if method == "GET":
        return client.get(path)
    headers = {"X-CSRF-Token": client.csrf}
    return client.http.request(method, path, headers=headers, json=body or {})


def test_the_table_names_only_routes_that_exist(app: Any) -> None:
    routes = set(every_route(app))
    assert set(PARTNER_MAY) <= routes, set(PARTNER_MAY) - routes
    assert routes >= PUBLIC, PUBLIC - routes


def test_a_partner_user_gets_403_on_every_route_not_in_their_table(
    app: Any, partner: Client, records: dict[str, str]
) -> None:
    walled = []
    for method, template in every_route(app):
        if (method, template) in PARTNER_MAY or (method, template) in PUBLIC:
            continue
        answer = call(partner, method, concrete(template, records))
        if answer.status_code != 403:
            walled.append((method, template, answer.status_code))
    assert walled == [], f"a partner's user got past the wall on: {walled}"


def test_a_partner_user_gets_what_their_table_says_on_their_routes(
    app: Any, partner: Client, records: dict[str, str]
) -> None:
    wrong = []
    for (method, template), expected in PARTNER_MAY.items():
        answer = call(partner, method, concrete(template, records))
        if answer.status_code not in expected:
            wrong.append((method, template, answer.status_code, answer.text[:200]))
    assert wrong == []
    for method, template in PUBLIC:
        if method == "GET":
            assert call(partner, method, concrete(template, records)).status_code < 500


def test_nothing_a_partner_may_read_names_a_crew_member_or_a_vehicle(
    app: Any, partner: Client, records: dict[str, str], crew: Client
) -> None:
    thanks = new_id()
    crew.post("/api/v1/handovers", json={"id": thanks, **good_practice_data()})
    for (method, template), expected in PARTNER_MAY.items():
        if method != "GET" or expected != {200}:
            continue
        for values in (records, {**records, "note_id": thanks}):
            body = partner.get(concrete(template, values)).text
            assert CREW_NAME not in body, template
            assert VEHICLE not in body, template
            assert '"reported_by"' not in body and '"reporter_name"' not in body, template


def test_another_organisations_note_is_404_to_a_partner_everywhere(
    crew: Client, manager: Client, partner: Client
) -> None:
    note_id = new_id()
    other = reference_ids()["partners"][2]
    crew.post("/api/v1/handovers", json={"id": note_id, **handover_data(partner_id=other)})
    for status in ("reviewed", "raised_with_partner"):
        manager.post(f"/api/v1/handovers/{note_id}/transitions", json={"to": status})
    for method, template in PARTNER_MAY:
        if "{note_id}" not in template:
            continue
        path = template.replace("{note_id}", note_id)
        answer = call(partner, method, path, {"body": "A valid answer."})
        assert answer.status_code == 404, (method, template, answer.status_code)
    missing = str(uuid.uuid4())
    assert partner.get(f"/api/v1/handovers/{missing}").status_code == 404


def test_the_trusts_staff_get_403_on_every_partner_only_route(
    app: Any, crew: Client, manager: Client, admin: Client, records: dict[str, str]
) -> None:
    partner_only = [
        (m, t)
        for m, t in every_route(app)
        if t.startswith("/partner/") or t == "/partner" or t.endswith(("/acknowledge", "/response"))
    ]
    assert len(partner_only) >= 7
    for client in (crew, manager, admin):
        for method, template in partner_only:
            answer = call(client, method, concrete(template, records))
            assert answer.status_code == 403, (method, template, answer.status_code)
