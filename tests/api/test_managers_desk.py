"""The manager's desk (issue #12): filter menus that are filled and remember the choice, the
result count and export links, open ideas by default, the manager's home, bulk review of
handover notes, the LFPSE reference, partner sites, duplicates and names in the history."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from api.db import open_session
from api.handovers.response_wait import response_overdue
from api.handovers.service import overdue_if_raised_before
from schemas.accounts import Partner
from schemas.audit import AuditEvent
from schemas.handovers import Handover
from schemas.ideas import Idea
from tests.records import handover_data, idea_data, new_id, reference_ids


def send_idea(client: Any, **overrides: Any) -> str:
    record_id = new_id()
    response = client.post("/api/v1/ideas", json={"id": record_id, **idea_data(**overrides)})
    assert response.status_code == 201, response.text
    return record_id


def send_note(client: Any, **overrides: Any) -> str:
    record_id = new_id()
    response = client.post(
        "/api/v1/handovers", json={"id": record_id, **handover_data(**overrides)}
    )
    assert response.status_code == 201, response.text
    return record_id


def options(html: str, select_id: str) -> list[tuple[str, bool]]:
    """(value, selected) of each option of the select with this id."""
    block = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    assert block, f"no select #{select_id}"
    return [
        (m.group(1), "selected" in m.group(0))
        for m in re.finditer(r'<option value="([^"]*)"[^>]*>', block.group(1))
    ]


def note(note_id: str) -> Handover:
    with open_session(write=False) as session:
        found = session.get(Handover, uuid.UUID(note_id))
        assert found is not None
        session.expunge(found)
        return found


def transitions(note_id: str) -> list[tuple[str | None, str | None]]:
    with open_session(write=False) as session:
        rows = session.execute(
            select(AuditEvent.from_status, AuditEvent.to_status)
            .where(AuditEvent.record_id == uuid.UUID(note_id), AuditEvent.action == "transition")
            .order_by(AuditEvent.id)
        ).all()
    return [(r[0], r[1]) for r in rows]


# The ideas queue


def test_every_queue_menu_lists_its_choices_and_shows_the_one_chosen(manager: Any) -> None:
    ids = reference_ids()
    page = manager.get(
        "/triage",
        params={"status": "submitted", "team_id": ids["teams"][1], "waste": "motion"},
    ).text
    for menu in ("status", "flag", "team_id", "aim", "waste", "owner_id", "sort"):
        assert len(options(page, menu)) >= 2, f"the {menu} menu is empty"
    assert ("submitted", True) in options(page, "status")
    assert (str(ids["teams"][1]), True) in options(page, "team_id")
    assert ("motion", True) in options(page, "waste")
    assert ("", False) in options(page, "status")  # "Any status" offered, not chosen


def test_the_queue_shows_open_ideas_unless_closed_are_included(staff: Any, manager: Any) -> None:
    open_id = send_idea(staff, title="Still open idea")
    closed_id = send_idea(staff, title="Declined idea here")
    moved = manager.post(
        f"/api/v1/ideas/{closed_id}/transitions",
        json={"to": "declined", "note": "Not now.", "equity_note": "Checked."},
    )
    assert moved.status_code == 200, moved.text
    default = manager.get("/triage").text
    assert "Still open idea" in default and "Declined idea here" not in default
    assert "<strong>1</strong> idea (open)" in default
    assert 'href="/api/v1/export/ideas.csv?open_only=true"' in default
    everything = manager.get("/triage", params={"include_closed": "1"}).text
    assert "Declined idea here" in everything and "<strong>2</strong> ideas" in everything
    # A status chosen from the menu wins over the default.
    declined = manager.get("/triage", params={"status": "declined"}).text
    assert "Declined idea here" in declined and "Still open idea" not in declined
    assert open_id


def test_the_export_link_carries_the_filters_and_gives_the_same_ideas(
    staff: Any, manager: Any
) -> None:
    send_idea(staff, title="Waiting idea", wastes=["waiting"])
    send_idea(staff, title="Motion idea", wastes=["motion"])
    page = manager.get("/triage", params={"waste": "waiting"}).text
    link = re.search(r'href="(/api/v1/export/ideas\.csv\?[^"]+)"', page)
    assert link, "no export link"
    href = link.group(1).replace("&amp;", "&")
    assert "waste=waiting" in href and "open_only=true" in href
    csv = manager.get(href).text
    assert "Waiting idea" in csv and "Motion idea" not in csv


def test_the_htmx_filter_answers_only_the_results(staff: Any, manager: Any) -> None:
    send_idea(staff, title="Fragment idea")
    answer = manager.get(
        "/triage", params={"q": "Fragment"}, headers={"HX-Request": "true", "HX-Target": "queue"}
    )
    # The results, and the filter panel's summary out of band (it is outside #queue).
    summary = (
        '<span class="nhsuk-details__summary-text" id="queue-filters-in-use" '
        'hx-swap-oob="true">Filters (1 in use)</span>'
    )
    assert answer.text.lstrip().startswith(summary)
    assert answer.text.lstrip().removeprefix(summary).lstrip().startswith('<div id="queue"')
    assert "Fragment idea" in answer.text and "<html" not in answer.text
    # The whole page has the summary once, in the panel, not out of band.
    page = manager.get("/triage", params={"q": "Fragment"}).text
    assert page.count('id="queue-filters-in-use"') == 1 and "hx-swap-oob" not in page


def test_the_matrix_is_a_two_by_two_grid(manager: Any) -> None:
    page = manager.get("/triage", params={"view": "matrix"}).text
    assert page.count("app-matrix__cell app-matrix__cell--") == 4
    assert "Impact ↑" in page and "Effort →" in page


# An idea


def test_a_duplicate_is_found_by_title_and_the_two_link_each_other(
    staff: Any, manager: Any
) -> None:
    original = send_idea(staff, title="Ramps on every vehicle")
    copy = send_idea(staff, title="More ramps please")
    manager.post(f"/api/v1/ideas/{copy}/transitions", json={"to": "under_review"})
    found = manager.get(f"/triage/ideas/{copy}/originals", params={"dup_q": "ramps vehicle"}).text
    assert original in found and "Ramps on every vehicle" in found
    assert copy not in found  # never itself
    # Without JavaScript: the page itself lists what matches, with "duplicate" chosen.
    page = manager.get(f"/triage/ideas/{copy}", params={"dup_q": "every vehicle"}).text
    assert f'value="{original}"' in page
    assert re.search(r'value="duplicate"\s+checked|checked[^>]*value="duplicate"', page)
    moved = manager.form(
        f"/triage/ideas/{copy}/move",
        {"to": "duplicate", "duplicate_of": original, "version": "2"},
        page=f"/triage/ideas/{copy}",
    )
    assert moved.status_code == 303, moved.text
    assert (
        f'href="/triage/ideas/{original}">Ramps on every vehicle'
        in manager.get(f"/triage/ideas/{copy}").text
    )
    assert (
        f'href="/triage/ideas/{copy}">More ramps please'
        in manager.get(f"/triage/ideas/{original}").text
    )


def test_a_duplicate_without_an_original_chosen_is_refused(staff: Any, manager: Any) -> None:
    copy = send_idea(staff)
    response = manager.form(
        f"/triage/ideas/{copy}/move",
        {"to": "duplicate", "duplicate_of": "", "version": "1"},
        page=f"/triage/ideas/{copy}",
    )
    assert response.status_code == 422
    assert 'href="#duplicate_of"' in response.text
    assert manager.get(f"/api/v1/ideas/{copy}").json()["status"] == "submitted"


def test_the_history_names_the_owner_not_their_number(staff: Any, manager: Any) -> None:
    idea_id = send_idea(staff)
    me = manager.get("/api/v1/me").json()
    saved = manager.form(
        f"/triage/ideas/{idea_id}/rate",
        {"owner_id": str(me["id"]), "impact": "2", "effort": "1", "version": "1"},
        page=f"/triage/ideas/{idea_id}",
    )
    assert saved.status_code == 303
    page = manager.get(f"/triage/ideas/{idea_id}").text
    assert f"owner: {me['name']}" in page and f"owner: {me['id']}," not in page


# Handover notes


def test_bulk_raise_reviews_new_notes_first_and_leaves_the_others_alone(
    crew: Any, manager: Any
) -> None:
    fresh = send_note(crew, narrative="Fresh note one")
    reviewed = send_note(crew, narrative="Reviewed note two")
    resolved = send_note(crew, narrative="Resolved note three")
    manager.post(f"/api/v1/handovers/{reviewed}/transitions", json={"to": "reviewed"})
    manager.post(f"/api/v1/handovers/{resolved}/transitions", json={"to": "resolved"})
    form = {
        "ids": [fresh, reviewed, resolved],
        f"version-{fresh}": "1",
        f"version-{reviewed}": "2",
        f"version-{resolved}": "2",
        "action": "raise",
    }
    response = manager.form("/handovers/bulk", form, page="/handovers")
    assert response.status_code == 200, response.text
    assert "2 notes were raised with the partner" in response.text
    assert "it is resolved" in response.text
    assert note(fresh).status == "raised_with_partner" and note(fresh).raised_at is not None
    assert transitions(fresh) == [("new", "reviewed"), ("reviewed", "raised_with_partner")]
    assert transitions(reviewed)[-1] == ("reviewed", "raised_with_partner")
    assert note(resolved).status == "resolved"


def test_bulk_raise_refuses_a_note_someone_else_changed(crew: Any, manager: Any) -> None:
    changed = send_note(crew)
    other = send_note(crew)
    manager.post(f"/api/v1/handovers/{changed}/transitions", json={"to": "reviewed"})
    form = {
        "ids": [changed, other],
        f"version-{changed}": "1",  # the list was loaded before the change
        f"version-{other}": "1",
        "action": "raise",
    }
    response = manager.form("/handovers/bulk", form, page="/handovers")
    assert "1 note was raised with the partner" in response.text
    assert "someone else changed it" in response.text
    assert note(changed).status == "reviewed" and note(other).status == "raised_with_partner"


def test_one_partner_answer_is_recorded_on_each_raised_note(crew: Any, manager: Any) -> None:
    raised = [send_note(crew) for _ in range(2)]
    not_raised = send_note(crew)
    for note_id in raised:
        manager.post(f"/api/v1/handovers/{note_id}/transitions", json={"to": "reviewed"})
        manager.post(f"/api/v1/handovers/{note_id}/transitions", json={"to": "raised_with_partner"})
    form = {
        "ids": [*raised, not_raised],
        **{f"version-{i}": "3" for i in raised},
        f"version-{not_raised}": "1",
        "action": "respond",
        "partner_response": "A second nurse at the ambulance door from 5pm.",
    }
    response = manager.form("/handovers/bulk", form, page="/handovers")
    assert "2 notes were given the partner" in response.text
    assert "it has not been raised with the partner" in response.text
    for note_id in raised:
        stored = note(note_id)
        assert stored.partner_response.startswith("A second nurse")
        assert stored.partner_response_at is not None
    assert note(not_raised).partner_response == ""
    assert "A second nurse at the ambulance door" in crew.get("/mine").text


def test_bulk_actions_without_a_choice_or_an_answer_are_refused(crew: Any, manager: Any) -> None:
    note_id = send_note(crew)
    nothing = manager.form("/handovers/bulk", {"action": "raise"}, page="/handovers")
    assert nothing.status_code == 422 and 'href="#ids"' in nothing.text
    empty = manager.form(
        "/handovers/bulk",
        {"ids": [note_id], f"version-{note_id}": "1", "action": "respond"},
        page="/handovers",
    )
    assert empty.status_code == 422 and 'href="#partner_response"' in empty.text
    pid = manager.form(
        "/handovers/bulk",
        {
            "ids": [note_id],
            "action": "respond",
            "partner_response": "Patient 943 476 5919",
        },
        page="/handovers",
    )
    assert pid.status_code == 422 and "NHS number" in pid.text
    assert note(note_id).status == "new" and note(note_id).partner_response == ""


def test_the_lfpse_reference_is_checked_saved_and_clears_the_flag(crew: Any, manager: Any) -> None:
    note_id = send_note(crew, harm="severe", narrative="Fell on the ramp")
    flagged = manager.get("/handovers", params={"attention": "no_lfpse"}).text
    assert "Fell on the ramp" in flagged and "No LFPSE reference" in flagged
    page = f"/handovers/{note_id}"
    assert "Severe harm: no LFPSE reference yet" in manager.get(page).text
    bad = manager.form(f"{page}/lfpse", {"lfpse_reference": "<script>", "version": "1"}, page=page)
    assert bad.status_code == 422 and 'href="#lfpse_reference"' in bad.text
    assert note(note_id).lfpse_reference == ""
    good = manager.form(
        f"{page}/lfpse", {"lfpse_reference": " lfpse-2026-0012345 ", "version": "1"}, page=page
    )
    assert good.status_code == 303
    assert note(note_id).lfpse_reference == "LFPSE-2026-0012345"
    shown = manager.get(page).text
    assert "LFPSE reference: LFPSE-2026-0012345" in shown  # in the history
    # The box says so in bold, as markup, not as its tags written out.
    assert "<strong>Severe harm.</strong> Patient safety report (LFPSE): LFPSE-2026-0012345" in shown
    assert "&lt;strong&gt;" not in shown and "harm harm" not in shown
    assert (
        "Fell on the ramp" not in manager.get("/handovers", params={"attention": "no_lfpse"}).text
    )


def test_an_organisation_covers_its_sites_and_a_site_only_itself(crew: Any, manager: Any) -> None:
    hospital, ed = reference_ids()["partners"][:2]
    with open_session(write=True) as session:
        session.execute(update(Partner).where(Partner.id == ed).values(parent_id=hospital))
        session.commit()
    send_note(crew, partner_id=hospital, narrative="At the main entrance")
    send_note(crew, partner_id=ed, narrative="In the ED bay")
    whole = manager.get("/handovers", params={"partner_id": hospital}).text
    assert "At the main entrance" in whole and "In the ED bay" in whole
    site = manager.get("/handovers", params={"partner_id": ed}).text
    assert "In the ED bay" in site and "At the main entrance" not in site
    menu = options(whole, "partner_id")
    assert (str(hospital), True) in menu and (str(ed), False) in menu
    api = manager.get("/api/v1/handovers", params={"partner_id": hospital}).json()
    assert len(api["items"]) == 2


def test_the_overdue_filter_agrees_with_the_one_rule(crew: Any, manager: Any) -> None:
    now = datetime.now(UTC)
    for days in (1, 5, 13, 15, 20, 40):
        raised = now - timedelta(days=days)
        cutoff = overdue_if_raised_before(now)
        assert (raised < cutoff) == response_overdue(raised, None, now), days
    old = send_note(crew, narrative="Raised long ago")
    recent = send_note(crew, narrative="Raised this morning")
    for note_id, days in ((old, 30), (recent, 0)):
        manager.post(f"/api/v1/handovers/{note_id}/transitions", json={"to": "reviewed"})
        manager.post(f"/api/v1/handovers/{note_id}/transitions", json={"to": "raised_with_partner"})
        with open_session(write=True) as session:
            session.execute(
                update(Handover)
                .where(Handover.id == uuid.UUID(note_id))
                .values(raised_at=now - timedelta(days=days))
            )
            session.commit()
    overdue = manager.get("/handovers", params={"attention": "overdue"}).text
    assert "Raised long ago" in overdue and "Raised this morning" not in overdue
    waiting = manager.get("/handovers", params={"attention": "awaiting_response"}).text
    assert "Raised long ago" in waiting and "Raised this morning" in waiting


# The manager's home


def test_the_managers_home_counts_what_needs_them_and_links_to_it(
    crew: Any, staff: Any, manager: Any
) -> None:
    old_idea = send_idea(staff, title="Waiting a fortnight")
    with open_session(write=True) as session:
        session.execute(
            update(Idea)
            .where(Idea.id == uuid.UUID(old_idea))
            .values(received_at=datetime.now(UTC) - timedelta(days=14))
        )
        session.commit()
    send_note(crew, harm="moderate")
    send_note(crew)
    home = manager.get("/").text
    assert "What needs you today" in home

    def count_for(href: str) -> int:
        found = re.search(
            rf'href="{re.escape(href)}"><span class="app-today__count">(\d+)</span>', home
        )
        assert found, f"no count linking to {href}"
        return int(found.group(1))

    assert count_for("/triage?flag=needs_first_response") == 1
    assert count_for("/handovers?status=new") == 2
    assert count_for("/handovers?attention=harm_unreviewed") == 1
    assert count_for("/handovers?attention=no_lfpse") == 1
    assert count_for("/handovers?attention=awaiting_response") == 0
    assert "Waiting a fortnight" in manager.get("/triage?flag=needs_first_response").text
    assert "What needs you today" not in crew.get("/").text
