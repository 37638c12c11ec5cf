"""One id, one record, whatever its kind: the registry of every client-made record id.

Ideas and handover notes live in tables of their own, each with the client's UUID as its primary
key; on its own that let one id name an idea and a handover note at once, and feedback picked by id
alone then reached the wrong person (issue #10). Every record's id is written here, in the same
transaction and the same INSERT … ON CONFLICT DO NOTHING batch as the record (api/sync/ingest.py),
so the database, not a Python check, keeps an id to one record of one kind."""

from __future__ import annotations

import uuid

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel


class RecordIdentity(SQLModel, table=True):
    __tablename__ = "record_identity"

    id: uuid.UUID = Field(primary_key=True)
    # The kind whose table holds the record: "idea" or "handover" (api/sync/kinds.py's name).
    kind: str = Field(sa_column=Column(String(20), nullable=False))
