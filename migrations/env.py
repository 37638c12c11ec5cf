"""Alembic environment: the schema is SQLModel's metadata; the URL and engine come from api.db."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import schemas.tables  # noqa: F401 - registers every table on SQLModel.metadata
from api.db import get_engine
from api.ideas.search import SEARCH_OBJECTS

target_metadata = SQLModel.metadata


def _described_by_models(name: str | None, type_: str, _parent: object) -> bool:
    return name not in SEARCH_OBJECTS


def run_migrations() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is None:
        with get_engine().connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        include_name=_described_by_models,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
