"""Where the measures read their per-day counts from, and the PostgreSQL fold that keeps that read
small (migration 0016; docs/decisions/0012-summary-deltas.md).

On PostgreSQL the summary triggers append delta rows (`measure_delta`, `pack_delta`) instead of
updating the summary rows (`measure_day`, `pack_day`), so writers never queue on a hot summary row.
A reader counts the summary rows and the deltas together in one statement: one snapshot, so it
sees every committed record exactly once whether or not its deltas are folded yet. `fold` moves
committed deltas into the summary rows in one transaction (DELETE … RETURNING into an upsert): a
concurrent reader sees them either as deltas or in the summary, never both, never neither.

SQLite's triggers still write the summary rows directly (its writers are one at a time anyway):
there the readers read `measure_day` / `pack_day` as before and there is nothing to fold.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Connection, FromClause, Table, select, text, union_all
from sqlmodel import Session

from schemas.measures import MEASURE_DELTA, PACK_DELTA, MeasureDay, PackDay

MEASURE_DAY: Table = MeasureDay.__table__  # type: ignore[attr-defined]
PACK_DAY: Table = PackDay.__table__  # type: ignore[attr-defined]

# One folder at a time (a session-independent key of its own: writers never take it). A reader
# that finds another folding reads summary and deltas together and is exact all the same.
FOLD_LOCK = 0x464F4C44  # "FOLD"

_FOLDED = "frontline_summaries_folded"

_ANYTHING_TO_FOLD = text(
    "SELECT pg_try_advisory_xact_lock(:key) WHERE EXISTS (SELECT FROM measure_delta) "
    "OR EXISTS (SELECT FROM pack_delta)"
)
# Keys in a fixed order, so two folds could never take summary rows in crossing orders (the lock
# above already keeps them apart; no writer locks a summary row on PostgreSQL).
_FOLD_MEASURES = text(
    "WITH moved AS (DELETE FROM measure_delta RETURNING kind, day, partner_id, team_id, n, total) "
    "INSERT INTO measure_day AS s (kind, day, partner_id, team_id, n, total) "
    "SELECT kind, day, partner_id, team_id, sum(n), sum(total) FROM moved "
    "GROUP BY kind, day, partner_id, team_id ORDER BY kind, day, partner_id, team_id "
    "ON CONFLICT (kind, day, partner_id, team_id) DO UPDATE "
    "SET n = s.n + excluded.n, total = s.total + excluded.total"
)
_FOLD_PACK = text(
    "WITH moved AS (DELETE FROM pack_delta RETURNING partner_id, day, kind, item, n) "
    "INSERT INTO pack_day AS s (partner_id, day, kind, item, n) "
    "SELECT partner_id, day, kind, item, sum(n) FROM moved "
    "GROUP BY partner_id, day, kind, item ORDER BY partner_id, day, kind, item "
    "ON CONFLICT (partner_id, day, kind, item) DO UPDATE SET n = s.n + excluded.n"
)


def fold(connection: Connection) -> bool:
    """Move every committed delta into its summary row, in the caller's transaction (its commit
    makes the move; a rollback undoes all of it). False when there was nothing to fold or another
    transaction is folding. Only rows committed before each statement are moved: a delta still
    being written is left for the next fold, and counted by readers meanwhile."""
    if connection.dialect.name != "postgresql":
        return False
    if not connection.execute(_ANYTHING_TO_FOLD, {"key": FOLD_LOCK}).scalar():
        return False
    connection.execute(_FOLD_MEASURES)
    connection.execute(_FOLD_PACK)
    return True


def fold_before_reading(session: Session) -> None:
    """At most once a session (a request: a page draws several charts), in its transaction: the
    chart and pack readers call it first, so the deltas they read are only those written since
    the last read. Its locks (the fold's own key, the summary rows it moved into) are held to the
    request's end; no writer takes either, and another reader meanwhile skips the fold."""
    if session.get_bind().dialect.name != "postgresql" or session.info.get(_FOLDED):
        return
    session.info[_FOLDED] = True
    fold(session.connection())


@cache
def _rows(summary: Table, delta: Table, dialect: str) -> FromClause:
    """Built once (its statements' cache keys are then cheap to make; a page reads it 14 times)."""
    if dialect != "postgresql":
        return summary
    columns = [c.name for c in delta.columns]
    return union_all(
        select(*(summary.c[c] for c in columns)), select(*(delta.c[c] for c in columns))
    ).subquery(summary.name)


def measure_rows(session: Session) -> FromClause:
    """`measure_day`'s columns: on PostgreSQL its rows and the deltas not yet folded, to be summed."""
    return _rows(MEASURE_DAY, MEASURE_DELTA, session.get_bind().dialect.name)


def pack_rows(session: Session) -> FromClause:
    """`pack_day`'s columns: on PostgreSQL its rows and the deltas not yet folded, to be summed."""
    return _rows(PACK_DAY, PACK_DELTA, session.get_bind().dialect.name)
