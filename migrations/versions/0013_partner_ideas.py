"""ideas from partner organisations' users: idea.partner_id (joint improvement, SPEC §2)

Revision ID: 0013
Revises: 0005
Create Date: 2026-12-06 03:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not batch mode: on SQLite that rebuilds the idea table and drops its full-text search
    # triggers (migration 0002). SQLite adds a nullable column with its REFERENCES in place.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE idea ADD COLUMN partner_id INTEGER "
            "CONSTRAINT fk_idea_partner_id_partner REFERENCES partner (id)"
        )
    else:
        op.add_column("idea", sa.Column("partner_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_idea_partner_id_partner", "idea", "partner", ["partner_id"], ["id"]
        )
    op.create_index(op.f("ix_idea_partner_id"), "idea", ["partner_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_idea_partner_id"), table_name="idea")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_idea_partner_id_partner", "idea", type_="foreignkey")
    # SQLite 3.35+ drops the column in place, keeping the table and its search triggers.
    op.drop_column("idea", "partner_id")
