"""The admin area (SPEC §2, §6 `/admin`): accounts, teams, partner organisations and strategic aims,
as an admin sees them, and what everyone else gets."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from api.admin.routes import router
from api.db import open_session
from api.log_format import JsonFormatter
from schemas.accounts import Aim, Partner, Team, User, UserSession
from tests.conftest import DEMO_PASSWORDS, Client
from tests.records import handover_data, new_id

CREW = "crew@demo.nhs.uk"
MANAGER = "manager@demo.nhs.uk"
ADMIN = "admin@demo.nhs.uk"
NEW_PASSWORD = "a-long-enough-password"
NEED_AN_ADMIN = "Frontline needs at least one active admin"


# Helpers


OWN_PASSWORD = "my own choice of words"


def sign_in_choosing_own_password(app: Any, email: str, given: str) -> Client:
    """Sign in with the password an admin gave: nothing but "choose your password" opens until
    the person has chosen their own (api/auth/new_password.py)."""
    person = Client(app)
    token = person.page_token("/login")
    signed_in = person.http.post(
        "/login", data={"email": email, "password": given, "csrf_token": token, "next": "/triage"}
    )
    assert signed_in.headers["location"] == "/account/new-password"
    assert person.get("/api/v1/me").status_code == 403
    assert person.get("/").headers["location"] == "/account/new-password"
    assert person.get("/mine").headers["location"] == "/account/new-password"
    chosen = person.form(
        "/account/new-password", {"password": OWN_PASSWORD, "confirm_password": OWN_PASSWORD}
    )
    assert chosen.status_code == 303, chosen.text
    person.csrf = person.http.get("/api/v1/me").json()["csrf_token"]
    return person


def count(model: Any, *where: Any) -> int:
    with open_session(write=False) as session:
        statement = select(func.count()).select_from(model).where(*where)
        return int(session.execute(statement).scalar_one())


def user(email: str) -> User:
    with open_session(write=False) as session:
        return session.execute(select(User).where(User.email == email)).scalar_one()


def item_id(model: Any, name: str) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(model.id).where(model.name == name)).scalar_one())


def first_id(model: Any) -> int:
    with open_session(write=False) as session:
        return int(session.execute(select(model.id).order_by(model.id)).scalars().first())


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def main_text(html: str) -> str:
    """The words of the page's main content, without the header (which names who is signed in)."""
    return text_of(html.split('id="maincontent"', 1)[1].split("</main>", 1)[0])


def error_summary(html: str) -> str:
    match = re.search(r'<div class="nhsuk-error-summary".*?</div>\s*</div>', html, re.S)
    assert match, "no error summary on the page"
    return text_of(match.group(0))


def banner(html: str) -> str:
    match = re.search(
        r'<div class="nhsuk-notification-banner[^"]*--success.*?</div>\s*</div>', html, re.S
    )
    assert match, "no success banner on the page"
    return text_of(match.group(0))


def attempt_sign_in(app: Any, email: str, password: str) -> Any:
    browser = Client(app)
    token = browser.page_token("/login")
    return browser.http.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )


def new_user_form(**overrides: str) -> dict[str, str]:
    form = {
        "name": "Nia Newcomer",
        "email": "nia.newcomer@demo.nhs.uk",
        "role": "reporter",
        "team_id": str(first_id(Team)),
        "password": "correct horse battery",
    }
    form.update(overrides)
    return form


def post_action(admin: Client, url: str, page: str) -> Any:
    return admin.form(url, {}, page=page)


# The admin home


def test_the_admin_home_links_every_list_with_its_counts(admin: Client) -> None:
    page = admin.get("/admin")
    assert page.status_code == 200
    for href in ("/admin/users", "/admin/teams", "/admin/partners", "/admin/aims"):
        assert f'href="{href}"' in page.text
    words = text_of(page.text)
    # Four staff and the demo partner organisation's user.
    assert "5 active, 0 deactivated, 1 admin" in words
    assert f"{count(Partner)} active, 0 deactivated" in words


# Accounts


