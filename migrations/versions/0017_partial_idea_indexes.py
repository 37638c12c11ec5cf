"""Four indexes on `idea` hold only the ideas whose column is set (partial: WHERE col IS NOT NULL)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 17:30:00

A fresh idea has no owner, no impact or effort rating, was spread from nothing and (unless a
partner organisation's user sent it) has no partner: yet every new idea added an entry to
`ix_idea_owner_status`, `ix_idea_impact_effort`, `ix_idea_spread_from` and `ix_idea_partner_id`,
all of them NULL-keyed, which no query ever looks up (issue 16: SQLite's and PostgreSQL's own
work is most of a sync batch; on PostgreSQL every storing batch also appended to the same last
leaf page of each, where NULLs sort). Every query that reads these indexes asks for a value
(`owner_id = ?`, `impact IN (…) AND effort IN (…)`, `spread_from IN (…)`, `partner_id = ?`),
which implies the column is not NULL, so both databases use the partial index exactly where they
used the full one (docs/performance.md "Fifth pass", decision 0014). Same names, same columns.

Additive for the version still running (it reads the same index names the same way); on
PostgreSQL each index is rebuilt while the migration holds the table (a second or two at
100,000 ideas, as migration 0015's were built).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, columns, the column a fresh idea leaves NULL)
PARTIAL = [
    ("ix_idea_owner_status", ["owner_id", "status", "id"], "owner_id"),
    ("ix_idea_impact_effort", ["impact", "effort", "status", "received_at"], "impact"),
    ("ix_idea_spread_from", ["spread_from"], "spread_from"),
    ("ix_idea_partner_id", ["partner_id"], "partner_id"),
]


def upgrade() -> None:
    for name, columns, column in PARTIAL:
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name="idea")
        op.create_index(name, "idea", columns, sqlite_where=where, postgresql_where=where)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE idea")


def downgrade() -> None:
    for name, columns, _ in PARTIAL:
        op.drop_index(name, table_name="idea")
        op.create_index(name, "idea", columns)
