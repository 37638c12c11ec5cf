"""PostgreSQL: the per-day summaries take append-only deltas, folded later (no hot row locked)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 15:00:00

On PostgreSQL the triggers of migrations 0008 and 0014 upserted `measure_day` and `pack_day` rows
for every note and idea written: every storing batch of a team and day locked the same
`measure_day` row until its commit, and two batches taking summary rows in crossing orders
deadlocked, so storing batches took one advisory lock and ran one after another (issue 16).

Now each trigger only INSERTs delta rows into `measure_delta` / `pack_delta` (no key, no index,
no conflict: no row lock any other transaction can wait on). Readers add the deltas to the summary
rows in the same statement (api/measures/summary.py), so a chart counts every committed record as
before, and `fold` moves committed deltas into the summary rows in one transaction (DELETE …
RETURNING into an upsert; one folder at a time by a try-lock, so writers never wait on it).
The triggers are per row, as before: the sync path sends its rows as pipelined single-row
statements, so statement-level triggers would fire once a row there anyway.

SQLite is unchanged: its writers are one at a time anyway, its triggers keep upserting the summary
rows, and its delta tables stay empty (they exist so both databases have one schema).
Additive: two new tables, and the PostgreSQL trigger functions replaced (the version still running
during a roll-out reads the summary rows alone: its charts lag by what is not yet folded until a
new version's read folds it). See docs/decisions/0012-summary-deltas.md.
"""

# ruff: noqa: S608 (statements built from this file's constants, no input)
from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _day(ts: str) -> str:
    return f"(({ts}) AT TIME ZONE 'Europe/London')::date"


# --- measure_day's facts of one row (kind, day, partner_id, team_id, n, total), as in 0008 ------


def _handover_measure(row: str, sign: int) -> str:
    return (
        f"SELECT CASE WHEN {row}.note_type = 'good_practice' THEN 'handover_good_practice' "
        f"ELSE 'handover_concern' END, {_day(f'{row}.occurred_at')}, {row}.partner_id, 0, "
        f"{sign}, {sign} * COALESCE({row}.delay_minutes, 0)"
    )


def _idea_measure(row: str, sign: int) -> str:
    return (
        f"SELECT 'idea_received', {_day(f'{row}.received_at')}, 0, {row}.team_id, {sign}, 0 "
        f"UNION ALL SELECT 'idea_responded', {_day(f'{row}.first_response_at')}, 0, "
        f"{row}.team_id, {sign}, 0 WHERE {row}.first_response_at IS NOT NULL"
    )


# --- pack_day's facts of one note (partner_id, day, kind, item, n), as in 0014 --------------------


def _pack(row: str, sign: int) -> str:
    concern = f"{row}.note_type = 'concern'"
    head = f"SELECT {row}.partner_id, {_day(f'{row}.occurred_at')}"

    def items(column: str) -> str:
        return f"json_array_elements_text(({row}.{column})::json) AS j(value)"

    return " UNION ALL ".join(
        [
            f"{head}, 'note', {row}.note_type::text, {sign}",
            f"{head}, 'category', j.value, {sign} FROM {items('categories')} WHERE {concern}",
            f"{head}, 'good_practice', j.value, {sign} FROM {items('good_practice')} "
            f"WHERE {row}.note_type = 'good_practice'",
            f"{head}, 'journey', COALESCE({row}.journey_type::text, 'not_recorded'), {sign} "
            f"WHERE {concern}",
            f"{head}, 'harm', {row}.harm::text, {sign} WHERE {concern} AND {row}.harm IS NOT NULL",
            f"{head}, 'delay', CAST({row}.delay_minutes AS TEXT), {sign} "
            f"WHERE {concern} AND {row}.delay_minutes IS NOT NULL",
        ]
    )


# (table, its columns, how many of them are the key) of each delta table.
MEASURE_DELTA = ("measure_delta", ("kind", "day", "partner_id", "team_id", "n", "total"), 4)
PACK_DELTA = ("pack_delta", ("partner_id", "day", "kind", "item", "n"), 4)

Facts = Callable[[str, int], str]


def _body(target: tuple[str, tuple[str, ...], int], facts: Facts) -> str:
    """A row trigger's body: add the new row's facts, take away the old row's. An update adds
    both in one statement, grouped by key so that the facts it did not change cancel out."""
    table, columns, width = target
    into = f"INSERT INTO {table} ({', '.join(columns)}) "
    names = [f"c{i}" for i in range(len(columns))]
    keys, amounts = ", ".join(names[:width]), names[width:]
    changed = " OR ".join(f"sum({a}) <> 0" for a in amounts)
    update = (
        f"SELECT {keys}, {', '.join(f'sum({a})' for a in amounts)} "
        f"FROM ({facts('OLD', -1)} UNION ALL {facts('NEW', 1)}) AS f({', '.join(names)}) "
        f"GROUP BY {keys} HAVING {changed}"
    )
    return (
        f"IF TG_OP = 'INSERT' THEN {into}{facts('NEW', 1)}; "
        f"ELSIF TG_OP = 'DELETE' THEN {into}{facts('OLD', -1)}; "
        f"ELSE {into}{update}; END IF; RETURN NULL;"
    )