def test_an_admin_adds_a_user_who_can_then_sign_in(app: Any, admin: Client) -> None:
    response = admin.form("/admin/users/new", new_user_form(role="manager"))
    assert response.status_code == 303
    added = user("nia.newcomer@demo.nhs.uk")
    assert response.headers["location"] == f"/admin/users?done=user_created&id={added.id}"
    assert added.role == "manager" and added.active
    listing = admin.get(response.headers["location"]).text
    assert "Account created: Nia Newcomer" in banner(listing)
    assert "nia.newcomer@demo.nhs.uk" in listing

    newcomer = sign_in_choosing_own_password(
        app, "nia.newcomer@demo.nhs.uk", "correct horse battery"
    )
    me = newcomer.get("/api/v1/me").json()
    assert (me["name"], me["role"], me["team_id"]) == ("Nia Newcomer", "manager", first_id(Team))


def test_a_duplicate_email_is_refused_whatever_its_case(admin: Client) -> None:
    before = count(User)
    response = admin.form("/admin/users/new", new_user_form(email="  Crew@Demo.NHS.uk "))
    assert response.status_code == 422
    assert "An account with this email already exists" in error_summary(response.text)
    assert 'href="#email"' in response.text
    assert 'value="Nia Newcomer"' in response.text  # what was typed stays
    assert count(User) == before


