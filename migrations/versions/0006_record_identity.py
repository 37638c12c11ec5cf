"""record identity: one client-made id names one record across every kind (issue #10)

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_identity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Every record already stored. Ideas first; a handover note whose id an idea already has (a
    # clash the old schema allowed) keeps its row but not the id: feedback is chosen by kind too,
    # so it reaches neither submitter by mistake.
    op.execute("INSERT INTO record_identity (id, kind) SELECT id, 'idea' FROM idea")
    op.execute(
        "INSERT INTO record_identity (id, kind) SELECT id, 'handover' FROM handover "
        "WHERE id NOT IN (SELECT id FROM record_identity)"
    )


def downgrade() -> None:
    op.drop_table("record_identity")
