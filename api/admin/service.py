"""The admin area's decisions: accounts (create, edit, deactivate, reset a password) and the
organisation's reference lists (teams, partner organisations, strategic aims).

Plain functions over the request's session: they flush, never commit. Nothing is ever deleted:
deactivation hides a thing from new choices and sign-in while old records keep pointing at it.
Every change is logged with ids only (who acted, what changed), never a name or an email.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from api.auth.users import create_user, email_problem, normalise_email
from api.errors import Invalid, NotFound
from api.filtering import like_pattern
from api.security.passwords import hash_password, password_problem
from api.security.sessions import end_all_sessions_of
from schemas.accounts import Aim, Partner, Team, User
from schemas.enums import PartnerKind, Role
from schemas.field_errors import FieldError, in_form_order, nhs_number_problems
from schemas.free_text import is_blank
from schemas.handovers import Handover
from schemas.ideas import IdeaAim

logger = logging.getLogger("frontline.admin")

USERS_PER_PAGE = 100
NOT_ACROSS_THE_WALL = "A partner organisation's user cannot become staff, nor staff a partner's user: add a new account"
ACCOUNT_FIELDS = ("name", "email", "role", "partner_id", "team_id", "password")
EMAIL_TAKEN = "An account with this email already exists"
NEED_AN_ADMIN = (
    "Frontline needs at least one active admin. Make someone else an admin before you change this."
)

ReferenceModel = type[Team] | type[Partner] | type[Aim]
ReferenceItem = Team | Partner | Aim


def _log(event: str, actor: User, target: str) -> None:
    """`user_id` is the admin who acted; `scope` names what changed ("user:12", "team:3")."""
    logger.info(
        "admin action", extra={"event": f"admin_{event}", "user_id": actor.id, "scope": target}
    )


def _active_count(session: Session, model: type[Any]) -> dict[str, int]:
    rows = session.execute(select(model.active, func.count()).group_by(model.active)).all()
    counts = {bool(active): int(n) for active, n in rows}
    return {"active": counts.get(True, 0), "deactivated": counts.get(False, 0)}


def overview(session: Session) -> dict[str, dict[str, int]]:
    """Active and deactivated counts for the admin home page."""
    counts = {
        "users": _active_count(session, User),
        "teams": _active_count(session, Team),
        "partners": _active_count(session, Partner),
        "aims": _active_count(session, Aim),
    }
    admins = session.execute(
        select(func.count()).where(col(User.role) == Role.admin, col(User.active).is_(True))
    ).scalar_one()
    counts["users"]["admins"] = int(admins)
    return counts


# Accounts


@dataclass(frozen=True)
class UserFilters:
    q: str = ""
    role: Role | None = None
    status: str = ""  # "", "active" or "deactivated"

    @classmethod
    def parse(cls, q: str, role: str, status: str) -> UserFilters:
        """Lenient: an unknown role or status means "any", as a bookmarked old link should still open."""
        return cls(
            q=" ".join(q.split())[:200],
            role=Role(role) if role in Role.__members__ else None,
            status=status if status in {"active", "deactivated"} else "",
        )

    def query(self, page: int | None = None) -> dict[str, str]:
        params = {"q": self.q, "role": self.role.value if self.role else "", "status": self.status}
        if page and page > 1:
            params["page"] = str(page)
        return {k: v for k, v in params.items() if v}


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    email: str
    role: str
    team_name: str | None
    team_active: bool
    active: bool
    #: A partner organisation's user's organisation (they have no team).
    partner_name: str | None = None


@dataclass(frozen=True)
class UserPage:
    rows: list[UserRow]
    total: int
    page: int
    pages: int


def list_users(session: Session, filters: UserFilters, page: int = 1) -> UserPage:
    """Users by name, USERS_PER_PAGE at a time (offset paging: an admin list is small and sorted)."""
    conditions: list[Any] = []
    if filters.q:
        pattern = like_pattern(filters.q)
        conditions.append(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    if filters.role:
        conditions.append(User.role == filters.role)
    if filters.status:
        conditions.append(User.active.is_(filters.status == "active"))  # type: ignore[attr-defined]
    total = int(
        session.execute(select(func.count()).select_from(User).where(*conditions)).scalar_one()
    )
    pages = max(1, math.ceil(total / USERS_PER_PAGE))
    page = min(max(page, 1), pages)
    rows = session.execute(
        select(User, col(Team.name), col(Team.active), col(Partner.name))
        .outerjoin(Team, col(Team.id) == col(User.team_id))
        .outerjoin(Partner, col(Partner.id) == col(User.partner_id))
        .where(*conditions)
        .order_by(func.lower(User.name), col(User.id))
        .offset((page - 1) * USERS_PER_PAGE)
        .limit(USERS_PER_PAGE)
    ).all()
    return UserPage(
        rows=[
            UserRow(
                id=user.id,
                name=user.name,
                email=user.email,
                role=user.role,
                team_name=team_name,
                team_active=bool(team_active),
                active=user.active,
                partner_name=partner_name,
            )
            for user, team_name, team_active, partner_name in rows
        ],
        total=total,
        page=page,
        pages=pages,
    )


# Ids are 32-bit in PostgreSQL; a larger number in a URL is simply not found (not a database error).
MAX_ID = 2**31 - 1


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if user_id <= MAX_ID else None
    if user is None:
        raise NotFound("There is no account with this number.")
    return user


def team_choices(session: Session, keep: int | None = None) -> list[dict[str, Any]]:
    """Active teams by name, plus the user's current team when it has been deactivated (so editing
    a name does not force a team change)."""
    condition: ColumnElement[bool] = col(Team.active).is_(True)
    if keep is not None:
        condition = or_(condition, col(Team.id) == keep)
    teams = session.execute(select(Team).where(condition).order_by(Team.name)).scalars()
    return [{"id": t.id, "name": t.name, "active": t.active} for t in teams]


def partner_choices(session: Session) -> list[dict[str, Any]]:
    """Active partner organisations (sites under their organisation's name) for a partner user."""
    rows = session.execute(
        select(Partner).where(col(Partner.active).is_(True)).order_by(Partner.name)
    ).scalars()
    return [{"id": p.id, "name": p.name} for p in rows]


def _parse_role(raw: str) -> tuple[Role | None, FieldError | None]:
    if raw in Role.__members__:
        return Role(raw), None
    return None, FieldError(field="role", message="Select a role")


def _parse_team(
    session: Session, raw: str, keep: int | None = None
) -> tuple[int | None, FieldError | None]:
    """ "" is no team; otherwise an active team, or the one the user already has."""
    raw = raw.strip()
    if not raw:
        return None, None
    problem = FieldError(field="team_id", message="Select a team from the list")
    if not raw.isdecimal() or int(raw) > MAX_ID:
        return None, problem
    team = session.get(Team, int(raw))
    if team is None or (not team.active and team.id != keep):
        return None, problem
    return team.id, None


def create_account(
    session: Session,
    actor: User,
    *,
    name: str,
    email: str,
    role: str,
    team_id: str,
    password: str,
    partner_id: str = "",
) -> User:
    """A new account with the password the admin typed (the same rules as sign-up). Every problem
    is reported at once, in the order of the form."""
    errors: list[FieldError] = []
    parsed_role, role_error = _parse_role(role)
    parsed_team, team_error = _parse_team(session, team_id)
    errors += [e for e in (role_error, team_error) if e]
    try:
        # The savepoint undoes the insert when another field was wrong, and turns a concurrent
        # insert of the same email (the unique constraint) into the same field error.
        with session.begin_nested():
            user = create_user(
                session,
                email=email,
                name=name,
                password=password,
                role=parsed_role or Role.reporter,
                team_id=parsed_team,
                for_someone_else=True,
                partner_id=int(partner_id)
                if partner_id.strip().isdecimal() and int(partner_id) <= MAX_ID
                else None,
            )
            if errors:
                raise Invalid(errors)
            # The admin chose this password: the user chooses their own at first sign-in.
            user.must_change_password = True
            session.add(user)
    except Invalid as exc:
        raise Invalid(in_form_order(errors + exc.errors, ACCOUNT_FIELDS)) from None
    except IntegrityError:
        raise Invalid([FieldError(field="email", message=EMAIL_TAKEN)]) from None
    _log("user_created", actor, f"user:{user.id}")
    return user


def _other_active_admin_exists(session: Session, user: User) -> bool:
    """Locks the active admins' rows (PostgreSQL; SQLite writers are serial already) so two admins
    demoting each other at the same moment cannot leave the trust with none."""
    ids = (
        session.execute(
            select(col(User.id))
            .where(col(User.role) == Role.admin, col(User.active).is_(True))
            .with_for_update()
        )
        .scalars()
        .all()
    )
    return any(i != user.id for i in ids)


def update_account(
    session: Session,
    actor: User,
    user_id: int,
    *,
    name: str,
    role: str,
    team_id: str,
    email: str | None = None,
) -> User:
    """Name, email, role and team. A new email (their sign-in) must be unique, ignoring case."""
    user = get_user(session, user_id)
    errors: list[FieldError] = []
    clean_name = name.strip()
    clean_email = normalise_email(email) if email is not None else user.email
    if clean_email != user.email and (problem := email_problem(session, clean_email, user.id)):
        errors.append(problem)
    if is_blank(clean_name):
        errors.append(FieldError(field="name", message="Enter their full name"))
    elif len(clean_name) > 120:
        errors.append(FieldError(field="name", message="Full name must be 120 characters or fewer"))
    else:
        errors += nhs_number_problems({"name": clean_name})
    parsed_role, role_error = _parse_role(role)
    parsed_team, team_error = _parse_team(session, team_id, keep=user.team_id)
    errors += [e for e in (role_error, team_error) if e]
    if (
        parsed_role is not None
        and parsed_role is not Role.admin
        and user.role == Role.admin
        and user.active
        and not _other_active_admin_exists(session, user)
    ):
        errors.append(FieldError(field="role", message=NEED_AN_ADMIN))
    if parsed_role is not None and (parsed_role is Role.partner) != (user.role == Role.partner):
        # A partner organisation's user and a member of staff are different people with different
        # walls (SPEC §2): one account never turns into the other.
        errors.append(FieldError(field="role", message=NOT_ACROSS_THE_WALL))
    if errors:
        raise Invalid(in_form_order(errors, ACCOUNT_FIELDS))
    assert parsed_role is not None
    if parsed_role != user.role:
        _log("user_role_changed", actor, f"user:{user.id}")
    if parsed_team != user.team_id:
        _log("user_team_changed", actor, f"user:{user.id}")
    if clean_name != user.name:
        _log("user_renamed", actor, f"user:{user.id}")
    email_changed = clean_email != user.email
    user.name, user.role, user.team_id = clean_name, parsed_role, parsed_team
    user.email = clean_email
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # another admin gave the same address at the same moment
        raise Invalid([FieldError(field="email", message=EMAIL_TAKEN)]) from None
    if email_changed:
        _log("user_email_changed", actor, f"user:{user.id}")
    return user


def set_huddle_lead(session: Session, actor: User, user_id: int, lead: str) -> User:
    """Whether they lead their team's daily huddle: may move that team's cards on /huddle."""
    user = get_user(session, user_id)
    if lead not in ("true", "false"):
        raise Invalid([FieldError(field="huddle_lead", message="Choose yes or no")])
    if lead == "true" and user.team_id is None:
        raise Invalid(
            [
                FieldError(
                    field="huddle_lead",
                    message="Give them a team first: a lead leads their team's huddle",
                )
            ]
        )
    if (lead == "true") != user.huddle_lead:
        _log("user_huddle_lead_changed", actor, f"user:{user.id}")
    user.huddle_lead = lead == "true"
    session.add(user)
    session.flush()
    return user


def deactivate_account(session: Session, actor: User, user_id: int) -> User:
    """The user can no longer sign in, and every session they have ends now. Their records stay."""
    user = get_user(session, user_id)
    if user.id == actor.id:
        raise Invalid(
            [
                FieldError(
                    field="deactivate",
                    message="You cannot deactivate your own account. Ask another admin to do it.",
                )
            ]
        )
    if not user.active:
        return user
    if user.role == Role.admin and not _other_active_admin_exists(session, user):
        raise Invalid([FieldError(field="deactivate", message=NEED_AN_ADMIN)])
    user.active = False
    session.add(user)
    end_all_sessions_of(session, user.id)  # type: ignore[arg-type]
    session.flush()
    _log("user_deactivated", actor, f"user:{user.id}")
    return user


def reactivate_account(session: Session, actor: User, user_id: int) -> User:
    """They can sign in again with their password; no old session comes back."""
    user = get_user(session, user_id)
    if user.active:
        return user
    user.active = True
    session.add(user)
    session.flush()
    _log("user_reactivated", actor, f"user:{user.id}")
    return user


def reset_password(session: Session, actor: User, user_id: int, password: str) -> User:
    """Sets the password the admin typed and signs the user out everywhere (the admin too, when it
    is their own account)."""
    user = get_user(session, user_id)
    problem = password_problem(password, context=(user.name, user.email))
    if problem:
        raise Invalid([FieldError(field="new_password", message=problem)])
    user.password_hash = hash_password(password)
    # A password an admin chose for someone else: they choose their own at next sign-in.
    user.must_change_password = user.id != actor.id
    session.add(user)
    end_all_sessions_of(session, user.id)  # type: ignore[arg-type]
    session.flush()
    _log("user_password_reset", actor, f"user:{user.id}")
    return user


# Teams, partner organisations and strategic aims


@dataclass(frozen=True)
class Catalogue:
    """One of the organisation's reference lists, as the admin pages and rules need it."""

    slug: str  # the URL segment: /admin/<slug>
    model: ReferenceModel
    noun: str  # "team", "partner organisation", "strategic aim"
    title: str  # "Teams"
    name_max: int
    fields: tuple[str, ...]  # form fields in order
    usage_heading: str  # what _usage counts, as a column heading

    @property
    def scope(self) -> str:
        return self.model.__tablename__  # type: ignore[return-value]


TEAMS = Catalogue(
    slug="teams",
    model=Team,
    noun="team",
    title="Teams",
    name_max=120,
    fields=("name",),
    usage_heading="Active members",
)
PARTNERS = Catalogue(
    slug="partners",
    model=Partner,
    noun="partner organisation",
    title="Partner organisations",
    name_max=160,
    fields=("name", "kind", "parent_id"),
    usage_heading="Handover notes",
)
AIMS = Catalogue(
    slug="aims",
    model=Aim,
    noun="strategic aim",
    title="Strategic aims",
    name_max=160,
    fields=("name", "description"),
    usage_heading="Ideas",
)
CATALOGUES: dict[str, Catalogue] = {c.slug: c for c in (TEAMS, PARTNERS, AIMS)}
AIM_DESCRIPTION_MAX = 1000


def catalogue_for(slug: str) -> Catalogue:
    catalogue = CATALOGUES.get(slug)
    if catalogue is None:
        raise NotFound("Page not found.")
    return catalogue


def _usage(session: Session, catalogue: Catalogue) -> dict[int, int]:
    """How many records or people point at each item: what deactivation leaves in place."""
    if catalogue is TEAMS:
        statement = (
            select(col(User.team_id), func.count())
            .where(col(User.active).is_(True))
            .group_by(col(User.team_id))
        )
    elif catalogue is PARTNERS:
        statement = select(col(Handover.partner_id), func.count()).group_by(
            col(Handover.partner_id)
        )
    else:
        statement = select(col(IdeaAim.aim_id), func.count()).group_by(col(IdeaAim.aim_id))
    return {key: int(n) for key, n in session.execute(statement).all() if key is not None}


def list_items(session: Session, catalogue: Catalogue) -> list[dict[str, Any]]:
    """Every item, active first then by name, with how much it is used."""
    model = catalogue.model
    items = session.execute(
        select(model).order_by(model.active.desc(), func.lower(model.name))  # type: ignore[attr-defined]
    ).scalars()
    usage = _usage(session, catalogue)
    return [{"item": item, "in_use": usage.get(item.id, 0)} for item in items]  # type: ignore[union-attr]


def get_item(session: Session, catalogue: Catalogue, item_id: int) -> ReferenceItem:
    item: ReferenceItem | None = (
        session.get(catalogue.model, item_id) if item_id <= MAX_ID else None  # type: ignore[assignment]
    )
    if item is None:
        raise NotFound(f"There is no {catalogue.noun} with this number.")
    return item


def item_usage(session: Session, catalogue: Catalogue, item_id: int) -> int:
    return _usage(session, catalogue).get(item_id, 0)


def _clean_name(raw: str) -> str:
    """Runs of spaces count as one, so "Ward  7" and "Ward 7" are the same name."""
    return " ".join(raw.split())


def _validate_item(
    session: Session, catalogue: Catalogue, values: Mapping[str, str], item_id: int | None
) -> tuple[dict[str, str], list[FieldError]]:
    errors: list[FieldError] = []
    name = _clean_name(values.get("name", ""))
    clean: dict[str, str] = {"name": name}
    if is_blank(name):
        errors.append(FieldError(field="name", message=f"Enter a name for the {catalogue.noun}"))
    elif len(name) > catalogue.name_max:
        errors.append(
            FieldError(
                field="name", message=f"Name must be {catalogue.name_max} characters or fewer"
            )
        )
    elif pid := nhs_number_problems({"name": name}, {"name": "Name"}):
        errors += pid
    else:
        clash = _name_clash(session, catalogue, name, item_id)
        if clash is not None:
            errors.append(clash)
    if "kind" in catalogue.fields:
        kind = values.get("kind", "")
        if kind in PartnerKind.__members__:
            clean["kind"] = kind
        else:
            errors.append(
                FieldError(field="kind", message="Select what kind of organisation this is")
            )
    if "parent_id" in catalogue.fields:
        parent, problem = _parse_parent(session, values.get("parent_id", ""), item_id)
        clean["parent_id"] = parent  # type: ignore[assignment]
        if problem:
            errors.append(problem)
    if "description" in catalogue.fields:
        description = values.get("description", "").strip()
        clean["description"] = description
        if len(description) > AIM_DESCRIPTION_MAX:
            errors.append(
                FieldError(
                    field="description",
                    message=f"Description must be {AIM_DESCRIPTION_MAX} characters or fewer",
                )
            )
        else:
            errors += nhs_number_problems(
                {"description": description}, {"description": "Description"}
            )
    return clean, errors


def parent_choices(session: Session, item_id: int | None) -> list[dict[str, Any]]:
    """Organisations a partner can be a site of: those that are not themselves a site, and not
    the partner itself (one level deep, so no cycle can form)."""
    rows = session.execute(
        select(Partner.id, Partner.name, Partner.active)
        .where(col(Partner.parent_id).is_(None))
        .order_by(func.lower(Partner.name))
    ).all()
    return [{"id": r[0], "name": r[1], "active": r[2]} for r in rows if r[0] != item_id]


def _parse_parent(
    session: Session, raw: str, item_id: int | None
) -> tuple[int | None, FieldError | None]:
    """ "" is an organisation in its own right; otherwise the organisation this is a site of."""
    raw = (raw or "").strip()
    if not raw:
        return None, None
    problem = FieldError(field="parent_id", message="Select an organisation from the list")
    if not raw.isdecimal() or int(raw) > MAX_ID:
        return None, problem
    parent = session.get(Partner, int(raw))
    if parent is None:
        return None, problem
    if parent.id == item_id:
        return None, FieldError(
            field="parent_id", message="An organisation cannot be part of itself"
        )
    if parent.parent_id is not None:
        return None, FieldError(
            field="parent_id",
            message=f"{parent.name} is itself a site of another organisation: "
            "choose that organisation instead",
        )
    if item_id is not None:
        has_sites = session.execute(
            select(func.count()).where(col(Partner.parent_id) == item_id)
        ).scalar_one()
        if has_sites:
            return None, FieldError(
                field="parent_id",
                message="This organisation has sites of its own, so it cannot be a site: "
                "move its sites first",
            )
    return parent.id, None


def _name_clash(
    session: Session, catalogue: Catalogue, name: str, item_id: int | None
) -> FieldError | None:
    """Names are unique ignoring case, deactivated items included (reactivating one must not make
    two). Compared in Python: SQLite's lower() folds ASCII only, and these lists are short."""
    model = catalogue.model
    wanted = name.casefold()
    for other_id, other_name, other_active in session.execute(
        select(model.id, model.name, model.active)  # type: ignore[call-overload]
    ):
        if other_id != item_id and other_name.casefold() == wanted:
            if other_active:
                message = f"A {catalogue.noun} with this name already exists"
            else:
                message = (
                    f"A deactivated {catalogue.noun} has this name. "
                    "Reactivate it instead of adding another"
                )
            return FieldError(field="name", message=message)
    return None


def _flush_or_name_taken(session: Session, catalogue: Catalogue) -> None:
    """The unique constraint is the last word when two admins save the same name at once."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Invalid(
            [FieldError(field="name", message=f"A {catalogue.noun} with this name already exists")]
        ) from None


def create_item(
    session: Session, actor: User, catalogue: Catalogue, values: Mapping[str, str]
) -> ReferenceItem:
    clean, errors = _validate_item(session, catalogue, values, None)
    if errors:
        raise Invalid(errors)
    item: ReferenceItem = catalogue.model.model_validate(clean)
    session.add(item)
    _flush_or_name_taken(session, catalogue)
    _log(f"{catalogue.scope}_created", actor, f"{catalogue.scope}:{item.id}")
    return item


def update_item(
    session: Session, actor: User, catalogue: Catalogue, item_id: int, values: Mapping[str, str]
) -> ReferenceItem:
    """Renaming changes the name everywhere it shows, old records included: they hold the id."""
    item = get_item(session, catalogue, item_id)
    clean, errors = _validate_item(session, catalogue, values, item_id)
    if errors:
        raise Invalid(errors)
    changed = any(getattr(item, field) != value for field, value in clean.items())
    for field, value in clean.items():
        setattr(item, field, value)
    session.add(item)
    _flush_or_name_taken(session, catalogue)
    if changed:
        _log(f"{catalogue.scope}_updated", actor, f"{catalogue.scope}:{item.id}")
    return item


def set_item_active(
    session: Session, actor: User, catalogue: Catalogue, item_id: int, active: bool
) -> ReferenceItem:
    """Deactivated items leave the capture forms' choices; records that name them are untouched.
    The last active item cannot go: every idea needs a team and an aim, every note a partner."""
    model = catalogue.model
    item = get_item(session, catalogue, item_id)
    if item.active == active:
        return item
    if not active:
        others = session.execute(
            select(func.count()).where(col(model.active).is_(True), col(model.id) != item_id)
        ).scalar_one()
        if not others:
            raise Invalid(
                [
                    FieldError(
                        field="deactivate",
                        message=(
                            f"This is the last active {catalogue.noun}. The capture forms need "
                            f"at least one: add another before you deactivate this one."
                        ),
                    )
                ]
            )
    item.active = active
    session.add(item)
    session.flush()
    verb = "reactivated" if active else "deactivated"
    _log(f"{catalogue.scope}_{verb}", actor, f"{catalogue.scope}:{item.id}")
    return item
