"""measure_day summary kept by triggers; chart settings and chart events

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-06 04:00:00

The per-day summary is kept by database triggers, in the same transaction as the handover note,
idea or audit event that changes it, on SQLite and PostgreSQL alike: the sync path (Core inserts in
api/sync/ingest.py), single edits, replays and deletes all keep it right without a Python hook.
See docs/decisions/0008-measure-day-summary.md. London days: PostgreSQL converts with its time-zone
database; SQLite applies the UK rule (BST from 01:00 UTC on the last Sunday of March to 01:00 UTC
on the last Sunday of October), which is the law since 1998.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

import schemas.timestamps

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_day(ts: str) -> str:
    """The London date of a stored UTC timestamp text ('YYYY-MM-DD HH:MM:SS.ffffff')."""
    return (
        f"date(substr({ts}, 1, 19), CASE WHEN {ts} >= datetime(substr({ts}, 1, 4) || '-03-25', 'weekday 0', "
        f"'+1 hours') AND {ts} < datetime(substr({ts}, 1, 4) || '-10-25', 'weekday 0', "
        "'+1 hours') THEN '+1 hours' ELSE '+0 hours' END)"
    )


def _pg_day(ts: str) -> str:
    return f"(({ts}) AT TIME ZONE 'Europe/London')::date"


UPSERT = (
    "INSERT INTO measure_day (kind, day, partner_id, team_id, n, total) VALUES ({kind}, {day}, "
    "{partner}, {team}, {n}, {total}) ON CONFLICT (kind, day, partner_id, team_id) DO UPDATE SET "
    "n = measure_day.n + excluded.n, total = measure_day.total + excluded.total"
)


def _handover(row: str, sign: int, day: str) -> str:
    return UPSERT.format(
        kind=f"CASE WHEN {row}.note_type = 'good_practice' THEN 'handover_good_practice' "
        "ELSE 'handover_concern' END",
        day=day,
        partner=f"{row}.partner_id",
        team="0",
        n=str(sign),
        total=f"{sign} * COALESCE({row}.delay_minutes, 0)",
    )


def _idea(row: str, sign: int, day: str) -> str:
    return UPSERT.format(
        kind="'idea_received'", day=day, partner="0", team=f"{row}.team_id", n=str(sign), total="0"
    )


def _responded(row: str, sign: int, day: str) -> str:
    return UPSERT.format(
        kind="'idea_responded'", day=day, partner="0", team=f"{row}.team_id", n=str(sign), total="0"
    )


def _sqlite_responded(row: str, sign: int, day: str) -> str:
    """SQLite triggers have no IF: the row is counted only when it has a first response."""
    return (
        "INSERT INTO measure_day (kind, day, partner_id, team_id, n, total) "
        f"SELECT 'idea_responded', {day}, 0, {row}.team_id, {sign}, 0 "
        f"WHERE {row}.first_response_at IS NOT NULL "
        "ON CONFLICT (kind, day, partner_id, team_id) DO UPDATE SET n = measure_day.n + excluded.n"
    )


def _sqlite_triggers() -> list[str]:
    h_old, h_new = _sqlite_day("OLD.occurred_at"), _sqlite_day("NEW.occurred_at")
    i_old, i_new = _sqlite_day("OLD.received_at"), _sqlite_day("NEW.received_at")
    r_old, r_new = _sqlite_day("OLD.first_response_at"), _sqlite_day("NEW.first_response_at")
    implemented = _sqlite_day("NEW.at")
    return [
        f"CREATE TRIGGER measure_day_handover_insert AFTER INSERT ON handover BEGIN "
        f"{_handover('NEW', 1, h_new)}; END",
        f"CREATE TRIGGER measure_day_handover_delete AFTER DELETE ON handover BEGIN "
        f"{_handover('OLD', -1, h_old)}; END",
        "CREATE TRIGGER measure_day_handover_update AFTER UPDATE OF occurred_at, partner_id, "
        "note_type, delay_minutes ON handover BEGIN "
        f"{_handover('OLD', -1, h_old)}; {_handover('NEW', 1, h_new)}; END",
        f"CREATE TRIGGER measure_day_idea_insert AFTER INSERT ON idea BEGIN "
        f"{_idea('NEW', 1, i_new)}; "
        f"{_sqlite_responded('NEW', 1, r_new)}; END",
        f"CREATE TRIGGER measure_day_idea_delete AFTER DELETE ON idea BEGIN "
        f"{_idea('OLD', -1, i_old)}; "
        f"{_sqlite_responded('OLD', -1, r_old)}; END",
        "CREATE TRIGGER measure_day_idea_update AFTER UPDATE OF received_at, team_id, "
        "first_response_at ON idea BEGIN "
        f"{_idea('OLD', -1, i_old)}; {_idea('NEW', 1, i_new)}; "
        f"{_sqlite_responded('OLD', -1, r_old)}; "
        f"{_sqlite_responded('NEW', 1, r_new)}; END",
        "CREATE TRIGGER measure_day_implemented AFTER INSERT ON audit_event "
        "WHEN NEW.record_kind = 'idea' AND NEW.action = 'transition' "
        "AND NEW.to_status = 'implemented' BEGIN "
        "INSERT INTO measure_day (kind, day, partner_id, team_id, n, total) "
        f"SELECT 'idea_implemented', {implemented}, 0, idea.team_id, 1, 0 FROM idea "
        "WHERE idea.id = NEW.record_id ON CONFLICT (kind, day, partner_id, team_id) DO UPDATE "
        "SET n = measure_day.n + excluded.n; END",
    ]


def _pg_function(name: str, body: str) -> str:
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
        "RETURN NULL; END $$"
    )


def _pg_triggers() -> list[str]:
    h_old, h_new = _pg_day("OLD.occurred_at"), _pg_day("NEW.occurred_at")
    i_old, i_new = _pg_day("OLD.received_at"), _pg_day("NEW.received_at")
    r_old, r_new = _pg_day("OLD.first_response_at"), _pg_day("NEW.first_response_at")
    handover = (
        "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
        f"{_handover('OLD', -1, h_old)}; END IF; "
        "IF TG_OP IN ('UPDATE', 'INSERT') THEN "
        f"{_handover('NEW', 1, h_new)}; END IF;"
    )
    idea = (
        "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
        f"{_idea('OLD', -1, i_old)}; "
        f"IF OLD.first_response_at IS NOT NULL THEN {_responded('OLD', -1, r_old)}; END IF; "
        "END IF; IF TG_OP IN ('UPDATE', 'INSERT') THEN "
        f"{_idea('NEW', 1, i_new)}; "
        f"IF NEW.first_response_at IS NOT NULL THEN {_responded('NEW', 1, r_new)}; END IF; "
        "END IF;"
    )
    implemented = (
        "IF NEW.record_kind = 'idea' AND NEW.action = 'transition' "
        "AND NEW.to_status = 'implemented' THEN "
        "INSERT INTO measure_day (kind, day, partner_id, team_id, n, total) "
        f"SELECT 'idea_implemented', {_pg_day('NEW.at')}, 0, idea.team_id, 1, 0 FROM idea "
        "WHERE idea.id = NEW.record_id ON CONFLICT (kind, day, partner_id, team_id) DO UPDATE "
        "SET n = measure_day.n + excluded.n; END IF;"
    )
    return [
        _pg_function("measure_day_handover", handover),
        _pg_function("measure_day_idea", idea),
        _pg_function("measure_day_implemented", implemented),
        "CREATE TRIGGER measure_day_handover AFTER INSERT OR DELETE OR UPDATE OF occurred_at, "
        "partner_id, note_type, delay_minutes ON handover FOR EACH ROW "
        "EXECUTE FUNCTION measure_day_handover()",
        "CREATE TRIGGER measure_day_idea AFTER INSERT OR DELETE OR UPDATE OF received_at, "
        "team_id, first_response_at ON idea FOR EACH ROW EXECUTE FUNCTION measure_day_idea()",
        "CREATE TRIGGER measure_day_implemented AFTER INSERT ON audit_event FOR EACH ROW "
        "EXECUTE FUNCTION measure_day_implemented()",
    ]


def _backfill(day: Callable[[str], str]) -> list[str]:
    """The summary of the records already there, so an existing trust's charts stay whole."""
    return [
        "INSERT INTO measure_day (kind, day, partner_id, team_id, n, total) "
        "SELECT CASE WHEN note_type = 'good_practice' THEN 'handover_good_practice' "
        f"ELSE 'handover_concern' END AS k, {day('occurred_at')} AS d, partner_id, 0, count(*), "
        "COALESCE(sum(delay_minutes), 0) FROM handover GROUP BY 1, 2, 3",
        "INSERT INTO measure_day (kind, day, partner_id, team_id, n, total) "
        f"SELECT 'idea_received', {day('received_at')} AS d, 0, team_id, count(*), 0 FROM idea "
        "GROUP BY 2, 4",
        "INSERT INTO measure_day (kind, day, partner_id, team_id, n, total) "
        f"SELECT 'idea_responded', {day('first_response_at')} AS d, 0, team_id, count(*), 0 "
        "FROM idea WHERE first_response_at IS NOT NULL GROUP BY 2, 4",
        "INSERT INTO measure_day (kind, day, partner_id, team_id, n, total) "
        f"SELECT 'idea_implemented', {day('audit_event.at')} AS d, 0, idea.team_id, count(*), 0 "
        "FROM audit_event JOIN idea ON idea.id = audit_event.record_id "
        "WHERE audit_event.record_kind = 'idea' AND audit_event.action = 'transition' "
        "AND audit_event.to_status = 'implemented' GROUP BY 2, 4",
    ]


