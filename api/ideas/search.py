"""Full-text search over ideas' title, problem and proposal: SQLite FTS5 or PostgreSQL tsvector
(both made by migration 0002). Objects the models do not describe are listed here for Alembic."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, func, literal_column, select, text
from sqlmodel import Session

from schemas.ideas import Idea

# Made by migrations, not by the models: Alembic's comparison leaves them alone.
SEARCH_OBJECTS = frozenset(
    {
        "idea_fts",
        "idea_fts_data",
        "idea_fts_idx",
        "idea_fts_content",
        "idea_fts_docsize",
        "idea_fts_config",
        "search",
        "ix_idea_search",
    }
)

_WORD = re.compile(r"\w+", re.UNICODE)


def fts5_query(q: str) -> str | None:
    """Each word as a quoted prefix term, so nothing the user types is FTS5 syntax."""
    words = _WORD.findall(q)[:12]
    return " ".join(f'"{w}"*' for w in words) if words else None


def matching(session: Session, q: str) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return literal_column("idea.search").op("@@")(func.websearch_to_tsquery("english", q))
    query = fts5_query(q)
    if query is None:
        return literal_column("1") == literal_column("0")
    ids = (
        select(literal_column("idea_id"))
        .select_from(text("idea_fts"))
        .where(text("idea_fts MATCH :fts_query").bindparams(fts_query=query))
    )
    return Idea.id.in_(ids)  # type: ignore[attr-defined]
