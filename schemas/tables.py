"""Imports every table module so SQLModel.metadata knows the whole schema (for Alembic and tests)."""

from schemas import (
    accounts,
    audit,
    handovers,
    ideas,
    measures,
    pdsa,
    push,
    readiness,
    record_identity,
)

__all__ = [
    "accounts",
    "audit",
    "handovers",
    "ideas",
    "measures",
    "pdsa",
    "push",
    "readiness",
    "record_identity",
]
