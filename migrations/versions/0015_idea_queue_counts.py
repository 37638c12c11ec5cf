"""The managers' queue at 100,000 ideas: counts from indexes, never from the rows

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:40:00

`/triage` says how many ideas match its filters; with open ideas by default, counting by strategic
aim or waste meant one look-up in `idea` per link row (1.4 million SQLite VM steps and ~360 ms on
PostgreSQL at 100,000 ideas) and the flags read every row. Each count now reads one index range:

- `idea_aim.status` and `idea_waste.status` copy their idea's status, kept by database triggers in
  the same transaction on SQLite and PostgreSQL (a link gets its idea's status when inserted; a move
  of the idea moves its links), so "open ideas serving aim 2" is a range of
  `(aim_id, status)`; these replace the single-column `aim_id` and `waste` indexes.
- `(team_id, status)` and `(team_id, received_at, id)` (a team's page in order) replace
  `team_id`; `(owner_id, status)` is new (owner had no index);
  `(status, updated_at)` counts stalled ideas; `(status, received_at, first_response_at)` replaces
  `(status, received_at)` so "needs a first response" is counted from the index alone. These end
  with `id`, so a count that adds an aim or a waste (a link looked up by idea id) reads no rows.

Additive for the version still running: two columns with a server default, indexes and triggers;
the dropped indexes are superseded by the ones that start with the same column.
"""

# ruff: noqa: S608 (statements built from this file's constant table names, no input)
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINKS = ("idea_aim", "idea_waste")

# (name, table, columns) made by this revision; (name, table, columns) it replaces.
NEW_INDEXES = [
    ("ix_idea_aim_aim_status", "idea_aim", ["aim_id", "status"]),
    ("ix_idea_waste_waste_status", "idea_waste", ["waste", "status"]),
    ("ix_idea_team_status", "idea", ["team_id", "status", "id"]),
    ("ix_idea_team_received", "idea", ["team_id", "received_at", "id"]),
    ("ix_idea_owner_status", "idea", ["owner_id", "status", "id"]),
    ("ix_idea_status_updated", "idea", ["status", "updated_at", "id"]),
    (
        "ix_idea_status_received_response",
        "idea",
        ["status", "received_at", "first_response_at", "id"],
    ),
]
OLD_INDEXES = [
    ("ix_idea_aim_aim_id", "idea_aim", ["aim_id"]),
    ("ix_idea_waste_waste", "idea_waste", ["waste"]),
    ("ix_idea_team_id", "idea", ["team_id"]),
    ("ix_idea_status_received", "idea", ["status", "received_at"]),
]


def _sqlite_triggers() -> list[str]:
    statements = []
    for link in LINKS:
        statements.append(
            f"CREATE TRIGGER {link}_status_insert AFTER INSERT ON {link} "
            f"WHEN NEW.status IS NOT (SELECT status FROM idea WHERE id = NEW.idea_id) BEGIN "
            f"UPDATE {link} SET status = (SELECT status FROM idea WHERE id = NEW.idea_id) "
            f"WHERE rowid = NEW.rowid; END"
        )
    statements.append(
        "CREATE TRIGGER idea_links_status AFTER UPDATE OF status ON idea "
        "WHEN NEW.status IS NOT OLD.status BEGIN "
        + " ".join(
            f"UPDATE {link} SET status = NEW.status WHERE idea_id = NEW.id;" for link in LINKS
        )
        + " END"
    )
    return statements


def _pg_triggers() -> list[str]:
    return [
        "CREATE FUNCTION idea_link_status() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "SELECT status INTO NEW.status FROM idea WHERE id = NEW.idea_id; RETURN NEW; END $$",
        *(
            f"CREATE TRIGGER {link}_status BEFORE INSERT ON {link} FOR EACH ROW "
            "EXECUTE FUNCTION idea_link_status()"
            for link in LINKS
        ),
        "CREATE FUNCTION idea_links_status() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + " ".join(
            f"UPDATE {link} SET status = NEW.status WHERE idea_id = NEW.id;" for link in LINKS
        )
        + " RETURN NULL; END $$",
        "CREATE TRIGGER idea_links_status AFTER UPDATE OF status ON idea FOR EACH ROW "
        "WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION idea_links_status()",
    ]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for link in LINKS:
        op.add_column(
            link,
            sa.Column("status", sa.String(length=20), nullable=False, server_default="submitted"),
        )
        op.execute(
            f"UPDATE {link} SET status = (SELECT idea.status FROM idea WHERE idea.id = {link}.idea_id)"
        )
    for name, table, columns in NEW_INDEXES:
        op.create_index(name, table, columns)
    for name, table, _ in OLD_INDEXES:
        op.drop_index(name, table_name=table)
    for statement in _pg_triggers() if postgres else _sqlite_triggers():
        op.execute(statement)
    # Planner statistics for PostgreSQL's choices on the new indexes straight away (autovacuum
    # would take them later); SQLite's plans here do not depend on statistics.
    if postgres:
        op.execute("ANALYZE idea")
        for link in LINKS:
            op.execute(f"ANALYZE {link}")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS idea_links_status ON idea")
        for link in LINKS:
            op.execute(f"DROP TRIGGER IF EXISTS {link}_status ON {link}")
        op.execute("DROP FUNCTION IF EXISTS idea_links_status()")
        op.execute("DROP FUNCTION IF EXISTS idea_link_status()")
    else:
        op.execute("DROP TRIGGER IF EXISTS idea_links_status")
        for link in LINKS:
            op.execute(f"DROP TRIGGER IF EXISTS {link}_status_insert")
    for name, table, columns in OLD_INDEXES:
        op.create_index(name, table, columns)
    for name, table, _ in NEW_INDEXES:
        op.drop_index(name, table_name=table)
    for link in LINKS:
        with op.batch_alter_table(link) as batch:
            batch.drop_column("status")
