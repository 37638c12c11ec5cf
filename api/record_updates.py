"""Changing a stored idea or handover note safely: compare-and-set on its version, so two managers'
changes never silently overwrite each other (the HTTP side is api/concurrency.py)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import update
from sqlmodel import Session

from api.errors import PreconditionFailed
from schemas.timestamps import utcnow

Record = TypeVar("Record", bound=Any)


def stale(noun: str, current_version: int) -> PreconditionFailed:
    return PreconditionFailed(
        {
            "message": f"Someone else changed this {noun}. Reload it to see their change.",
            "version": current_version,
        }
    )


def check_version(record: Any, expected: int | None, noun: str) -> None:
    if expected is not None and expected != record.version:
        raise stale(noun, record.version)


def compare_and_set(
    session: Session, record: Record, expected_version: int, values: dict[str, Any], noun: str
) -> Record:
    model = type(record)
    result = session.execute(
        update(model)
        .where(model.id == record.id, model.version == expected_version)
        .values(**values, version=expected_version + 1, updated_at=utcnow())
    )
    session.refresh(record)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise stale(noun, record.version)
    return record