def _function(name: str, body: str) -> str:
    return f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$"


# The functions of 0008 and 0014 keep their names (their triggers, and the columns those fire
# on, are unchanged): only what they write changes.
def _pg_delta_functions() -> list[str]:
    implemented = (
        f"INSERT INTO measure_delta ({', '.join(MEASURE_DELTA[1])}) "
        f"SELECT 'idea_implemented', {_day('NEW.at')}, 0, idea.team_id, 1, 0 FROM idea "
        "WHERE idea.id = NEW.record_id; RETURN NULL;"
    )
    return [
        _function("measure_day_handover", _body(MEASURE_DELTA, _handover_measure)),
        _function("measure_day_idea", _body(MEASURE_DELTA, _idea_measure)),
        _function("pack_day_handover", _body(PACK_DELTA, _pack)),
        _function("measure_day_implemented", implemented),
        # The implemented count's trigger fired for every audit event and tested the event in
        # PL/pgSQL; the test is now the trigger's WHEN, so other events call nothing.
        "DROP TRIGGER measure_day_implemented ON audit_event",
        "CREATE TRIGGER measure_day_implemented AFTER INSERT ON audit_event FOR EACH ROW "
        "WHEN (NEW.record_kind = 'idea' AND NEW.action = 'transition' "
        "AND NEW.to_status = 'implemented') EXECUTE FUNCTION measure_day_implemented()",
    ]


# Moving the deltas into the summary rows: the same statements as api/measures/summary.py's fold
# (which runs them at read time); here once, on downgrade, so nothing counted is left behind.
FOLD = [
    "WITH moved AS (DELETE FROM measure_delta RETURNING kind, day, partner_id, team_id, n, total) "
    "INSERT INTO measure_day AS s (kind, day, partner_id, team_id, n, total) "
    "SELECT kind, day, partner_id, team_id, sum(n), sum(total) FROM moved "
    "GROUP BY kind, day, partner_id, team_id ORDER BY kind, day, partner_id, team_id "
    "ON CONFLICT (kind, day, partner_id, team_id) DO UPDATE "
    "SET n = s.n + excluded.n, total = s.total + excluded.total",
    "WITH moved AS (DELETE FROM pack_delta RETURNING partner_id, day, kind, item, n) "
    "INSERT INTO pack_day AS s (partner_id, day, kind, item, n) "
    "SELECT partner_id, day, kind, item, sum(n) FROM moved "
    "GROUP BY partner_id, day, kind, item ORDER BY partner_id, day, kind, item "
    "ON CONFLICT (partner_id, day, kind, item) DO UPDATE SET n = s.n + excluded.n",
]


def upgrade() -> None:
    # No key and no index: a delta is only ever appended, read with its summary's rows, and
    # deleted by the fold; nothing can conflict on it or wait for it.
    op.create_table(
        "measure_delta",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "pack_delta",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in _pg_delta_functions():
            op.execute(statement)
        # A fold deletes every delta, and readers scan what is left of them (dead rows too) until
        # a vacuum, which then also gives the emptied pages back: vacuum these two after a
        # thousand dead rows, not after a fifth of a table that is empty most of the time.
        for table in ("measure_delta", "pack_delta"):
            op.execute(
                f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0, "
                "autovacuum_vacuum_threshold = 1000)"
            )


def downgrade() -> None:
    """For a roll-back to a version before this one (its readers do not add the deltas): with
    that version serving, the deltas are folded and 0008's and 0014's upserting triggers are back
    in one transaction. The delta tables are locked first, so a delta being written meanwhile is
    either committed before the fold (and folded) or its writer fails and is retried by the phone
    against the upserting triggers (nothing stored twice: its transaction stored nothing)."""
    if op.get_bind().dialect.name == "postgresql":
        import importlib

        op.execute("LOCK TABLE measure_delta, pack_delta IN ACCESS EXCLUSIVE MODE")
        for statement in FOLD:
            op.execute(statement)
        m0008 = importlib.import_module(
            "migrations.versions.0008_measure_summary_and_chart_settings"
        )
        m0014 = importlib.import_module("migrations.versions.0014_pack_day_summary")
        op.execute("DROP TRIGGER measure_day_implemented ON audit_event")
        for statement in (*m0008._pg_triggers(), *m0014._pg_triggers()):
            if statement.startswith("CREATE FUNCTION"):
                op.execute(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
            elif "measure_day_implemented" in statement and statement.startswith("CREATE TRIGGER"):
                op.execute(statement)
    op.drop_table("pack_delta")
    op.drop_table("measure_delta")
