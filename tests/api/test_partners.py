"""Partnership working across organisations (SPEC §2, §4, §6): a partner organisation's user reads
the notes about their organisation, acknowledges and answers them; the answer reaches the crew
member and the trust; good practice arrives as thanks; ideas from partners join the queue."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from api.db import open_session
from schemas.accounts import Partner, User
from schemas.audit import AuditEvent, Notification
from schemas.handovers import Handover
from schemas.ideas import Idea
from schemas.push import PushSubscription
from schemas.timestamps import utcnow
from tests.api.test_good_practice_notes import good_practice_data
from tests.conftest import ROOT, Client
from tests.records import handover_data, idea_data, new_id, reference_ids

CREW_NAME = "Casey Crew"
VALID_NHS_NUMBER = "943 476 5919"


def log_note(crew: Client, **change: Any) -> str:
    note_id = new_id()
    answer = crew.post("/api/v1/handovers", json={"id": note_id, **handover_data(**change)})
    assert answer.status_code == 201, answer.text
    return note_id


def raise_note(manager: Client, note_id: str) -> None:
    for status in ("reviewed", "raised_with_partner"):
        moved = manager.post(f"/api/v1/handovers/{note_id}/transitions", json={"to": status})
        assert moved.status_code == 200, moved.text


def own_partner_id() -> int:
    return reference_ids()["partners"][0]


def other_partner_id() -> int:
    return reference_ids()["partners"][2]


def add_site(name: str = "Riverside General Hospital – Ward 9") -> int:
    with open_session(write=True) as session:
        site = Partner(name=name, kind="ward", parent_id=own_partner_id())
        session.add(site)
        session.commit()
        return int(site.id)  # type: ignore[arg-type]


def set_raised_at(note_id: str, days_ago: int) -> None:
    with open_session(write=True) as session:
        session.execute(
            update(Handover)
            .where(Handover.id == __import__("uuid").UUID(note_id))
            .values(raised_at=utcnow() - timedelta(days=days_ago))
        )
        session.commit()


# What a partner sees


def test_a_partner_sees_raised_notes_and_thanks_about_their_organisation_only(
    crew: Client, manager: Client, partner: Client
) -> None:
    raised = log_note(crew)
    raise_note(manager, raised)
    new_concern = log_note(crew)
    reviewed = log_note(crew)
    manager.post(f"/api/v1/handovers/{reviewed}/transitions", json={"to": "reviewed"})
    thanks_id = new_id()
    assert (
        crew.post("/api/v1/handovers", json={"id": thanks_id, **good_practice_data()}).status_code
        == 201
    )
    elsewhere = log_note(crew, partner_id=other_partner_id())
    raise_note(manager, elsewhere)

    listed = partner.get("/api/v1/handovers").json()
    ids = {item["id"] for item in listed["items"]}
    assert ids == {raised, thanks_id}
    assert listed["next_cursor"] is None
    for hidden in (new_concern, reviewed, elsewhere):
        assert partner.get(f"/api/v1/handovers/{hidden}").status_code == 404
    page = partner.get("/partner")
    assert page.status_code == 200
    assert "Thanks" in page.text and "Raised with you" in page.text
    assert f"/partner/notes/{new_concern}" not in page.text
    assert f"/partner/notes/{elsewhere}" not in page.text
    assert partner.get(f"/partner/notes/{elsewhere}").status_code == 404


def test_a_partner_reads_notes_without_crew_names_or_vehicles(
    crew: Client, manager: Client, partner: Client
) -> None:
    note_id = log_note(crew, vehicle="PTS99")
    raise_note(manager, note_id)
    manager.patch(
        f"/api/v1/handovers/{note_id}",
        json={"review_note": "Internal: chase the bed manager"},
        headers={"If-Match": '"3"'},
    )
    note = partner.get(f"/api/v1/handovers/{note_id}").json()
    for crew_field in ("reported_by", "reporter_name", "vehicle", "review_note", "version"):
        assert crew_field not in note
    assert note["partner_name"] == "Riverside General Hospital"
    for path in ("/partner", f"/partner/notes/{note_id}"):
        text = partner.get(path).text
        assert CREW_NAME not in text
        assert "PTS99" not in text
        assert "chase the bed manager" not in text


def test_the_notes_of_a_site_reach_its_organisations_users_and_the_site_filter_picks_one(
    crew: Client, manager: Client, partner: Client
) -> None:
    site = add_site()
    at_site = log_note(crew, partner_id=site)
    at_hospital = log_note(crew)
    for note_id in (at_site, at_hospital):
        raise_note(manager, note_id)
    assert {i["id"] for i in partner.get("/api/v1/handovers").json()["items"]} == {
        at_site,
        at_hospital,
    }
    only_site = partner.get(f"/api/v1/handovers?partner_id={site}").json()["items"]
    assert [i["id"] for i in only_site] == [at_site]
    page = partner.get(f"/partner?site_id={site}")
    assert 'id="site_id"' in page.text
    assert f"/partner/notes/{at_site}" in page.text
    assert f"/partner/notes/{at_hospital}" not in page.text


def test_the_partner_filters_by_category_kind_and_date(
    crew: Client, manager: Client, partner: Client
) -> None:
    paperwork = log_note(crew, categories=["missing_paperwork"])
    delay = log_note(crew, categories=["handover_delay"])
    for note_id in (paperwork, delay):
        raise_note(manager, note_id)
    thanks_id = new_id()
    crew.post("/api/v1/handovers", json={"id": thanks_id, **good_practice_data()})
    page = partner.get("/partner?category=missing_paperwork").text
    assert f"/partner/notes/{paperwork}" in page and f"/partner/notes/{delay}" not in page
    page = partner.get("/partner?note_type=good_practice").text
    assert f"/partner/notes/{thanks_id}" in page and f"/partner/notes/{delay}" not in page
    page = partner.get("/partner?from=2001-01-01&to=2001-01-31").text
    assert "No notes match these filters." in page
    # Nonsense in the menus is ignored, not an error.
    assert partner.get("/partner?category=nonsense&site_id=abc&from=x").status_code == 200


# Acknowledge and respond


def test_acknowledging_is_stamped_once_audited_and_told_to_the_crew(
    crew: Client, manager: Client, partner: Client
) -> None:
    note_id = log_note(crew)
    raise_note(manager, note_id)
    first = partner.post(f"/api/v1/handovers/{note_id}/acknowledge")
    assert first.status_code == 200, first.text
    stamped = first.json()["partner_acknowledged_at"]
    assert stamped
    again = partner.post(f"/api/v1/handovers/{note_id}/acknowledge")
    assert again.json()["partner_acknowledged_at"] == stamped
    with open_session(write=False) as session:
        events = list(
            session.execute(select(AuditEvent).where(AuditEvent.action == "acknowledge")).scalars()
        )
    assert len(events) == 1
    mine = crew.get("/api/v1/me/submissions").json()
    assert "The partner organisation has read this note." in [
        f["text"] for f in mine["feedback"][note_id]
    ]


def test_a_partners_response_reaches_the_crew_member_and_the_trusts_managers(
    crew: Client, manager: Client, partner: Client
) -> None:
    note_id = log_note(crew)
    raise_note(manager, note_id)
    answer = "We have added a second handover nurse in ED at peak times."
    sent = partner.post(f"/api/v1/handovers/{note_id}/response", json={"body": answer})
    assert sent.status_code == 200, sent.text
    assert sent.json()["partner_response"] == answer
    assert sent.json()["partner_acknowledged_at"] is not None

    # The crew member: under My submissions (data and page) and as a notification.
    feedback = crew.get("/api/v1/me/submissions").json()["feedback"][note_id]
    assert f"The partner organisation responded: {answer}" in [f["text"] for f in feedback]
    assert answer in crew.get("/mine").text
    texts = [n["text"] for n in crew.get("/api/v1/me/notifications").json()]
    assert "Your handover note has a response from the partner organisation" in texts
    # The managers: on the note (API and page, with who answered in the history).
    assert manager.get(f"/api/v1/handovers/{note_id}").json()["partner_response"] == answer
    page = manager.get(f"/handovers/{note_id}").text
    assert "The partner organisation responded" in page and answer in page
    assert "Responded for the partner organisation" in page
    # In the list of notes, the answer shows at a glance where "waiting" was.
    listed = manager.get("/handovers", params={"status": "raised_with_partner"}).text
    assert "The partner answered" in listed and "Waiting for the partner" not in listed
    # An audit event with who answered.
    with open_session(write=False) as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == "partner_response")
        ).scalar_one()
        partner_user = session.execute(
            select(User).where(User.email == "partner@demo.nhs.uk")
        ).scalar_one()
        stored = session.get(Handover, __import__("uuid").UUID(note_id))
    assert event.actor_id == partner_user.id and event.note == answer
    assert stored is not None and stored.partner_response_by == partner_user.id


def test_the_push_for_a_response_carries_no_words_of_it(
    crew: Client, manager: Client, partner: Client
) -> None:
    from api.push import messages

    note_id = log_note(crew)
    message = messages.handover_partner_responded(__import__("uuid").UUID(note_id))
    assert "second nurse" not in message.body and message.url == f"/mine#handover-{note_id}"
    for_managers = messages.handover_partner_answered_for_managers(__import__("uuid").UUID(note_id))
    assert for_managers.url == f"/handovers/{note_id}"
    # Nobody has a subscription in the demo trust: the response still goes through.
    with open_session(write=False) as session:
        assert session.execute(select(PushSubscription)).first() is None


@pytest.mark.parametrize(
    ("body", "status", "field_text"),
    [
        ({"body": ""}, 422, "body"),
        ({"body": "   "}, 422, "body"),
        ({"body": f"Patient {VALID_NHS_NUMBER} was moved"}, 422, "NHS number"),
        ({"body": "x" * 4001}, 422, "body"),
        ({"body": "ok", "partner_response_by": 1}, 422, "partner_response_by"),
        ({}, 422, "body"),
    ],
)
def test_a_bad_response_is_refused_and_changes_nothing(
    crew: Client, manager: Client, partner: Client, body: Any, status: int, field_text: str
) -> None:
    note_id = log_note(crew)
    raise_note(manager, note_id)
    answer = partner.post(f"/api/v1/handovers/{note_id}/response", json=body)
    assert answer.status_code == status
    assert field_text in answer.text
    assert partner.get(f"/api/v1/handovers/{note_id}").json()["partner_response"] == ""
    with open_session(write=False) as session:
        assert (
            session.execute(
                select(AuditEvent).where(AuditEvent.action == "partner_response")
            ).first()
            is None
        )


def test_the_response_form_works_without_javascript_and_shows_errors(
    crew: Client, manager: Client, partner: Client
) -> None:
    note_id = log_note(crew)
    raise_note(manager, note_id)
    page = f"/partner/notes/{note_id}"
    refused = partner.form(f"{page}/response", {"body": f"NHS {VALID_NHS_NUMBER}"}, page=page)
    assert refused.status_code == 422
    assert "There is a problem" in refused.text and 'href="#body"' in refused.text
    assert "<title>Error:" in refused.text
    empty = partner.form(f"{page}/response", {"body": ""}, page=page)
    assert empty.status_code == 422 and "There is a problem" in empty.text
    read = partner.form(f"{page}/acknowledge", {}, page=page)
    assert read.status_code == 303
    sent = partner.form(f"{page}/response", {"body": "Porters now meet PTS at the bay."}, page=page)
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=responded")
    shown = partner.get(sent.headers["location"]).text
    assert "Your response was sent" in shown and "Porters now meet PTS at the bay." in shown


def test_a_response_or_acknowledgement_without_the_csrf_token_is_refused(
    crew: Client, manager: Client, partner: Client
) -> None:
    note_id = log_note(crew)
    raise_note(manager, note_id)
    for path in ("response", "acknowledge"):
        bare = partner.http.post(f"/api/v1/handovers/{note_id}/{path}", json={"body": "x"})
        assert bare.status_code == 403
        form = partner.http.post(f"/partner/notes/{note_id}/{path}", data={"body": "x"})
        assert form.status_code == 403
    assert partner.get(f"/api/v1/handovers/{note_id}").json()["partner_acknowledged_at"] is None


def test_a_partner_cannot_answer_another_organisations_note_or_an_unraised_one(
    crew: Client, manager: Client, partner: Client
) -> None:
    elsewhere = log_note(crew, partner_id=other_partner_id())
    raise_note(manager, elsewhere)
    unraised = log_note(crew)
    for note_id in (elsewhere, unraised, new_id()):
        for path in ("response", "acknowledge"):
            answer = partner.post(f"/api/v1/handovers/{note_id}/{path}", json={"body": "x"})
            assert answer.status_code == 404
    with open_session(write=False) as session:
        assert (
            session.execute(select(AuditEvent).where(AuditEvent.action != "transition")).first()
            is None
        )


def test_staff_cannot_use_the_partner_answer_endpoints(crew: Client, manager: Client) -> None:
    note_id = log_note(crew)
    raise_note(manager, note_id)
    for client in (crew, manager):
        for path in ("response", "acknowledge"):
            answer = client.post(f"/api/v1/handovers/{note_id}/{path}", json={"body": "x"})
            assert answer.status_code == 403
        assert client.get("/partner").status_code == 403


# Overdue: flagged to both sides


def test_a_raised_note_unanswered_for_10_working_days_is_flagged_to_both_sides(
    crew: Client, manager: Client, partner: Client
) -> None:
    late = log_note(crew)
    recent = log_note(crew)
    for note_id in (late, recent):
        raise_note(manager, note_id)
    set_raised_at(late, days_ago=30)
    listed = {i["id"]: i for i in partner.get("/api/v1/handovers").json()["items"]}
    assert listed[late]["response_overdue"] is True
    assert listed[recent]["response_overdue"] is False
    assert "Response overdue" in partner.get(f"/partner/notes/{late}").text
    assert "Response overdue" not in partner.get(f"/partner/notes/{recent}").text
    assert "1 concern has had no response" in partner.get("/partner").text
    assert manager.get(f"/api/v1/handovers/{late}").json()["response_overdue"] is True
    assert "Partner response overdue" in manager.get(f"/handovers/{late}").text
    assert "Partner&#39;s answer overdue" in manager.get("/handovers").text
    # Answering clears it, on both sides.
    partner.post(f"/api/v1/handovers/{late}/response", json={"body": "Sorry for the wait."})
    assert "Partner response overdue" not in manager.get(f"/handovers/{late}").text
    assert "no response" not in partner.get("/partner").text


# Good practice: thanks without being raised


def test_good_practice_reaches_the_partner_as_thanks_at_once(crew: Client, partner: Client) -> None:
    thanks_id = new_id()
    crew.post("/api/v1/handovers", json={"id": thanks_id, **good_practice_data()})
    note = partner.get(f"/api/v1/handovers/{thanks_id}").json()
    assert note["note_type"] == "good_practice" and note["status"] == "new"
    assert note["response_overdue"] is False
    page = partner.get(f"/partner/notes/{thanks_id}").text
    assert "Thanks from our crew" in page and "Patient ready on time" in page
    assert "Response overdue" not in page


def test_the_partners_pack_counts_thanks_beside_concerns_and_has_the_trend_chart(
    crew: Client, manager: Client, partner: Client
) -> None:
    log_note(crew)
    crew.post("/api/v1/handovers", json={"id": new_id(), **good_practice_data()})
    page = partner.get("/partner/pack")
    assert page.status_code == 200
    assert "Partnership review: Riverside General Hospital" in page.text
    assert "<svg" in page.text
    assert re.search(r"app-figure__value\">1</span> concerns", page.text)
    assert re.search(r"app-figure__value\">1</span> good-practice notes", page.text)
    assert CREW_NAME not in page.text and "PTS12" not in page.text
    assert 'action="/partner/pack"' in page.text
    bad = partner.get("/partner/pack?from=2026-02-01&to=2026-01-01")
    assert bad.status_code == 422 and "There is a problem" in bad.text


# Joint improvement: ideas from partners


def test_a_partners_idea_joins_the_queue_marked_with_their_organisation(
    partner: Client, manager: Client
) -> None:
    idea_id = new_id()
    sent = partner.post("/api/v1/ideas", json={"id": idea_id, **idea_data()})
    assert sent.status_code == 201, sent.text
    assert sent.json()["partner_id"] == own_partner_id()
    queued = manager.get(f"/api/v1/ideas/{idea_id}").json()
    assert queued["partner_id"] == own_partner_id()
    assert partner.get("/mine").status_code == 200
    assert idea_id in {i["id"] for i in partner.get("/api/v1/me/submissions").json()["ideas"]}
    # Feedback reaches the partner like any submitter.
    manager.post(f"/api/v1/ideas/{idea_id}/comments", json={"body": "Let's test this together."})
    feedback = partner.get("/api/v1/me/submissions").json()["feedback"][idea_id]
    assert "Comment: Let's test this together." in [f["text"] for f in feedback]


def test_a_client_cannot_set_an_ideas_partner(partner: Client, staff: Client) -> None:
    refused = partner.post(
        "/api/v1/ideas", json={"id": new_id(), **idea_data(), "partner_id": other_partner_id()}
    )
    assert refused.status_code == 422
    staff_idea = staff.post("/api/v1/ideas", json={"id": new_id(), **idea_data()})
    assert staff_idea.json()["partner_id"] is None


def test_a_partner_sends_ideas_by_sync_but_not_handover_notes(partner: Client) -> None:
    idea_id, note_id = new_id(), new_id()
    answer = partner.post(
        "/api/v1/sync",
        json={
            "items": [
                {"kind": "idea", "id": idea_id, "data": idea_data()},
                {"kind": "handover", "id": note_id, "data": handover_data()},
            ]
        },
    )
    results = answer.json()["results"]
    assert results[0]["outcome"] == "created"
    assert results[1]["outcome"] == "rejected" and results[1]["errors"][0]["field"] == "kind"
    with open_session(write=False) as session:
        assert session.get(Handover, __import__("uuid").UUID(note_id)) is None
        idea = session.get(Idea, __import__("uuid").UUID(idea_id))
        assert idea is not None and idea.partner_id == own_partner_id()


def test_the_partner_is_shown_only_their_own_organisation_in_the_reference_lists(
    partner: Client, crew: Client
) -> None:
    site = add_site()
    names = {p["id"] for p in partner.get("/api/v1/reference").json()["partners"]}
    assert names == {own_partner_id(), site}
    assert len(crew.get("/api/v1/reference").json()["partners"]) > 2


# Accounts


def test_the_demo_partner_user_starts_at_their_notes(partner: Client) -> None:
    me = partner.get("/api/v1/me").json()
    assert me["role"] == "partner"
    home = partner.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/partner"
    page = partner.get("/partner").text
    assert "Notes about Riverside General Hospital" in page
    assert 'href="/handovers/new"' not in page and 'href="/triage"' not in page


def test_an_admin_creates_a_partner_user_only_with_an_organisation(admin: Client) -> None:
    page = "/admin/users/new"
    base = {
        "name": "Petra Partner",
        "email": "petra@riverside.nhs.uk",
        "role": "partner",
        "team_id": "",
        "password": "a-long-enough-password-1",
    }
    refused = admin.form("/admin/users/new", {**base, "partner_id": ""}, page=page)
    assert refused.status_code == 422
    assert "Select the partner organisation this person works for" in refused.text
    made = admin.form("/admin/users/new", {**base, "partner_id": str(own_partner_id())}, page=page)
    assert made.status_code == 303, made.text
    with open_session(write=False) as session:
        user = session.execute(select(User).where(User.email == base["email"])).scalar_one()
    assert user.role == "partner" and user.partner_id == own_partner_id()
    # The list says whom they work for where staff have their team.
    listed = admin.get("/admin/users", params={"q": "petra"}).text
    assert "Riverside General Hospital (partner organisation)" in listed
    assert "No team" not in listed

    # Their page offers no staff role; a member of staff's offers no partner's.
    def roles_offered(page: str) -> set[str]:
        return set(re.findall(r'name="role" type="radio" value="([a-z]+)"', page))

    assert roles_offered(admin.get(f"/admin/users/{user.id}").text) == {"partner"}
    with open_session(write=False) as session:
        crew = session.execute(select(User).where(User.email == "crew@demo.nhs.uk")).scalar_one()
    assert roles_offered(admin.get(f"/admin/users/{crew.id}").text) == {
        "reporter",
        "manager",
        "admin",
    }


def test_a_staff_account_with_an_organisation_chosen_is_refused_not_saved_without_it(
    admin: Client,
) -> None:
    page = "/admin/users/new"
    form = {
        "name": "Robin Reporter",
        "email": "robin@demo.nhs.uk",
        "role": "reporter",
        "team_id": "",
        "password": "a-long-enough-password-1",
        "partner_id": str(own_partner_id()),
    }
    refused = admin.form(page, form, page=page)
    assert refused.status_code == 422
    assert "Only a partner organisation&#39;s user works for a partner organisation" in (
        refused.text
    )
    assert 'href="#partner_id"' in refused.text
    with open_session(write=False) as session:
        assert session.execute(select(User).where(User.email == form["email"])).first() is None
    made = admin.form(page, {**form, "partner_id": ""}, page=page)
    assert made.status_code == 303, made.text


def test_create_user_on_the_command_line_makes_a_partner_user(database_url: str) -> None:
    command = [sys.executable, "-m", "api.cli", "create-user", "--email", "pat@oak.nhs.uk"]
    command += ["--name", "Pat Oak", "--role", "partner", "--password-stdin"]
    env = {"DATABASE_URL": database_url, "FRONTLINE_ENVIRONMENT": "test", "PATH": "/usr/bin"}
    refused = subprocess.run(
        command,
        input="a-long-enough-password-1\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert refused.returncode == 1 and "partner_id" in refused.stderr
    made = subprocess.run(
        [*command, "--partner-id", str(own_partner_id())],
        input="a-long-enough-password-1\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    assert "Created partner pat@oak.nhs.uk" in made.stdout


def test_notifications_are_for_the_submitter_only(
    crew: Client, manager: Client, partner: Client
) -> None:
    note_id = log_note(crew)
    raise_note(manager, note_id)
    partner.post(f"/api/v1/handovers/{note_id}/response", json={"body": "Thank you."})
    with open_session(write=False) as session:
        owners = set(session.execute(select(Notification.user_id)).scalars())
        crew_id = session.execute(
            select(User.id).where(User.email == "crew@demo.nhs.uk")
        ).scalar_one()
    assert owners == {crew_id}


def test_the_queue_and_the_idea_page_show_which_partner_an_idea_came_from(
    partner: Client, manager: Client
) -> None:
    idea_id = new_id()
    partner.post("/api/v1/ideas", json={"id": idea_id, **idea_data()})
    assert "From a partner: Riverside General Hospital" in manager.get("/triage").text
    page = manager.get(f"/triage/ideas/{idea_id}").text
    assert "Pat Partner (Riverside General Hospital, a partner organisation)" in page


def test_a_partner_submits_an_idea_with_the_form_without_javascript(partner: Client) -> None:
    data = idea_data()
    idea_id = new_id()
    form = {
        "id": idea_id,
        "title": data["title"],
        "problem": data["problem"],
        "proposal": data["proposal"],
        "wastes": data["wastes"],
        "aims": [str(a) for a in data["aims"]],
        "team_id": str(data["team_id"]),
        "benefits": data["benefits"],
        "show_name": "true",
    }
    sent = partner.form("/ideas", form, page="/ideas/new")
    assert sent.status_code == 303, sent.text
    assert partner.get(sent.headers["location"]).status_code == 200
    with open_session(write=False) as session:
        idea = session.get(Idea, __import__("uuid").UUID(idea_id))
    assert idea is not None and idea.partner_id == own_partner_id()


def test_ideas_are_still_found_by_their_words_after_migration_0013(
    staff: Client, manager: Client
) -> None:
    """Adding idea.partner_id must not rebuild the idea table on SQLite (its search triggers)."""
    idea_id = new_id()
    staff.post(
        "/api/v1/ideas", json={"id": idea_id, **idea_data(title="Rota for the bariatric trolley")}
    )
    found = manager.get("/api/v1/ideas", params={"q": "ROTA"}).json()["items"]
    assert [i["id"] for i in found] == [idea_id]
