"""The one transition table for handover notes (SPEC §4): forward one step, or resolved from anywhere."""

from __future__ import annotations

from schemas.enums import HandoverStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.new: frozenset({S.reviewed, S.resolved}),
    S.reviewed: frozenset({S.raised_with_partner, S.resolved}),
    S.raised_with_partner: frozenset({S.resolved}),
    S.resolved: frozenset(),
}


def allowed_moves(status: S) -> list[S]:
    return [s for s in S if s in TRANSITIONS[status]]
