"""Tables behind the measures (SPEC §8): the per-day summary the charts count from, and what
managers set on a chart (a baseline, a target, changes and notes on points)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from schemas.free_text import required_text
from schemas.timestamps import UTCDateTime, utcnow

ALL = 0  # partner_id / team_id of a summary row or a chart setting that is not per partner or team


class MeasureDay(SQLModel, table=True):
    """Counts per London day, kept by database triggers in the same transaction as the record
    (migration 0008; docs/decisions/0008-measure-day-summary.md). `kind` names what is counted:
    handover_concern / handover_good_practice (per partner; `total` the delay minutes),
    idea_received / idea_responded / idea_implemented (per team)."""

    __tablename__ = "measure_day"

    kind: str = Field(sa_column=Column(String(30), primary_key=True))
    day: date = Field(primary_key=True)
    partner_id: int = Field(default=ALL, primary_key=True)
    team_id: int = Field(default=ALL, primary_key=True)
    n: int = 0
    total: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class PackDay(SQLModel, table=True):
    """The partner review pack's counts per partner and London day, kept by database triggers in
    the same transaction as the note (migration 0014; docs/decisions/0008-measure-day-summary.md).
    `kind` / `item`: note / the note type; category, journey (`not_recorded` for none) and harm of
    concerns; good_practice / the item; delay / the concern's delay minutes as text (a histogram)."""

    __tablename__ = "pack_day"
    # SQLite: the rows stored in key order, so a partner's period is one contiguous read.
    __table_args__ = {"sqlite_with_rowid": False}

    partner_id: int = Field(primary_key=True)
    day: date = Field(primary_key=True)
    kind: str = Field(sa_column=Column(String(20), primary_key=True))
    item: str = Field(sa_column=Column(String(40), primary_key=True))
    n: int = 0


# PostgreSQL: what the summary triggers append (migration 0016; docs/decisions/0012-summary-deltas.md).
# Readers add these rows to the summary's, and api/measures/summary.py folds them in; no key, no
# index: a delta is appended, read with its summary and deleted by the fold, so no writer ever
# waits on one. SQLite's triggers still write the summary rows themselves: these stay empty there.
MEASURE_DELTA = Table(
    "measure_delta",
    SQLModel.metadata,
    Column("kind", String(30), nullable=False),
    Column("day", Date, nullable=False),
    Column("partner_id", Integer, nullable=False),
    Column("team_id", Integer, nullable=False),
    Column("n", Integer, nullable=False),
    Column("total", BigInteger, nullable=False),
)
PACK_DELTA = Table(
    "pack_delta",
    SQLModel.metadata,
    Column("partner_id", Integer, nullable=False),
    Column("day", Date, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("item", String(40), nullable=False),
    Column("n", Integer, nullable=False),
)


class ChartSetting(SQLModel, table=True):
    """A manager's settings for one chart (a measure, for all partners or one): the baseline whose
    limits are fixed, and the target the assurance icon reads."""

    __tablename__ = "chart_setting"
    __table_args__ = (UniqueConstraint("measure", "partner_id", name="uq_chart_setting_scope"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    measure: str = Field(sa_column=Column(String(60), nullable=False))
    partner_id: int = ALL
    baseline_to: date | None = None  # limits fixed from the chart's first period up to this day
    target: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 3), nullable=True))
    updated_by: int = Field(foreign_key="app_user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChartEvent(SQLModel, table=True):
    """Something a manager marks on a chart: a `change` (limits recalculated from that day's period,
    with its reason) or a `note` on the point of that day's period."""

    __tablename__ = "chart_event"
    __table_args__ = (Index("ix_chart_event_measure_day", "measure", "partner_id", "day"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    measure: str = Field(sa_column=Column(String(60), nullable=False))
    partner_id: int = ALL
    kind: str = Field(sa_column=Column(String(10), nullable=False))
    day: date
    text: str = Field(max_length=200)
    # A PDSA cycle this chart's measure tests: drawn as a mark at the cycle's start.
    pdsa_cycle_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("pdsa_cycle.id", ondelete="CASCADE"), nullable=True),
    )
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChartSettingIn(BaseModel):
    """A manager's target and baseline for a chart; empty clears them."""

    model_config = ConfigDict(extra="forbid")

    target: Decimal | None = PydanticField(
        default=None, ge=0, le=Decimal("1000000"), decimal_places=3
    )
    baseline_to: date | None = None


class ChartEventIn(BaseModel):
    """A change (limits recalculated from that day's period, with its reason) or a note on a point."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["change", "note"]
    day: date
    text: required_text(200)


class ChartPdsaIn(BaseModel):
    """A PDSA cycle that tests this chart's measure: marked at its start date, with its plan."""

    model_config = ConfigDict(extra="forbid")

    pdsa_cycle_id: int = PydanticField(gt=0, le=2**31 - 1)
