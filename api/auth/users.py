"""Accounts: creating users (admin, CLI, self sign-up) and looking them up."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from api.errors import Invalid
from api.security.passwords import hash_password, password_problem
from schemas.accounts import Partner, Team, User
from schemas.enums import Role
from schemas.field_errors import FieldError, nhs_number_problems
from schemas.free_text import is_blank


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(session: Session, email: str) -> User | None:
    return session.execute(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).scalar_one_or_none()


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids)))  # type: ignore[union-attr]
    return {row[0]: row[1] for row in rows}


def email_problem(
    session: Session, email: str, user_id: int | None = None, *, must_be_new: bool = True
) -> FieldError | None:
    """A well-formed address that no other account has (ignoring case), or why not."""
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    if (
        not local
        or email.count("@") != 1
        or "." not in domain
        or len(email) > 254
        or any(c.isspace() for c in email)
    ):
        return FieldError(field="email", message="Enter an email address like name@nhs.net")
    other = find_by_email(session, email) if must_be_new else None
    if other is not None and other.id != user_id:
        return FieldError(field="email", message="An account with this email already exists")
    return None


def account_problems(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    team_id: int | None,
    email_must_be_new: bool = True,
    for_someone_else: bool = False,
) -> list[FieldError]:
    """Every problem with a new account's fields, by field. Sign-up passes
    ``email_must_be_new=False``: saying an address is taken would tell a stranger who has an
    account (the confirmation email tells the address's owner instead). An admin adds someone
    else (``for_someone_else``); sign-up is the person themselves."""
    errors: list[FieldError] = []
    email = normalise_email(email)
    if problem := email_problem(session, email, must_be_new=email_must_be_new):
        errors.append(problem)
    if is_blank(name):
        errors.append(
            FieldError(
                field="name",
                message="Enter their full name" if for_someone_else else "Enter your full name",
            )
        )
    elif len(name) > 120:
        errors.append(FieldError(field="name", message="Full name must be 120 characters or fewer"))
    else:
        errors += nhs_number_problems({"name": name})
    problem = password_problem(password, context=(name, email))
    if problem:
        errors.append(FieldError(field="password", message=problem))
    if team_id is not None:
        team = session.get(Team, team_id)
        if team is None or not team.active:
            errors.append(FieldError(field="team_id", message="Select a team from the list"))
    return errors


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    team_id: int | None,
    partner_id: int | None = None,
    for_someone_else: bool = False,
) -> User:
    """Checks every field and refuses with field errors; the email is unique, case-insensitively.
    A partner organisation's user needs their organisation; staff have none (SPEC §2)."""
    errors = account_problems(
        session,
        email=email,
        name=name,
        password=password,
        team_id=team_id,
        for_someone_else=for_someone_else,
    )
    errors += partner_link_problems(session, role, partner_id)
    if errors:
        raise Invalid(errors)
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        password_hash=hash_password(password),
        role=role,
        team_id=team_id,
        partner_id=partner_id if role is Role.partner else None,
    )
    session.add(user)
    session.flush()
    return user


def partner_link_problems(session: Session, role: Role, partner_id: int | None) -> list[FieldError]:
    """The one rule tying a role to a partner organisation: a partner user names an active one,
    and no one else names any (a choice of organisation is refused, not dropped unsaid)."""
    if role is not Role.partner:
        if partner_id is None:
            return []
        return [
            FieldError(
                field="partner_id",
                message="Only a partner organisation's user works for a partner organisation: "
                "choose that role, or no organisation",
            )
        ]
    partner = session.get(Partner, partner_id) if partner_id else None
    if partner is None or not partner.active:
        return [
            FieldError(
                field="partner_id",
                message="Select the partner organisation this person works for",
            )
        ]
    return []
