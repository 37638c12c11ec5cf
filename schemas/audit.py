"""The audit trail of ideas and handover notes (who, when, from, to, note) and the in-app
notifications it raises for the people who submitted them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from schemas.free_text import no_nul
from schemas.timestamps import UTCDateTime, utcnow


class RecordKind(StrEnum):
    idea = "idea"
    handover = "handover"


class Action(StrEnum):
    transition = "transition"
    comment = "comment"
    update = "update"  # owner, impact, effort; review note, partner response
    equity_pause = "equity_pause"
    # A partner organisation's user read a note raised with them, or answered it (SPEC §4).
    acknowledge = "acknowledge"
    partner_response = "partner_response"
    reply = "reply"  # the submitter answering a reviewer's comment on their own record (SPEC §4)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_record", "record_kind", "record_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    record_kind: str = Field(sa_column=Column(String(20), nullable=False))
    record_id: uuid.UUID
    actor_id: int = Field(foreign_key="app_user.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    action: str = Field(sa_column=Column(String(20), nullable=False))
    from_status: str | None = Field(default=None, max_length=30)
    to_status: str | None = Field(default=None, max_length=30)
    note: str = ""
    # Shown to the submitter (comments, moves and their reasons); internal notes are not.
    visible_to_submitter: bool = True


class Notification(SQLModel, table=True):
    """One line in a submitter's "what happened to my submissions" list."""

    __table_args__ = (Index("ix_notification_user_created", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    event_id: int = Field(foreign_key="audit_event.id")
    record_kind: str = Field(sa_column=Column(String(20), nullable=False))
    record_id: uuid.UUID
    text: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EventRead(BaseModel):
    id: int
    at: datetime
    actor_id: int
    actor_name: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str


class NotificationRead(BaseModel):
    id: int
    record_kind: str
    record_id: uuid.UUID
    text: str
    created_at: datetime
    read: bool


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, PydanticField(min_length=1, max_length=4000), no_nul]
