"""The readiness diagnostic (SPEC §6 /api/v1/readiness/*): anonymous answers, kept apart from who
answered. A response row holds the team, the round and the answers, with no user, no timestamp and a
random id; the participation row says only that a person answered for a team in a round, so no one
is counted twice and no answer can be traced back to the person."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, Index, String
from sqlmodel import Field, SQLModel

from schemas.free_text import RecordRef


class ReadinessResponse(SQLModel, table=True):
    __tablename__ = "readiness_response"
    __table_args__ = (Index("ix_readiness_response_team_round", "team_id", "round"),)

    # Random, not a sequence: an ordered id could be matched with the order people answered in.
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    round: str = Field(sa_column=Column(String(7), nullable=False))  # "2026-Q4"
    answers: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ReadinessParticipation(SQLModel, table=True):
    """Who has answered for which team in which round; nothing else, and no link to the answers."""

    __tablename__ = "readiness_participation"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    round: str = Field(sa_column=Column(String(7), primary_key=True))


Score = Annotated[int, PydanticField(ge=1, le=5)]


class ReadinessIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team_id: RecordRef
    answers: dict[Annotated[str, PydanticField(max_length=40)], Score] = PydanticField(
        max_length=100
    )


class ReadinessQuestion(BaseModel):
    id: str
    domain: str
    domain_name: str
    text: str


class ReadinessQuestions(BaseModel):
    scale: dict[int, str]
    domains: dict[str, str]
    questions: list[ReadinessQuestion]


class ReadinessRound(BaseModel):
    round: str
    respondents: int
    stage: int | None
    domains: dict[str, float] | None


class ReadinessResult(BaseModel):
    """SPEC §6: stage and domains are null below the threshold of respondents."""

    team_id: int
    respondents: int
    stage: int | None
    domains: dict[str, float] | None
    round: str
    history: list[ReadinessRound] = []


class ReadinessAccepted(BaseModel):
    team_id: int
    round: str
    respondents: int
