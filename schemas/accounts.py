"""People and the organisation: users, their sessions, teams, partner organisations, strategic aims."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from schemas.timestamps import UTCDateTime, utcnow


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, sa_column_kwargs={"unique": True})
    active: bool = True


class Partner(SQLModel, table=True):
    """A partner organisation where patients are handed over (hospital, ward, clinic, care home)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=160, sa_column_kwargs={"unique": True})
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    active: bool = True
    # A site (an emergency department, a ward) grouped under its organisation (the hospital):
    # review packs and partner users may cover the organisation or one site.
    parent_id: int | None = Field(default=None, foreign_key="partner.id", index=True)


class Aim(SQLModel, table=True):
    """A strategic aim of the trust; every idea serves at least one."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=160, sa_column_kwargs={"unique": True})
    description: str = Field(default="", max_length=1000)
    active: bool = True


class User(SQLModel, table=True):
    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: str = Field(sa_column=Column(String(20), nullable=False))
    team_id: int | None = Field(default=None, foreign_key="team.id")
    # A partner user's organisation (SPEC §2); None for the trust's own staff.
    partner_id: int | None = Field(default=None, foreign_key="partner.id", index=True)
    active: bool = True
    # Set for an account an admin created with a password they chose: the user picks their own
    # at first sign-in.
    must_change_password: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa_false()}
    )
    # Leads the daily huddle of their own team (team_id): may move that team's cards on /huddle.
    # Set by an admin; per user because a user belongs to one team (docs/improvement-system.md).
    huddle_lead: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """A server-side session; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "user_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ThrottleEvent(SQLModel, table=True):
    """One counted event (a failed sign-in, a sync request) under a key, for rate limits that hold
    across several app processes."""

    __tablename__ = "throttle_event"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class SignupRequest(SQLModel, table=True):
    """A self sign-up waiting for its email to be confirmed (issue #10). The link's token is only
    ever stored as its SHA-256; a request is used once, and expires."""

    __tablename__ = "signup_request"

    token_hash: str = Field(primary_key=True, max_length=64)
    email: str = Field(max_length=254, index=True)
    name: str = Field(max_length=120)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
