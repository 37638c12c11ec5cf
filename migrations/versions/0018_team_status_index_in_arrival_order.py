"""The team and status index of `idea` in order of arrival: (team_id, status, received_at, id)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 03:20:00

`ix_idea_team_status` was (team_id, status, id). A fresh idea's team and status are those of the
ideas sent before it, so its entry went to a random place within that range (its id is a random
UUID): a sync batch of 100 ideas dirtied about 100 leaf pages of this one index, each written
whole at the commit (SQLite's WAL, PostgreSQL's WAL after a checkpoint). With `received_at`
before `id`, a batch's entries go together at the end of the range: SQLite's work for a batch of
100 fresh ideas about 1.7 ms less (of 14-16; `python -m bench.idea_insert_work`, docs/performance.md
"Issue 16 after the ninth session"). Every query that read it still can: the counts and the
huddle's columns ask for a team and statuses (a range of the first two columns, as before), and
`id` is still in the index, so a count that adds an aim or a waste still reads no rows; the
huddle's columns, ordered by `received_at`, now read each status in that order.

Additive for the version still running (the same name, the same leading columns, read the same
way); on PostgreSQL the index is rebuilt while the migration holds the table (a second or two at
100,000 ideas, as migrations 0015's and 0017's were).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_idea_team_status"


def upgrade() -> None:
    op.drop_index(NAME, table_name="idea")
    op.create_index(NAME, "idea", ["team_id", "status", "received_at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE idea")


def downgrade() -> None:
    op.drop_index(NAME, table_name="idea")
    op.create_index(NAME, "idea", ["team_id", "status", "id"])
