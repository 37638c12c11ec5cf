"""Partnership Working handover notes (SPEC §3.2): the table, its category links, what a client sends."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic import Field as PydanticField
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Column, ForeignKey, Index, String, text
from sqlmodel import Field, SQLModel

from schemas.enums import (
    HARM_NEEDING_FORMAL_REPORT,
    Category,
    GoodPractice,
    HandoverStatus,
    Harm,
    JourneyType,
    NoteType,
)
from schemas.free_text import RecordRef, no_nul, optional_text, required_text, unique_list
from schemas.timestamps import ClientTimestamp, UTCDateTime, as_aware, utcnow

FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST_OCCURRED = datetime(2000, 1, 1).astimezone()


# A note raised with its partner (or answered by it): the review pack lists the newest of these.
# Written as SQL literals, not bound values, so the query's condition is the partial index's own and
# both databases can use the index (migration 0014). Parenthesised: it is ANDed into a WHERE.
RAISED_WITH_PARTNER_SQL = (
    "(status IN ('raised_with_partner', 'resolved') OR partner_response <> '')"
)


class Handover(SQLModel, table=True):
    __table_args__ = (
        Index("ix_handover_partner_occurred", "partner_id", "occurred_at"),
        Index(
            "ix_handover_partner_raised",
            "partner_id",
            "occurred_at",
            sqlite_where=text(RAISED_WITH_PARTNER_SQL),
            postgresql_where=text(RAISED_WITH_PARTNER_SQL),
        ),
        Index("ix_handover_received_id", "received_at", "id"),
        Index("ix_handover_status_received", "status", "received_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    partner_id: int = Field(foreign_key="partner.id")
    location_detail: str = Field(default="", max_length=200)
    journey_type: str | None = Field(default=None, sa_column=Column(String(20)))
    note_type: str = Field(
        default=NoteType.concern.value,
        sa_column=Column(String(20), nullable=False, server_default=NoteType.concern.value),
    )
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    good_practice: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
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
    # When it was first raised with the partner: the 10 working days for an answer count from here.
    raised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Who in the partner organisation answered, and when (SPEC §3.2, §4).
    partner_response_by: int | None = Field(default=None, foreign_key="app_user.id")
    partner_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    partner_acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The national patient safety report's reference (LFPSE), recorded by a manager.
    lfpse_reference: str = Field(
        default="", sa_column=Column(String(40), nullable=False, server_default="")
    )
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
    """What a client sends for one handover note. A time without an offset is London time.

    A concern names at least one thing that went wrong; a good-practice note names at least one
    thing that went well and carries no harm (SPEC §3.2). `note_type` comes before the lists so
    their validators can read it."""

    model_config = ConfigDict(extra="forbid")

    # Fields added after the first release, with the value a record sent before them means.
    # The sync fingerprint leaves them out at that value, so a phone replaying a note it queued
    # before the upgrade is still a `duplicate`, not a `conflict`.
    ADDED_LATER: ClassVar[dict[str, Any]] = {"note_type": "concern", "good_practice": []}

    occurred_at: Annotated[datetime, AfterValidator(_not_in_the_future)]
    partner_id: RecordRef
    location_detail: optional_text(200) = ""
    journey_type: JourneyType | None = None
    note_type: NoteType = NoteType.concern
    categories: Annotated[list[Category], unique_list] = PydanticField(
        default_factory=list,
        validate_default=True,
        json_schema_extra={"description": "At least one for a concern"},
    )
    good_practice: Annotated[list[GoodPractice], unique_list] = PydanticField(
        default_factory=list,
        validate_default=True,
        json_schema_extra={"description": "What went well: at least one for a good-practice note"},
    )
    delay_minutes: Annotated[int, PydanticField(ge=0, le=1440)] | None = None
    harm: Harm | None = None
    narrative: required_text(4000)
    immediate_action: optional_text(2000) = ""
    vehicle: optional_text(20) = ""
    created_at: ClientTimestamp | None = None

    @field_validator("categories")
    @classmethod
    def _a_concern_names_what_went_wrong(
        cls, value: list[Category], info: ValidationInfo
    ) -> list[Category]:
        if info.data.get("note_type", NoteType.concern) is NoteType.concern and not value:
            raise PydanticCustomError("too_short", "select at least one")
        return value

    @field_validator("good_practice")
    @classmethod
    def _good_practice_only_on_its_notes(
        cls, value: list[GoodPractice], info: ValidationInfo
    ) -> list[GoodPractice]:
        note_type = info.data.get("note_type")
        if note_type is NoteType.good_practice and not value:
            raise PydanticCustomError("too_short", "select at least one")
        if note_type is NoteType.concern and value:
            raise PydanticCustomError(
                "not_for_concern", "is only for a good-practice note; leave it empty"
            )
        return value

    @field_validator("harm")
    @classmethod
    def _no_harm_on_good_practice(cls, value: Harm | None, info: ValidationInfo) -> Harm | None:
        if value is not None and info.data.get("note_type") is NoteType.good_practice:
            raise PydanticCustomError("not_for_good_practice", "does not apply to good practice")
        return value

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
    note_type: str
    categories: list[str]
    good_practice: list[str]
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
    raised_at: datetime | None
    partner_response_at: datetime | None
    partner_acknowledged_at: datetime | None
    lfpse_reference: str
    version: int
    created_at: datetime
    received_at: datetime
    updated_at: datetime
    # Raised, unanswered past the 10 working days (api/handovers/response_wait.py): flagged to both
    # the trust and the partner.
    response_due: date | None = None
    response_overdue: bool = False


class HandoverPage(BaseModel):
    items: list[HandoverRead]
    next_cursor: str | None


class PartnerNoteRead(BaseModel):
    """A note as a partner organisation's user reads it (SPEC §2, §6): a separate model, so no crew
    field (who reported it, the vehicle, the trust's internal review note) can leak by being added
    to HandoverRead later."""

    id: uuid.UUID
    occurred_at: datetime
    partner_id: int
    partner_name: str
    location_detail: str
    journey_type: str | None
    note_type: str
    categories: list[str]
    good_practice: list[str]
    delay_minutes: int | None
    harm: str | None
    narrative: str
    immediate_action: str
    status: str
    raised_at: datetime | None
    response_due: date | None
    response_overdue: bool
    partner_response: str
    partner_response_at: datetime | None
    partner_acknowledged_at: datetime | None
    received_at: datetime


class PartnerNotePage(BaseModel):
    items: list[PartnerNoteRead]
    next_cursor: str | None


class PartnerResponseIn(BaseModel):
    """`POST /api/v1/handovers/{id}/response`: the partner's answer, guarded like all free text."""

    model_config = ConfigDict(extra="forbid")

    body: required_text(4000)


class HandoverTransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: HandoverStatus
    note: Annotated[str, PydanticField(max_length=4000), no_nul] = ""


class HandoverPatch(BaseModel):
    """Only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    review_note: optional_text(4000) = ""
    partner_response: optional_text(4000) = ""
