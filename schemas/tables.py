"""Imports every table module so SQLModel.metadata knows the whole schema (for Alembic and tests)."""

from schemas import accounts, handovers, ideas

__all__ = ["accounts", "handovers", "ideas"]
