"""improvement system: huddle leads, equity prompt, spread, readiness diagnostic

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-06 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): on SQLite a batch would rebuild the idea table and drop the
    # full-text triggers migration 0002 made.
    op.add_column(
        "app_user",
        sa.Column("huddle_lead", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "idea", sa.Column("equity_prompt", sa.String(), nullable=False, server_default="")
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its foreign key only when it is written inline.
        op.execute("ALTER TABLE idea ADD COLUMN spread_from CHAR(32) REFERENCES idea (id)")
    else:
        op.add_column("idea", sa.Column("spread_from", sa.Uuid(), nullable=True))
        op.create_foreign_key("fk_idea_spread_from", "idea", "idea", ["spread_from"], ["id"])
    op.create_index("ix_idea_spread_from", "idea", ["spread_from"], unique=False)

    op.create_table(
        "readiness_response",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.String(length=7), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_readiness_response_team_round", "readiness_response", ["team_id", "round"])
    op.create_table(
        "readiness_participation",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.String(length=7), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("user_id", "team_id", "round"),
    )


def downgrade() -> None:
    op.drop_table("readiness_participation")
    op.drop_index("ix_readiness_response_team_round", table_name="readiness_response")
    op.drop_table("readiness_response")
    op.drop_index("ix_idea_spread_from", table_name="idea")
    with op.batch_alter_table("idea") as batch_op:
        batch_op.drop_column("spread_from")
        batch_op.drop_column("equity_prompt")
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("huddle_lead")