def upgrade() -> None:
    op.create_table(
        "measure_day",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "day", "partner_id", "team_id"),
    )
    op.create_table(
        "chart_setting",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("measure", sa.String(length=60), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("baseline_to", sa.Date(), nullable=True),
        sa.Column("target", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=False),
        sa.Column("updated_at", schemas.timestamps.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("measure", "partner_id", name="uq_chart_setting_scope"),
    )
    op.create_table(
        "chart_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("measure", sa.String(length=60), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("pdsa_cycle_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", schemas.timestamps.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["pdsa_cycle_id"], ["pdsa_cycle.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chart_event_measure_day", "chart_event", ["measure", "partner_id", "day"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _backfill(_pg_day if postgres else _sqlite_day):
        op.execute(statement)
    for statement in _pg_triggers() if postgres else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, trigger in (
            ("handover", "measure_day_handover"),
            ("idea", "measure_day_idea"),
            ("audit_event", "measure_day_implemented"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {trigger}()")
    else:
        for trigger in (
            "handover_insert",
            "handover_delete",
            "handover_update",
            "idea_insert",
            "idea_delete",
            "idea_update",
            "implemented",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS measure_day_{trigger}")
    op.drop_index("ix_chart_event_measure_day", table_name="chart_event")
    op.drop_table("chart_event")
    op.drop_table("chart_setting")
    op.drop_table("measure_day")
