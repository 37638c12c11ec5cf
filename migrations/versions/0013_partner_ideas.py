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
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idea", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_idea_partner_id"), ["partner_id"], unique=False)
        batch_op.create_foreign_key("fk_idea_partner_id_partner", "partner", ["partner_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("idea", schema=None) as batch_op:
        batch_op.drop_constraint("fk_idea_partner_id_partner", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_idea_partner_id"))
        batch_op.drop_column("partner_id")
