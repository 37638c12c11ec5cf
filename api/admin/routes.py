"""The admin pages (SPEC §2, §6 `/admin`): users, teams, partner organisations, strategic aims.

Admins only: the router itself requires the admin role, so a route cannot forget it. Every change is
a form POST (CSRF checked by `identify`) that answers 303 to its list with a success banner, or
shows the form again with an error summary (422). The banner comes from `?done=` with a fixed set
of codes, so nothing a person typed travels in the URL.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.admin import service
from api.admin.service import Catalogue, UserFilters
from api.auth.identity import AdminUser, require_role
from api.db import SessionDep
from api.errors import Invalid
from api.forms import error_context
from api.templating import render
from schemas.accounts import Team, User
from schemas.enums import PartnerKind, Role
from schemas.field_errors import FieldError

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    include_in_schema=False,
    dependencies=[Depends(require_role(Role.admin))],
)

# Generous limits: the service gives the real, friendlier messages for anything over its own.
Text = Annotated[str, Form(max_length=2000)]
Password = Annotated[str, Form(max_length=1024)]

# What the banner says after each change, and which kind of thing `id` names.
DONE = {
    "user_created": "Account created",
    "user_updated": "Account updated",
    "user_deactivated": "Account deactivated: they are signed out and cannot sign in",
    "user_reactivated": "Account reactivated: they can sign in again",
    "password_reset": "Password changed: they are signed out everywhere",
    "huddle_lead": "Huddle lead saved",
    "created": "Added",
    "updated": "Saved",
    "deactivated": "Deactivated: it is no longer offered on the forms",
    "reactivated": "Reactivated: it is offered on the forms again",
}


def _done(path: str, code: str, item_id: int | None) -> RedirectResponse:
    query = urlencode({"done": code, **({"id": item_id} if item_id is not None else {})})
    return RedirectResponse(f"{path}?{query}", status_code=303)


def _banner(
    session: Session, done: str | None, item_id: int | None, catalogue: Catalogue | None = None
) -> dict[str, str] | None:
    """The success banner: the fixed message and, when it still exists, the thing's name."""
    if done not in DONE:
        return None
    name = ""
    if item_id is not None:
        found: Any = (
            session.get(catalogue.model, item_id) if catalogue else session.get(User, item_id)
        )
        name = found.name if found is not None else ""
    return {"message": DONE[done], "name": name}


Done = Annotated[str | None, Query(max_length=40)]
DoneId = Annotated[int | None, Query(alias="id", ge=1)]


@router.get("")
def admin_home(request: Request, admin: AdminUser, session: SessionDep) -> Response:
    return render(request, "admin/index.html", {"counts": service.overview(session)})


# Users


@router.get("/users")
def users(
    request: Request,
    admin: AdminUser,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    role: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    done: Done = None,
    done_id: DoneId = None,
) -> Response:
    filters = UserFilters.parse(q, role, status)
    context = {
        "filters": filters,
        "result": service.list_users(session, filters, page),
        "page_url": lambda n: "/admin/users?" + urlencode(filters.query(n)),
        "banner": _banner(session, done, done_id),
        "roles": list(Role),
    }
    # The filter form's htmx request gets this whole page and swaps in only the results
    # (hx-select), as the triage queue does: a history restore or no-JS load gets the same answer.
    return render(request, "admin/users.html", context)


def _new_user_page(
    request: Request,
    session: Session,
    form: dict[str, str],
    errors: list[FieldError] | None = None,
) -> Response:
    return render(
        request,
        "admin/user_new.html",
        {
            "form": form,
            **error_context(errors or []),
            "teams": service.team_choices(session),
            "partners": service.partner_choices(session),
            "roles": list(Role),
        },
        status_code=422 if errors else 200,
    )


@router.get("/users/new")
def new_user_page(request: Request, admin: AdminUser, session: SessionDep) -> Response:
    return _new_user_page(request, session, {"role": Role.reporter.value})


@router.post("/users/new")
def create_user(
    request: Request,
    admin: AdminUser,
    session: SessionDep,
    name: Text = "",
    email: Text = "",
    role: Text = "",
    team_id: Text = "",
    password: Password = "",
    partner_id: Text = "",
) -> Response:
    try:
        user = service.create_account(
            session,
            admin,
            name=name,
            email=email,
            role=role,
            team_id=team_id,
            password=password,
            partner_id=partner_id,
        )
    except Invalid as exc:
        form = {
            "name": name,
            "email": email or "",
            "role": role,
            "team_id": team_id,
            "partner_id": partner_id,
        }
        return _new_user_page(request, session, form, exc.errors)
    return _done("/admin/users", "user_created", user.id)


