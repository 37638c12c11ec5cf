"""The one transition table for ideas (SPEC §4). Anything not listed is refused with the allowed moves."""

from __future__ import annotations

from schemas.enums import IdeaStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.submitted: frozenset({S.under_review, S.declined, S.duplicate}),
    S.under_review: frozenset({S.accepted, S.declined, S.duplicate}),
    S.accepted: frozenset({S.testing, S.implemented, S.declined}),
    S.testing: frozenset({S.implemented, S.accepted, S.declined}),
    S.implemented: frozenset({S.shared}),
    S.shared: frozenset(),
    S.declined: frozenset({S.under_review}),
    S.duplicate: frozenset(),
}

# Moves that need words: a reason the submitter reads, or the idea it duplicates.
NEEDS_REASON = frozenset({S.declined})
NEEDS_TARGET = frozenset({S.duplicate})
# Before these, the manager answers the Equity Pause ("Does everyone benefit equally?").
NEEDS_EQUITY_PAUSE = frozenset({S.accepted, S.declined})


def allowed_moves(status: S) -> list[S]:
    """In the order of the lifecycle, as the page lists them."""
    return [s for s in S if s in TRANSITIONS[status]]
