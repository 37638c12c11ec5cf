"""PDSA cycles (Plan, Do, Study, Act) on accepted or testing ideas, each with a measure and its data."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from pydantic_core import PydanticCustomError
from sqlalchemy import Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from schemas.free_text import optional_text, required_text
from schemas.timestamps import UTCDateTime, utcnow


class PdsaCycle(SQLModel, table=True):
    __tablename__ = "pdsa_cycle"
    __table_args__ = (Index("ix_pdsa_cycle_idea", "idea_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("idea.id", ondelete="CASCADE"), nullable=False)
    )
    plan: str
    do: str = ""
    study: str = ""
    act: str = ""
    start_date: date
    end_date: date | None = None
    measure_name: str = Field(max_length=120)
    measure_unit: str = Field(default="", max_length=40)
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PdsaPoint(SQLModel, table=True):
    __tablename__ = "pdsa_point"
    __table_args__ = (Index("ix_pdsa_point_cycle_day", "cycle_id", "day", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(
        sa_column=Column(ForeignKey("pdsa_cycle.id", ondelete="CASCADE"), nullable=False)
    )
    day: date
    value: float


class PdsaCycleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: required_text(4000)
    do: optional_text(4000) = ""
    study: optional_text(4000) = ""
    act: optional_text(4000) = ""
    start_date: date
    end_date: date | None = None
    measure_name: required_text(120)
    measure_unit: optional_text(40) = ""

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> PdsaCycleIn:
        if self.end_date is not None and self.end_date < self.start_date:
            raise PydanticCustomError("end_before_start", "ends before it starts")
        return self


class PdsaPointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: date
    value: Annotated[float, PydanticField(ge=-1e9, le=1e9, allow_inf_nan=False)]


class PdsaPointRead(BaseModel):
    day: date
    value: float


class PdsaCycleRead(BaseModel):
    id: int
    idea_id: uuid.UUID
    plan: str
    do: str
    study: str
    act: str
    start_date: date
    end_date: date | None
    measure_name: str
    measure_unit: str
    created_at: datetime
    points: list[PdsaPointRead]