def _user_page(
    request: Request,
    session: Session,
    admin: User,
    user_id: int,
    form: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
) -> Response:
    user = service.get_user(session, user_id)
    if form is None:
        form = {
            "name": user.name,
            "email": user.email,
            "role": user.role,
            "team_id": str(user.team_id or ""),
        }
    return render(
        request,
        "admin/user_edit.html",
        {
            "user": user,
            "team": session.get(Team, user.team_id) if user.team_id else None,
            "is_self": user.id == admin.id,
            "form": form,
            **error_context(errors or []),
            "teams": service.team_choices(session, keep=user.team_id),
            # Staff and a partner organisation's user never turn into each other (the one rule:
            # service.update_account): only the roles this account can take are offered.
            "roles": [r for r in Role if (r is Role.partner) == (user.role == Role.partner)],
        },
        status_code=422 if errors else 200,
    )


@router.get("/users/{user_id:int}")
def user_page(request: Request, user_id: int, admin: AdminUser, session: SessionDep) -> Response:
    return _user_page(request, session, admin, user_id)


@router.post("/users/{user_id:int}")
def update_user(
    request: Request,
    user_id: int,
    admin: AdminUser,
    session: SessionDep,
    name: Text = "",
    email: Annotated[str | None, Form(max_length=2000)] = None,
    role: Text = "",
    team_id: Text = "",
) -> Response:
    try:
        updated = service.update_account(
            session, admin, user_id, name=name, role=role, team_id=team_id, email=email
        )
    except Invalid as exc:
        form = {"name": name, "email": email or "", "role": role, "team_id": team_id}
        return _user_page(request, session, admin, user_id, form, exc.errors)
    if updated.id == admin.id and updated.role != Role.admin:
        # They gave up their own admin role: the admin pages are no longer theirs.
        return RedirectResponse("/", status_code=303)
    return _done("/admin/users", "user_updated", user_id)


@router.post("/users/{user_id:int}/huddle-lead")
def set_huddle_lead(
    request: Request, user_id: int, admin: AdminUser, session: SessionDep, huddle_lead: Text = ""
) -> Response:
    try:
        service.set_huddle_lead(session, admin, user_id, huddle_lead)
    except Invalid as exc:
        return _user_page(request, session, admin, user_id, errors=exc.errors)
    return _done("/admin/users", "huddle_lead", user_id)


@router.post("/users/{user_id:int}/deactivate")
def deactivate_user(
    request: Request, user_id: int, admin: AdminUser, session: SessionDep
) -> Response:
    try:
        service.deactivate_account(session, admin, user_id)
    except Invalid as exc:
        return _user_page(request, session, admin, user_id, errors=exc.errors)
    return _done("/admin/users", "user_deactivated", user_id)


@router.post("/users/{user_id:int}/reactivate")
def reactivate_user(
    request: Request, user_id: int, admin: AdminUser, session: SessionDep
) -> Response:
    service.reactivate_account(session, admin, user_id)
    return _done("/admin/users", "user_reactivated", user_id)


@router.post("/users/{user_id:int}/password")
def reset_password(
    request: Request,
    user_id: int,
    admin: AdminUser,
    session: SessionDep,
    new_password: Password = "",
) -> Response:
    try:
        service.reset_password(session, admin, user_id, new_password)
    except Invalid as exc:
        return _user_page(request, session, admin, user_id, errors=exc.errors)
    if user_id == admin.id:
        # Their own session ended with the others: sign in again with the new password.
        return RedirectResponse("/login", status_code=303)
    return _done("/admin/users", "password_reset", user_id)


# Teams, partner organisations, strategic aims: one set of pages for the three lists.

CatalogueDep = Annotated[Catalogue, Depends(service.catalogue_for)]


def _item_form(values: dict[str, Any], catalogue: Catalogue) -> dict[str, str]:
    return {field: str(values.get(field) or "") for field in catalogue.fields}