def test_bad_account_input_names_every_field_and_adds_no_one(admin: Client) -> None:
    before = count(User)
    form = new_user_form(
        name="", email="not-an-email", role="owner", team_id="99999", password="short"
    )
    response = admin.form("/admin/users/new", form)
    assert response.status_code == 422
    summary = response.text.split('class="nhsuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    hrefs = re.findall(r'href="#(\w+)"', summary)
    assert hrefs == ["name", "email", "role", "team_id", "password"]
    assert "Select a role" in error_summary(response.text)
    assert 'value="not-an-email"' in response.text
    assert "short" not in re.findall(r'name="password"[^>]*', response.text)[0]  # never echoed
    assert count(User) == before


def test_a_deactivated_team_is_not_offered_for_a_new_account(admin: Client) -> None:
    team = first_id(Team)
    admin.form(f"/admin/teams/{team}/deactivate", {}, page=f"/admin/teams/{team}")
    page = admin.get("/admin/users/new").text
    # The team menu only (the partner organisation menu has ids of its own).
    team_menu = page.split('id="team_id"', 1)[1].split("</select>", 1)[0]
    assert f'value="{team}"' not in team_menu
    response = admin.form("/admin/users/new", new_user_form(team_id=str(team)))
    assert response.status_code == 422
    assert 'href="#team_id"' in response.text


def test_deactivating_a_user_ends_their_sessions_at_once_and_they_cannot_sign_in(
    app: Any, admin: Client, crew: Client
) -> None:
    other_phone = Client(app).sign_in(CREW)
    crew_id = user(CREW).id
    assert crew.get("/api/v1/me").status_code == 200

    response = post_action(admin, f"/admin/users/{crew_id}/deactivate", f"/admin/users/{crew_id}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/users?done=user_deactivated&id={crew_id}"
    assert "Account deactivated" in banner(admin.get(response.headers["location"]).text)

    assert crew.get("/api/v1/me").status_code == 401
    assert other_phone.get("/api/v1/me").status_code == 401
    assert crew.get("/mine").status_code == 303
    assert count(UserSession, UserSession.user_id == crew_id, UserSession.revoked_at.is_(None)) == 0
    assert not user(CREW).active
    assert attempt_sign_in(app, CREW, DEMO_PASSWORDS[CREW]).status_code == 422
    assert admin.get("/api/v1/me").status_code == 200  # the admin is untouched


def test_reactivation_lets_them_sign_in_again_with_a_new_session(
    app: Any, admin: Client, crew: Client
) -> None:
    crew_id = user(CREW).id
    page = f"/admin/users/{crew_id}"
    post_action(admin, f"{page}/deactivate", page)
    assert "Reactivate account" in admin.get(page).text
    response = post_action(admin, f"{page}/reactivate", page)
    assert response.status_code == 303
    assert "Account reactivated" in banner(admin.get(response.headers["location"]).text)

    assert crew.get("/api/v1/me").status_code == 401  # the old session stays over
    again = Client(app).sign_in(CREW)
    assert again.get("/api/v1/me").json()["email"] == CREW


def test_an_admin_cannot_deactivate_themselves(admin: Client) -> None:
    own = user(ADMIN).id
    page = admin.get(f"/admin/users/{own}").text
    assert "You cannot deactivate your own account" in page
    assert f'action="/admin/users/{own}/deactivate"' not in page

    response = post_action(admin, f"/admin/users/{own}/deactivate", f"/admin/users/{own}")
    assert response.status_code == 422
    assert "You cannot deactivate your own account" in error_summary(response.text)
    assert 'href="#deactivate"' in response.text
    assert user(ADMIN).active
    assert admin.get("/api/v1/me").status_code == 200


def test_the_last_active_admin_cannot_give_up_the_admin_role(admin: Client, app: Any) -> None:
    own = user(ADMIN)
    form = {"name": own.name, "role": "manager", "team_id": str(own.team_id)}
    response = admin.form(f"/admin/users/{own.id}", form)
    assert response.status_code == 422
    assert NEED_AN_ADMIN in error_summary(response.text)
    assert 'href="#role"' in response.text
    assert user(ADMIN).role == "admin"

    # With a second admin, the first may step down, and the admin pages are then closed to them.
    manager = user(MANAGER)
    promote = {"name": manager.name, "role": "admin", "team_id": str(manager.team_id)}
    assert admin.form(f"/admin/users/{manager.id}", promote).status_code == 303
    stepped_down = admin.form(f"/admin/users/{own.id}", form)
    assert stepped_down.status_code == 303
    assert stepped_down.headers["location"] == "/"
    assert admin.get("/admin").status_code == 403
    assert user(ADMIN).role == "manager"
    assert Client(app).sign_in(MANAGER).get("/admin").status_code == 200


def test_a_deactivated_admin_does_not_count_as_the_remaining_admin(admin: Client) -> None:
    manager = user(MANAGER)
    promote = {"name": manager.name, "role": "admin", "team_id": str(manager.team_id)}
    admin.form(f"/admin/users/{manager.id}", promote)
    page = f"/admin/users/{manager.id}"
    assert post_action(admin, f"{page}/deactivate", page).status_code == 303
    own = user(ADMIN)
    form = {"name": own.name, "role": "reporter", "team_id": ""}
    assert admin.form(f"/admin/users/{own.id}", form).status_code == 422
    assert user(ADMIN).role == "admin"


def test_an_admin_changes_name_role_and_team(admin: Client, crew: Client) -> None:
    crew_user = user(CREW)
    team = item_id(Team, "Emergency Department")
    form = {"name": "Casey Crewmember", "role": "manager", "team_id": str(team)}
    response = admin.form(f"/admin/users/{crew_user.id}", form)
    assert response.status_code == 303
    assert "Account updated: Casey Crewmember" in banner(
        admin.get(response.headers["location"]).text
    )
    me = crew.get("/api/v1/me").json()  # their session carries on with the new role
    assert (me["name"], me["role"], me["team_id"]) == ("Casey Crewmember", "manager", team)
    assert user(CREW).email == CREW


def test_bad_edit_input_is_shown_again_and_changes_nothing(admin: Client) -> None:
    crew_user = user(CREW)
    form = {"name": "  ", "role": "captain", "team_id": "abc"}
    response = admin.form(f"/admin/users/{crew_user.id}", form)
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert "Enter their full name" in summary and "Select a role" in summary
    assert "Select a team from the list" in summary
    after = user(CREW)
    assert (after.name, after.role, after.team_id) == (
        crew_user.name,
        crew_user.role,
        crew_user.team_id,
    )


def test_a_user_keeps_their_deactivated_team_when_other_details_change(admin: Client) -> None:
    crew_user = user(CREW)
    team = crew_user.team_id
    admin.form(f"/admin/teams/{team}/deactivate", {}, page=f"/admin/teams/{team}")
    page = admin.get(f"/admin/users/{crew_user.id}").text
    assert "(deactivated)" in page
    form = {"name": "Casey C", "role": "reporter", "team_id": str(team)}
    assert admin.form(f"/admin/users/{crew_user.id}", form).status_code == 303
    assert user(CREW).team_id == team
    # ...but nobody else can be moved into it.
    manager = user(MANAGER)
    move = {"name": manager.name, "role": "manager", "team_id": str(team)}
    assert admin.form(f"/admin/users/{manager.id}", move).status_code == 422


def test_an_admin_sets_a_new_password_and_the_user_is_signed_out(
    app: Any, admin: Client, crew: Client
) -> None:
    crew_id = user(CREW).id
    page = f"/admin/users/{crew_id}"
    response = admin.form(f"{page}/password", {"new_password": NEW_PASSWORD}, page=page)
    assert response.status_code == 303
    assert "Password changed" in banner(admin.get(response.headers["location"]).text)
    assert crew.get("/api/v1/me").status_code == 401
    assert attempt_sign_in(app, CREW, DEMO_PASSWORDS[CREW]).status_code == 422
    crew_again = sign_in_choosing_own_password(app, CREW, NEW_PASSWORD)
    assert crew_again.get("/api/v1/me").status_code == 200


def test_a_short_new_password_is_refused_and_the_old_one_still_works(
    app: Any, admin: Client, crew: Client
) -> None:
    crew_id = user(CREW).id
    page = f"/admin/users/{crew_id}"
    response = admin.form(f"{page}/password", {"new_password": "too-short"}, page=page)
    assert response.status_code == 422
    assert "at least 12 characters" in error_summary(response.text)
    assert 'href="#new_password"' in response.text
    assert crew.get("/api/v1/me").status_code == 200
    assert attempt_sign_in(app, CREW, DEMO_PASSWORDS[CREW]).status_code == 303


def test_an_admin_who_resets_their_own_password_signs_in_again(app: Any, admin: Client) -> None:
    own = user(ADMIN).id
    page = f"/admin/users/{own}"
    response = admin.form(f"{page}/password", {"new_password": NEW_PASSWORD}, page=page)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert admin.get("/api/v1/me").status_code == 401
    assert Client(app).sign_in(ADMIN, NEW_PASSWORD).get("/admin").status_code == 200


def test_the_user_list_filters_by_text_role_and_status(admin: Client) -> None:
    crew_id = user(CREW).id
    post_action(admin, f"/admin/users/{crew_id}/deactivate", f"/admin/users/{crew_id}")

    everyone = main_text(admin.get("/admin/users").text)
    # Four staff and the demo partner organisation's user.
    assert "5 users" in everyone
    assert "Casey Crew" in everyone and "Deactivated" in everyone

    by_text = main_text(admin.get("/admin/users", params={"q": "MORGAN"}).text)
    assert "1 user" in by_text and "Morgan Manager" in by_text and "Casey Crew" not in by_text
    by_email = main_text(admin.get("/admin/users", params={"q": "staff@"}).text)
    assert "Sam Staff" in by_email and "Alex Admin" not in by_email
    by_role = main_text(admin.get("/admin/users", params={"role": "reporter"}).text)
    assert "2 users" in by_role and "Sam Staff" in by_role and "Morgan Manager" not in by_role
    deactivated = main_text(admin.get("/admin/users", params={"status": "deactivated"}).text)
    assert "1 user" in deactivated and "Casey Crew" in deactivated
    active = main_text(admin.get("/admin/users", params={"status": "active"}).text)
    assert "4 users" in active and "Casey Crew" not in active
    # A % or _ is taken literally, and an unknown filter value means "any".
    assert "0 users" in main_text(admin.get("/admin/users", params={"q": "%"}).text)
    assert "5 users" in main_text(admin.get("/admin/users", params={"role": "boss"}).text)


def test_more_than_a_hundred_users_are_shown_a_hundred_at_a_time(admin: Client) -> None:
    with open_session(write=True) as session:
        for n in range(105):
            session.add(
                User(
                    email=f"p{n:03}@demo.nhs.uk",
                    name=f"Person {n:03}",
                    password_hash="x",
                    role="reporter",
                )
            )
        session.commit()
    first = admin.get("/admin/users", params={"q": "person"})
    words = text_of(first.text)
    assert "105 users, page 1 of 2" in words
    assert "Person 099" in words and "Person 100" not in words
    assert 'href="/admin/users?q=person&amp;page=2"' in first.text
    second = text_of(admin.get("/admin/users", params={"q": "person", "page": 2}).text)
    assert "page 2 of 2" in second and "Person 104" in second and "Person 000" not in second
    # A page past the end shows the last one.
    assert "page 2 of 2" in text_of(admin.get("/admin/users", params={"page": 9}).text)


def test_the_filter_form_works_with_htmx_swapping_only_the_results(admin: Client) -> None:
    page = admin.get("/admin/users", params={"q": "casey"}, headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert 'id="admin-users-results"' in page.text
    assert 'hx-select="#admin-users-results"' in admin.get("/admin/users").text
    assert "HX-Request" in page.headers["vary"]


def test_names_are_escaped_on_every_admin_page(admin: Client) -> None:
    form = new_user_form(name='<script>alert("x")</script>')
    response = admin.form("/admin/users/new", form)
    assert response.status_code == 303
    listing = admin.get(response.headers["location"]).text
    assert "<script>alert" not in listing
    assert "&lt;script&gt;alert" in listing


def test_unknown_accounts_and_lists_are_not_found(admin: Client) -> None:
    assert admin.get("/admin/users/999999").status_code == 404
    assert admin.get("/admin/users/99999999999").status_code == 404
    assert admin.get("/admin/widgets").status_code == 404
    assert admin.get("/admin/teams/999999").status_code == 404
    assert admin.get("/admin/users/abc").status_code == 404


# Teams, partner organisations, strategic aims

KINDS = {
    "teams": (Team, {"name": "Community Response Team"}, "teams"),
    "partners": (Partner, {"name": "Brookside Hospice", "kind": "other"}, "partners"),
    "aims": (Aim, {"name": "Net zero travel", "description": "Fewer empty miles."}, "aims"),
}


def reference_names(client: Client, key: str) -> list[str]:
    return [entry["name"] for entry in client.get("/api/v1/reference").json()[key]]


@pytest.mark.parametrize("slug", KINDS)
def test_an_admin_adds_renames_deactivates_and_reactivates_a_list_entry(
    admin: Client, crew: Client, slug: str
) -> None:
    model, form, key = KINDS[slug]
    added = admin.form(f"/admin/{slug}/new", form)
    assert added.status_code == 303
    new = item_id(model, form["name"])
    assert added.headers["location"] == f"/admin/{slug}?done=created&id={new}"
    assert f"Added: {form['name']}" in banner(admin.get(added.headers["location"]).text)
    assert form["name"] in reference_names(crew, key)

    renamed = {**form, "name": form["name"] + " North"}
    response = admin.form(f"/admin/{slug}/{new}", renamed)
    assert response.status_code == 303
    assert f"Saved: {renamed['name']}" in banner(admin.get(response.headers["location"]).text)
    assert renamed["name"] in reference_names(crew, key)

    page = f"/admin/{slug}/{new}"
    gone = post_action(admin, f"{page}/deactivate", page)
    assert gone.status_code == 303
    assert "Deactivated" in banner(admin.get(gone.headers["location"]).text)
    assert renamed["name"] not in reference_names(crew, key)
    assert renamed["name"] in admin.get(f"/admin/{slug}").text  # the admin list keeps it

    back = post_action(admin, f"{page}/reactivate", page)
    assert back.status_code == 303
    assert renamed["name"] in reference_names(crew, key)


@pytest.mark.parametrize("slug", KINDS)
def test_names_are_unique_ignoring_case_and_spacing(admin: Client, slug: str) -> None:
    model, form, _ = KINDS[slug]
    admin.form(f"/admin/{slug}/new", form)
    before = count(model)
    clash = {**form, "name": "  " + form["name"].upper().replace(" ", "   ") + " "}
    response = admin.form(f"/admin/{slug}/new", clash)
    assert response.status_code == 422
    assert "with this name already exists" in error_summary(response.text)
    assert 'href="#name"' in response.text
    assert count(model) == before

    # Renaming another entry onto the name is refused too; renaming an entry to itself is fine.
    other = first_id(model)
    original = admin.get(f"/admin/{slug}/{other}").text
    rename = admin.form(f"/admin/{slug}/{other}", {**form, "name": form["name"].lower()})
    assert rename.status_code == 422
    assert "with this name already exists" in error_summary(rename.text)
    with open_session(write=False) as session:
        assert session.get(model, other).name in original
    same = item_id(model, form["name"])
    assert admin.form(f"/admin/{slug}/{same}", form).status_code == 303


def test_a_deactivated_name_cannot_be_added_again_and_the_admin_is_told_to_reactivate(
    admin: Client,
) -> None:
    team = item_id(Team, "Emergency Department")
    admin.form(f"/admin/teams/{team}/deactivate", {}, page=f"/admin/teams/{team}")
    response = admin.form("/admin/teams/new", {"name": "emergency department"})
    assert response.status_code == 422
    assert "A deactivated team has this name. Reactivate it" in error_summary(response.text)


@pytest.mark.parametrize(
    ("slug", "form", "field", "message"),
    [
        ("teams", {"name": ""}, "name", "Enter a name for the team"),
        ("teams", {"name": "x" * 121}, "name", "Name must be 120 characters or fewer"),
        ("partners", {"name": "Brookside Hospice", "kind": "castle"}, "kind", "Select what kind"),
        ("partners", {"name": "Brookside Hospice"}, "kind", "Select what kind"),
        ("aims", {"name": "Net zero", "description": "d" * 1001}, "description", "1000 characters"),
    ],
)
def test_bad_list_input_names_the_field_and_adds_nothing(
    admin: Client, slug: str, form: dict[str, str], field: str, message: str
) -> None:
    model = KINDS[slug][0]
    before = count(model)
    response = admin.form(f"/admin/{slug}/new", form)
    assert response.status_code == 422
    assert message in error_summary(response.text)
    assert f'href="#{field}"' in response.text
    assert count(model) == before
    if form.get("name"):
        assert f'value="{form["name"]}"' in response.text


def test_the_last_active_team_cannot_be_deactivated(admin: Client) -> None:
    with open_session(write=False) as session:
        teams = list(session.execute(select(Team.id).order_by(Team.id)).scalars())
    for team in teams[:-1]:
        page = f"/admin/teams/{team}"
        assert post_action(admin, f"{page}/deactivate", page).status_code == 303
    last = f"/admin/teams/{teams[-1]}"
    response = post_action(admin, f"{last}/deactivate", last)
    assert response.status_code == 422
    assert "This is the last active team" in error_summary(response.text)
    assert count(Team, Team.active.is_(True)) == 1


def test_a_deactivated_partner_leaves_the_choices_but_old_notes_still_read_fine(
    app: Any, admin: Client, crew: Client, manager: Client
) -> None:
    partner = item_id(Partner, "Oak Lodge Care Home")
    note_id = new_id()
    created = crew.post(
        "/api/v1/handovers", json={"id": note_id, **handover_data(partner_id=partner)}
    )
    assert created.status_code == 201

    page = f"/admin/partners/{partner}"
    assert "Handover notes" in admin.get(page).text
    assert post_action(admin, f"{page}/deactivate", page).status_code == 303

    assert partner not in [p["id"] for p in crew.get("/api/v1/reference").json()["partners"]]
    assert f'value="{partner}"' not in crew.get("/handovers/new").text
    note = crew.get(f"/api/v1/handovers/{note_id}")
    assert note.status_code == 200 and note.json()["partner_id"] == partner
    assert manager.get(f"/api/v1/handovers/{note_id}").status_code == 200
    listed = manager.get("/api/v1/handovers", params={"partner_id": partner}).json()["items"]
    assert [n["id"] for n in listed] == [note_id]
    assert "Oak Lodge Care Home" in crew.get("/mine").text

    # A note written offline before the deactivation still arrives: it names where it happened.
    late = crew.post(
        "/api/v1/handovers", json={"id": new_id(), **handover_data(partner_id=partner)}
    )
    assert late.status_code == 201
    unknown = crew.post(
        "/api/v1/handovers", json={"id": new_id(), **handover_data(partner_id=99999)}
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["field"] == "partner_id"


def test_a_replay_of_a_stored_note_is_still_acknowledged_after_its_partner_is_deactivated(
    admin: Client, crew: Client
) -> None:
    partner = item_id(Partner, "Oak Lodge Care Home")
    note = {"id": new_id(), **handover_data(partner_id=partner)}
    assert crew.post("/api/v1/handovers", json=note).status_code == 201
    page = f"/admin/partners/{partner}"
    post_action(admin, f"{page}/deactivate", page)
    assert crew.post("/api/v1/handovers", json=note).status_code == 200


# Who may do what


def concrete_routes() -> list[tuple[str, str]]:
    """Every admin route, with real ids in its path."""
    ids = {"{user_id}": str(user(CREW).id), "{slug}": "teams", "{item_id}": str(first_id(Team))}
    routes = []
    for route in router.routes:
        path = route.path_format  # type: ignore[attr-defined]
        for placeholder, value in ids.items():
            path = path.replace(placeholder, value)
        for method in sorted(route.methods):  # type: ignore[attr-defined]
            routes.append((method, path))
    return routes


FORM_FIELDS = {"name": "Hijacked", "role": "admin", "team_id": "", "new_password": NEW_PASSWORD}


def test_every_admin_route_is_forbidden_to_crew_and_managers(crew: Client, manager: Client) -> None:
    routes = concrete_routes()
    assert len(routes) == 17  # with /admin/users/{id}/huddle-lead
    before = user(CREW)
    for client in (crew, manager):
        for method, path in routes:
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data={**FORM_FIELDS, "email": "x@demo.nhs.uk"})
            assert response.status_code == 403, (method, path)
    after = user(CREW)
    assert (after.name, after.role, after.active) == (before.name, before.role, before.active)
    assert count(Team) == 5


def test_anonymous_visitors_are_sent_to_sign_in_from_every_admin_route(client: Client) -> None:
    token = client.page_token("/login")
    for method, path in concrete_routes():
        if method == "GET":
            response = client.get(path)
        else:
            response = client.http.post(path, data={**FORM_FIELDS, "csrf_token": token})
        assert response.status_code == 303, (method, path)
        assert response.headers["location"].startswith("/login?next="), (method, path)
    assert user(CREW).active


def test_a_change_without_the_csrf_token_is_refused(admin: Client) -> None:
    crew_id = user(CREW).id
    missing = admin.http.post(f"/admin/users/{crew_id}/deactivate", data={})
    forged = admin.http.post(f"/admin/users/{crew_id}/deactivate", data={"csrf_token": "f" * 64})
    assert missing.status_code == forged.status_code == 403
    no_token = admin.http.post("/admin/teams/new", data={"name": "Sneaky Team"})
    assert no_token.status_code == 403
    assert user(CREW).active
    assert count(Team, Team.name == "Sneaky Team") == 0


def test_every_page_form_carries_the_csrf_token(admin: Client) -> None:
    crew_id = user(CREW).id
    for path in (
        "/admin/users/new",
        f"/admin/users/{crew_id}",
        "/admin/teams/new",
        f"/admin/teams/{first_id(Team)}",
    ):
        html = admin.get(path).text
        forms = re.findall(r'<form method="post".*?</form>', html, re.S)
        admin_forms = [f for f in forms if 'action="/admin' in f]
        assert admin_forms, path
        for form in admin_forms:
            assert 'name="csrf_token"' in form, path


# Logging


@pytest.fixture
def admin_log() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.INFO)
    logger = logging.getLogger("frontline.admin")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_admin_actions_are_logged_with_ids_and_never_names_or_emails(
    admin: Client, admin_log: list[logging.LogRecord]
) -> None:
    admin_id = user(ADMIN).id
    admin.form("/admin/users/new", new_user_form())
    new = user("nia.newcomer@demo.nhs.uk").id
    post_action(admin, f"/admin/users/{new}/deactivate", f"/admin/users/{new}")
    admin.form("/admin/partners/new", {"name": "Brookside Hospice", "kind": "other"})
    partner = item_id(Partner, "Brookside Hospice")

    events = [(r.event, r.user_id, r.scope) for r in admin_log]  # type: ignore[attr-defined]
    assert events == [
        ("admin_user_created", admin_id, f"user:{new}"),
        ("admin_user_deactivated", admin_id, f"user:{new}"),
        ("admin_partner_created", admin_id, f"partner:{partner}"),
    ]
    lines = [JsonFormatter().format(r) for r in admin_log]
    for line in lines:
        assert json.loads(line)["logger"] == "frontline.admin"
        for secret in ("Nia", "nia.newcomer", "Brookside", "correct horse"):
            assert secret not in line


def test_a_refused_change_logs_nothing(admin: Client, admin_log: list[logging.LogRecord]) -> None:
    admin.form("/admin/users/new", new_user_form(email=CREW))
    admin.form("/admin/teams/new", {"name": ""})
    assert admin_log == []
