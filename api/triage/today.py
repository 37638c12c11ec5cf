"""The manager's home: what needs them today, as counts that link to the filtered lists. Each
count uses the same filter as the list it links to, so the number and the list always agree."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from api.handovers.service import Attention, HandoverFilters, count_handovers
from api.ideas.service import Flag, IdeaFilters, count_ideas
from schemas.enums import HandoverStatus


@dataclass(frozen=True)
class Waiting:
    key: str
    count: int
    text: str  # what the count is of, after the number
    href: str
    urgent: bool = False


def todays_desk(session: Session) -> list[Waiting]:
    def ideas(flag: Flag) -> int:
        return count_ideas(session, IdeaFilters(flag=flag))

    def notes(**kwargs: object) -> int:
        return count_handovers(session, HandoverFilters(**kwargs))  # type: ignore[arg-type]

    return [
        Waiting(
            "first_response",
            ideas(Flag.needs_first_response),
            "ideas waiting a week or more for a first response",
            "/triage?flag=needs_first_response",
            urgent=True,
        ),
        Waiting(
            "stalled",
            ideas(Flag.stalled),
            "open ideas stalled (no update for 30 days)",
            "/triage?flag=stalled",
        ),
        Waiting(
            "new_notes",
            notes(status=HandoverStatus.new.value),
            "new handover notes to review",
            "/handovers?status=new",
        ),
        Waiting(
            "harm_unreviewed",
            notes(attention=Attention.harm_unreviewed),
            "notes with moderate harm or worse not yet reviewed",
            "/handovers?attention=harm_unreviewed",
            urgent=True,
        ),
        Waiting(
            "no_lfpse",
            notes(attention=Attention.no_lfpse),
            "notes with moderate harm or worse without an LFPSE reference",
            "/handovers?attention=no_lfpse",
            urgent=True,
        ),
        Waiting(
            "awaiting_response",
            notes(attention=Attention.awaiting_response),
            "notes raised with a partner, waiting for their answer",
            "/handovers?attention=awaiting_response",
        ),
        Waiting(
            "overdue",
            notes(attention=Attention.overdue),
            "of them past the 10 working days for an answer",
            "/handovers?attention=overdue",
            urgent=True,
        ),
    ]