def _item_context(
    catalogue: Catalogue, session: Session | None = None, item_id: int | None = None
) -> dict[str, Any]:
    context: dict[str, Any] = {"catalogue": catalogue, "partner_kinds": list(PartnerKind)}
    if session is not None and "parent_id" in catalogue.fields:
        context["parents"] = service.parent_choices(session, item_id)
    return context


@router.get("/{slug}")
def items(
    request: Request,
    catalogue: CatalogueDep,
    admin: AdminUser,
    session: SessionDep,
    done: Done = None,
    done_id: DoneId = None,
) -> Response:
    return render(
        request,
        "admin/items.html",
        {
            **_item_context(catalogue),
            "items": service.list_items(session, catalogue),
            "banner": _banner(session, done, done_id, catalogue),
        },
    )


def _new_item_page(
    request: Request,
    session: Session,
    catalogue: Catalogue,
    form: dict[str, str],
    errors: list[FieldError] | None = None,
) -> Response:
    return render(
        request,
        "admin/item_form.html",
        {
            **_item_context(catalogue, session),
            "item": None,
            "form": form,
            **error_context(errors or []),
        },
        status_code=422 if errors else 200,
    )


@router.get("/{slug}/new")
def new_item_page(
    request: Request, catalogue: CatalogueDep, admin: AdminUser, session: SessionDep
) -> Response:
    return _new_item_page(request, session, catalogue, _item_form({}, catalogue))


@router.post("/{slug}/new")
def create_item(
    request: Request,
    catalogue: CatalogueDep,
    admin: AdminUser,
    session: SessionDep,
    name: Text = "",
    kind: Text = "",
    description: Text = "",
    parent_id: Text = "",
) -> Response:
    values = {"name": name, "kind": kind, "description": description, "parent_id": parent_id}
    try:
        item = service.create_item(session, admin, catalogue, values)
    except Invalid as exc:
        form = _item_form(values, catalogue)
        return _new_item_page(request, session, catalogue, form, exc.errors)
    return _done(f"/admin/{catalogue.slug}", "created", item.id)


def _item_page(
    request: Request,
    session: Session,
    catalogue: Catalogue,
    item_id: int,
    form: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
) -> Response:
    item = service.get_item(session, catalogue, item_id)
    return render(
        request,
        "admin/item_form.html",
        {
            **_item_context(catalogue, session, item_id),
            "item": item,
            "in_use": service.item_usage(session, catalogue, item_id),
            "form": form if form is not None else _item_form(item.model_dump(), catalogue),
            **error_context(errors or []),
        },
        status_code=422 if errors else 200,
    )


@router.get("/{slug}/{item_id:int}")
def item_page(
    request: Request, catalogue: CatalogueDep, item_id: int, admin: AdminUser, session: SessionDep
) -> Response:
    return _item_page(request, session, catalogue, item_id)


@router.post("/{slug}/{item_id:int}")
def update_item(
    request: Request,
    catalogue: CatalogueDep,
    item_id: int,
    admin: AdminUser,
    session: SessionDep,
    name: Text = "",
    kind: Text = "",
    description: Text = "",
    parent_id: Text = "",
) -> Response:
    values = {"name": name, "kind": kind, "description": description, "parent_id": parent_id}
    try:
        service.update_item(session, admin, catalogue, item_id, values)
    except Invalid as exc:
        form = _item_form(values, catalogue)
        return _item_page(request, session, catalogue, item_id, form, exc.errors)
    return _done(f"/admin/{catalogue.slug}", "updated", item_id)


@router.post("/{slug}/{item_id:int}/deactivate")
def deactivate_item(
    request: Request, catalogue: CatalogueDep, item_id: int, admin: AdminUser, session: SessionDep
) -> Response:
    try:
        service.set_item_active(session, admin, catalogue, item_id, active=False)
    except Invalid as exc:
        return _item_page(request, session, catalogue, item_id, errors=exc.errors)
    return _done(f"/admin/{catalogue.slug}", "deactivated", item_id)


@router.post("/{slug}/{item_id:int}/reactivate")
def reactivate_item(
    request: Request, catalogue: CatalogueDep, item_id: int, admin: AdminUser, session: SessionDep
) -> Response:
    service.set_item_active(session, admin, catalogue, item_id, active=True)
    return _done(f"/admin/{catalogue.slug}", "reactivated", item_id)
