"""Partnership Working handover notes (SPEC §3.2): the table, its category links, what a client sends."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic import Field as PydanticField
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Column, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from schemas.enums import HARM_NEEDING_FORMAL_REPORT, Category, HandoverStatus, Harm, JourneyType
from schemas.free_text import RecordRef, no_nul, optional_text, required_text, unique_list
from schemas.timestamps import ClientTimestamp, UTCDateTime, as_aware, utcnow

FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST_OCCURRED = datetime(2000, 1, 1).astimezone()


class Handover(SQLModel, table=True):
    __table_args__ = (
        Index("ix_handover_partner_occurred", "partner_id", "occurred_at"),
        Index("ix_handover_received_id", "received_at", "id"),
        Index("ix_handover_status_received", "status", "received_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    partner_id: int = Field(foreign_key="partner.id")
    location_detail: str = Field(default="", max_length=200)
    journey_type: str | None = Field(default=None, sa_column=Column(String(20)))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    delay_minutes: int | None = None
    harm: str | None = Field(default=None, sa_column=Column(String(20)))
    narrative: str
    immediate_action: str = ""
    vehicle: str = Field(default="", max_length=20)
    status: str = Field(
        default=HandoverStatus.new.value, sa_column=Column(String(30), nullable=False)
    )
    reported_by: int = Field(foreign_key="app_user.id", index=True)
    review_note: str = ""
    partner_response: str = ""
    version: int = 1
    content_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HandoverCategory(SQLModel, table=True):
    __tablename__ = "handover_category"

    handover_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("handover.id", ondelete="CASCADE"), primary_key=True)
    )
    category: str = Field(max_length=40, primary_key=True, index=True)


def _not_in_the_future(value: datetime) -> datetime:
    value = as_aware(value)
    if value > utcnow() + FUTURE_TOLERANCE:
        raise PydanticCustomError("in_future", "is in the future")
    if value < EARLIEST_OCCURRED:
        raise PydanticCustomError("too_early", "is before 2000")
    return value


class HandoverIn(BaseModel):
    """What a client sends for one handover note. A time without an offset is London time."""

    model_config = ConfigDict(extra="forbid")

    occurred_at: Annotated[datetime, AfterValidator(_not_in_the_future)]
    partner_id: RecordRef
    location_detail: optional_text(200) = ""
    journey_type: JourneyType | None = None
    categories: Annotated[list[Category], unique_list, PydanticField(min_length=1)]
    delay_minutes: Annotated[int, PydanticField(ge=0, le=1440)] | None = None
    harm: Harm | None = None
    narrative: required_text(4000)
    immediate_action: optional_text(2000) = ""
    vehicle: optional_text(20) = ""
    created_at: ClientTimestamp | None = None

    @property
    def needs_formal_report(self) -> bool:
        return self.harm in HARM_NEEDING_FORMAL_REPORT


class HandoverSubmission(HandoverIn):
    """`POST /api/v1/handovers`: one record with its client-made id."""

    id: uuid.UUID


class HandoverRead(BaseModel):
    id: uuid.UUID
    occurred_at: datetime
    partner_id: int
    location_detail: str
    journey_type: str | None
    categories: list[str]
    delay_minutes: int | None
    harm: str | None
    narrative: str
    immediate_action: str
    vehicle: str
    status: str
    reported_by: int
    reporter_name: str
    review_note: str
    partner_response: str
    version: int
    created_at: datetime
    received_at: datetime
    updated_at: datetime


class HandoverPage(BaseModel):
    items: list[HandoverRead]
    next_cursor: str | None


class HandoverTransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: HandoverStatus
    note: Annotated[str, PydanticField(max_length=4000), no_nul] = ""


class HandoverPatch(BaseModel):
    """Only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    review_note: optional_text(4000) = ""
    partner_response: optional_text(4000) = ""
