"""Improvement ideas (SPEC §3.1): the table, its link tables, and what a client may send."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, ForeignKey, Index, String, text
from sqlmodel import Field, SQLModel

from schemas.enums import Benefit, IdeaStatus, Waste
from schemas.free_text import RecordRef, no_nul, optional_text, required_text, unique_list
from schemas.timestamps import ClientTimestamp, UTCDateTime, utcnow


def _set(column: str) -> dict[str, Any]:
    """A partial index of the ideas whose `column` is set (migration 0017): a fresh idea leaves it
    NULL and adds no entry (issue 16), and every query on it asks for a value, which implies NOT
    NULL, so both databases use the index exactly as a full one."""
    where = text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


class Idea(SQLModel, table=True):
    __table_args__ = (
        Index("ix_idea_received_id", "received_at", "id"),
        Index("ix_idea_updated_id", "updated_at", "id"),
        Index(
            "ix_idea_impact_effort", "impact", "effort", "status", "received_at", **_set("impact")
        ),
        # The queue's counts, each read from one index range (migration 0015, docs/triage.md); `id`
        # last, so a count that also asks for an aim or a waste still never reads the rows.
        Index(
            "ix_idea_status_received_response", "status", "received_at", "first_response_at", "id"
        ),
        Index("ix_idea_status_updated", "status", "updated_at", "id"),
        # `received_at` before `id` (migration 0018): a fresh idea's entry goes at the end of its
        # team's and status's range, where `id` (a random UUID) alone put each one on a page of
        # its own, a batch of 100 dirtying some 100 pages (issue 16).
        Index("ix_idea_team_status", "team_id", "status", "received_at", "id"),
        Index("ix_idea_team_received", "team_id", "received_at", "id"),
        Index("ix_idea_owner_status", "owner_id", "status", "id", **_set("owner_id")),
        Index("ix_idea_spread_from", "spread_from", **_set("spread_from")),
        Index("ix_idea_partner_id", "partner_id", **_set("partner_id")),
    )

    id: uuid.UUID = Field(primary_key=True)
    title: str = Field(max_length=120)
    problem: str
    proposal: str
    wastes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    aims: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    benefits: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    team_id: int = Field(foreign_key="team.id")
    show_name: bool = True
    # Plain str in the table: the database hands back strings; the API models carry the enums.
    status: str = Field(
        default=IdeaStatus.submitted.value, sa_column=Column(String(20), nullable=False)
    )
    owner_id: int | None = Field(default=None, foreign_key="app_user.id")
    impact: int | None = None
    effort: int | None = None
    submitted_by: int = Field(foreign_key="app_user.id", index=True)
    duplicate_of: uuid.UUID | None = Field(default=None, foreign_key="idea.id")
    version: int = 1
    content_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The first manager comment or move: "time to first response" (SPEC §4) without a scan.
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The equity prompt of the form: "Who could be left out by this problem or this change?"
    equity_prompt: str = Field(default="", sa_column_kwargs={"server_default": ""})
    # "Try this in my team": the shared idea from the learning library this one spreads.
    spread_from: uuid.UUID | None = Field(default=None, foreign_key="idea.id")
    # Set by the server from the submitter's account when a partner organisation's user sent it
    # (joint improvement, SPEC §2): never taken from the client, so not in IdeaIn or its fingerprint.
    partner_id: int | None = Field(default=None, foreign_key="partner.id")


def _link_status() -> Any:
    """A link's copy of its idea's status, set and kept by database triggers (migration 0015):
    the queue counts open ideas per aim or waste from the link's index alone. Never written by
    the app; the default is what every idea starts as."""
    return Field(
        default=IdeaStatus.submitted.value,
        sa_column=Column(String(20), nullable=False, server_default=IdeaStatus.submitted.value),
    )


class IdeaAim(SQLModel, table=True):
    """Which strategic aims an idea serves; a table (not only JSON) so the queue filters by aim."""

    __tablename__ = "idea_aim"
    __table_args__ = (Index("ix_idea_aim_aim_status", "aim_id", "status"),)

    idea_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("idea.id", ondelete="CASCADE"), primary_key=True)
    )
    aim_id: int = Field(foreign_key="aim.id", primary_key=True)
    status: str = _link_status()


class IdeaWaste(SQLModel, table=True):
    __tablename__ = "idea_waste"
    __table_args__ = (Index("ix_idea_waste_waste_status", "waste", "status"),)

    idea_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("idea.id", ondelete="CASCADE"), primary_key=True)
    )
    waste: str = Field(max_length=30, primary_key=True)
    status: str = _link_status()


class IdeaIn(BaseModel):
    """What a client sends for one idea (the id travels beside it). Server-owned fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    title: required_text(120, min_length=3)
    problem: required_text(4000)
    proposal: required_text(4000)
    wastes: Annotated[list[Waste], unique_list] = []
    aims: Annotated[list[RecordRef], unique_list, PydanticField(min_length=1, max_length=20)]
    team_id: RecordRef
    benefits: Annotated[list[Benefit], unique_list] = []
    show_name: bool = True
    equity_prompt: optional_text(2000) = ""
    spread_from: uuid.UUID | None = None
    created_at: ClientTimestamp | None = None

    # Fields added after phones had already queued ideas: left out of the content fingerprint
    # while they hold their default, so a replay of an item queued before they existed still
    # matches what was stored (api/sync/outcome.py fingerprint).
    ADDED_LATER: ClassVar[dict[str, Any]] = {"equity_prompt": "", "spread_from": None}


class IdeaSubmission(IdeaIn):
    """`POST /api/v1/ideas`: one record with its client-made id."""

    id: uuid.UUID


class IdeaRead(BaseModel):
    """An idea as the API returns it. `submitted_by` is withheld from reviewers when the submitter
    chose not to show their name (`submitter_name` then reads "Anonymous")."""

    id: uuid.UUID
    title: str
    problem: str
    proposal: str
    wastes: list[str]
    aims: list[int]
    team_id: int
    benefits: list[str]
    show_name: bool
    status: str
    owner_id: int | None
    impact: int | None
    effort: int | None
    submitted_by: int | None
    submitter_name: str
    duplicate_of: uuid.UUID | None
    version: int
    created_at: datetime
    received_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    equity_prompt: str = ""
    spread_from: uuid.UUID | None = None
    # The partner organisation whose user submitted it (joint improvement); None for staff.
    partner_id: int | None = None
    flags: list[str] = []


class IdeaPage(BaseModel):
    items: list[IdeaRead]
    next_cursor: str | None


class IdeaTransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: IdeaStatus
    note: Annotated[str, PydanticField(max_length=4000), no_nul] = ""
    duplicate_of: uuid.UUID | None = None
    equity_note: Annotated[str, PydanticField(max_length=4000), no_nul] = ""


class IdeaPatch(BaseModel):
    """Only the fields sent are changed; null clears the owner."""

    model_config = ConfigDict(extra="forbid")

    owner_id: RecordRef | None = None
    impact: Annotated[int, PydanticField(ge=1, le=3)] | None = None
    effort: Annotated[int, PydanticField(ge=1, le=3)] | None = None
