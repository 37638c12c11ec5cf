"""pack_day: the partner review pack's per-day counts, kept by triggers like measure_day

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 05:00:00

The partner pack (api/measures/partner_pack.py) used to read every note of its period for its
figures. `pack_day (partner_id, day, kind, item, n)` holds, per partner and London day, how many
notes of each type (`note`), concerns per category (`category`), per journey (`journey`,
`not_recorded` for none), per harm (`harm`), good-practice items (`good_practice`) and concerns per
delay minute (`delay`: the minute as text; 0–1440, so the histogram gives the exact median and 90th
percentile). Database triggers keep it in the same transaction as the note, on SQLite and
PostgreSQL, as for measure_day (migration 0008, docs/decisions/0008-measure-day-summary.md);
the migration backfills it from the notes already there. Additive: a new table and triggers only
(no batch mode: on SQLite that would rebuild handover and drop its triggers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns whose change moves a note's counts (an update of any other column leaves them).
COUNTED = (
    "occurred_at, partner_id, note_type, categories, good_practice, journey_type, harm, "
    "delay_minutes"
)


def _sqlite_day(ts: str) -> str:
    """The London date of a stored UTC timestamp text: the UK rule, as in migration 0008."""
    return (
        f"date(substr({ts}, 1, 19), CASE WHEN {ts} >= datetime(substr({ts}, 1, 4) || '-03-25', 'weekday 0', "
        f"'+1 hours') AND {ts} < datetime(substr({ts}, 1, 4) || '-10-25', 'weekday 0', "
        "'+1 hours') THEN '+1 hours' ELSE '+0 hours' END)"
    )


def _pg_day(ts: str) -> str:
    return f"(({ts}) AT TIME ZONE 'Europe/London')::date"


def _sqlite_items(column: str) -> str:
    return f"json_each({column}) AS j"


def _pg_items(column: str) -> str:
    return f"json_array_elements_text(({column})::json) AS j(value)"


def _facts(row: str) -> list[tuple[str, str, str, str]]:
    """(kind, item, FROM source or '', condition) of each count a note adds to."""
    concern = f"{row}.note_type = 'concern'"
    return [
        ("'note'", f"{row}.note_type", "", "1 = 1"),
        ("'category'", "j.value", "categories", concern),
        ("'good_practice'", "j.value", "good_practice", f"{row}.note_type = 'good_practice'"),
        ("'journey'", f"COALESCE({row}.journey_type, 'not_recorded')", "", concern),
        ("'harm'", f"{row}.harm", "", f"{concern} AND {row}.harm IS NOT NULL"),
        (
            "'delay'",
            f"CAST({row}.delay_minutes AS TEXT)",
            "",
            f"{concern} AND {row}.delay_minutes IS NOT NULL",
        ),
    ]


def _upserts(
    row: str, sign: int, day: Callable[[str], str], items: Callable[[str], str]
) -> list[str]:
    """Add (sign 1) or take away (sign -1) one note's counts. Every statement is an INSERT …
    SELECT … WHERE: the WHERE both chooses the counts that apply and, on SQLite, settles the parse
    of the upsert clause after a SELECT."""
    out = []
    for kind, item, source, condition in _facts(row):
        source_sql = f" FROM {items(f'{row}.{source}')}" if source else ""
        out.append(
            "INSERT INTO pack_day (partner_id, day, kind, item, n) "
            f"SELECT {row}.partner_id, {day(f'{row}.occurred_at')}, {kind}, {item}, {sign}"
            f"{source_sql} WHERE {condition} "
            "ON CONFLICT (partner_id, day, kind, item) DO UPDATE SET n = pack_day.n + excluded.n"
        )
    return out


def _sqlite_triggers() -> list[str]:
    def body(*parts: list[str]) -> str:
        return " ".join(f"{s};" for part in parts for s in part)

    old = _upserts("OLD", -1, _sqlite_day, _sqlite_items)
    new = _upserts("NEW", 1, _sqlite_day, _sqlite_items)
    return [
        f"CREATE TRIGGER pack_day_handover_insert AFTER INSERT ON handover BEGIN {body(new)} END",
        f"CREATE TRIGGER pack_day_handover_delete AFTER DELETE ON handover BEGIN {body(old)} END",
        f"CREATE TRIGGER pack_day_handover_update AFTER UPDATE OF {COUNTED} ON handover "
        f"BEGIN {body(old, new)} END",
    ]


def _pg_triggers() -> list[str]:
    old = " ".join(f"{s};" for s in _upserts("OLD", -1, _pg_day, _pg_items))
    new = " ".join(f"{s};" for s in _upserts("NEW", 1, _pg_day, _pg_items))
    return [
        "CREATE FUNCTION pack_day_handover() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {old} END IF; "
        f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {new} END IF; RETURN NULL; END $$",
        f"CREATE TRIGGER pack_day_handover AFTER INSERT OR DELETE OR UPDATE OF {COUNTED} "
        "ON handover FOR EACH ROW EXECUTE FUNCTION pack_day_handover()",
    ]


def _backfill(day: Callable[[str], str], items: Callable[[str], str]) -> list[str]:
    """The counts of the notes already there, so an existing trust's packs stay whole."""
    out = []
    for kind, item, source, condition in _facts("handover"):
        source_sql = f", {items(f'handover.{source}')}" if source else ""
        # Built from the constants above only, no input.
        out.append(
            "INSERT INTO pack_day (partner_id, day, kind, item, n) "  # noqa: S608
            f"SELECT handover.partner_id, {day('handover.occurred_at')}, {kind}, {item}, count(*) "
            f"FROM handover{source_sql} WHERE {condition} GROUP BY 1, 2, 3, 4"
        )
    return out


def upgrade() -> None:
    op.create_table(
        "pack_day",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "day", "kind", "item"),
        # SQLite: the rows stored in key order, so a partner's period is one contiguous read.
        sqlite_with_rowid=False,
    )
    # The pack's newest notes raised with the partner: a walk of this partial index stops at its
    # limit however few of a partner's notes were raised (schemas.handovers.RAISED_WITH_PARTNER_SQL).
    raised = "(status IN ('raised_with_partner', 'resolved') OR partner_response <> '')"
    op.create_index(
        "ix_handover_partner_raised",
        "handover",
        ["partner_id", "occurred_at"],
        sqlite_where=sa.text(raised),
        postgresql_where=sa.text(raised),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in (
        _backfill(_pg_day, _pg_items) if postgres else _backfill(_sqlite_day, _sqlite_items)
    ):
        op.execute(statement)
    for statement in _pg_triggers() if postgres else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS pack_day_handover ON handover")
        op.execute("DROP FUNCTION IF EXISTS pack_day_handover()")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS pack_day_handover_{trigger}")
    op.drop_index("ix_handover_partner_raised", table_name="handover")
    op.drop_table("pack_day")
