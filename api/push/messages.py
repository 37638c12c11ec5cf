"""Every notification Frontline sends, worded in one place. Each names what changed and links to
where to read it; none carries a title, narrative, comment or anything else someone typed, because a
notification shows on a lock screen and passes through a third-party push service."""

from __future__ import annotations

import uuid

from schemas.enums import HandoverStatus, Harm, IdeaStatus, label
from schemas.push import PushMessage


def idea_status_changed(idea_id: uuid.UUID, status: IdeaStatus) -> PushMessage:
    return PushMessage(
        title="Update on your idea",
        body=f"Your idea has a new status: {label(status)}",
        url=f"/mine#idea-{idea_id}",
        tag=f"idea-{idea_id}",
    )


def idea_commented(idea_id: uuid.UUID) -> PushMessage:
    return PushMessage(
        title="Feedback on your idea",
        body="A manager has commented on your idea",
        url=f"/mine#idea-{idea_id}",
        tag=f"idea-{idea_id}",
    )


def handover_status_changed(handover_id: uuid.UUID, status: HandoverStatus) -> PushMessage:
    return PushMessage(
        title="Update on your handover note",
        body=f"Your handover note has a new status: {label(status)}",
        url=f"/mine#handover-{handover_id}",
        tag=f"handover-{handover_id}",
    )


_HARM_WORDS = {
    Harm.moderate: "moderate harm",
    Harm.severe: "severe harm",
    Harm.death: "a death",
}


def handover_harm_reported(handover_id: uuid.UUID, harm: Harm) -> PushMessage:
    """For managers, when a note records moderate harm or worse."""
    return PushMessage(
        title="Handover note to review",
        body=f"A new handover note reports {_HARM_WORDS.get(harm, label(harm).lower())}",
        url=f"/handovers/{handover_id}",
        tag=f"handover-{handover_id}",
    )


def handover_commented(handover_id: uuid.UUID) -> PushMessage:
    return PushMessage(
        title="Feedback on your handover note",
        body="A manager has commented on your handover note",
        url=f"/mine#handover-{handover_id}",
        tag=f"handover-{handover_id}",
    )


def handover_reviewed(handover_id: uuid.UUID) -> PushMessage:
    return PushMessage(
        title="Update on your handover note",
        body="Your handover note has a review note or the partner's response",
        url=f"/mine#handover-{handover_id}",
        tag=f"handover-{handover_id}",
    )


#: How a summary counts each kind of notification (keyed by the notification's title): the
#: words for one and for several, and where the summary links to.
_SUMMARY_WORDS: dict[str, tuple[str, str, str]] = {
    "Handover note to review": (
        "new handover note with moderate harm or worse",
        "new handover notes with moderate harm or worse",
        "/handovers",
    ),
    "Update on your idea": ("update on your ideas", "updates on your ideas", "/mine"),
    "Feedback on your idea": ("comment on your ideas", "comments on your ideas", "/mine"),
    "Update on your handover note": (
        "update on your handover notes",
        "updates on your handover notes",
        "/mine",
    ),
    "Feedback on your handover note": (
        "comment on your handover notes",
        "comments on your handover notes",
        "/mine",
    ),
    "The partner has answered": (
        "answer from a partner to your handover notes",
        "answers from partners to your handover notes",
        "/mine",
    ),
    "A partner has answered": (
        "answer from a partner organisation",
        "answers from partner organisations",
        "/handovers",
    ),
}


def summary(counts: dict[str, int]) -> PushMessage:
    """One notification standing for several of the same person's (``counts``: how many of each
    title), such as "3 new handover notes with moderate harm or worse". Counts only: no record."""
    parts: list[str] = []
    urls: set[str] = set()
    for title, n in counts.items():
        one, several, url = _SUMMARY_WORDS.get(
            title, ("new notification", "new notifications", "/")
        )
        parts.append(f"{n} {one if n == 1 else several}")
        urls.add(url)
    total = sum(counts.values())
    title = next(iter(counts)) if len(counts) == 1 else f"{total} updates in Frontline"
    return PushMessage(
        title=title,
        body="; ".join(parts),
        url=urls.pop() if len(urls) == 1 else "/",
        tag="summary",
    )


def handover_partner_acknowledged(handover_id: uuid.UUID) -> PushMessage:
    """For the crew member: the partner organisation has read the note."""
    return PushMessage(
        title="Update on your handover note",
        body="The partner organisation has read your handover note",
        url=f"/mine#handover-{handover_id}",
        tag=f"handover-{handover_id}",
    )


def handover_partner_responded(handover_id: uuid.UUID) -> PushMessage:
    """For the crew member: the partner's answer is under My submissions (not in the message)."""
    return PushMessage(
        title="The partner has answered",
        body="The partner organisation has responded to your handover note",
        url=f"/mine#handover-{handover_id}",
        tag=f"handover-{handover_id}",
    )


def handover_partner_answered_for_managers(handover_id: uuid.UUID) -> PushMessage:
    """For the trust's managers: read the answer on the note's page."""
    return PushMessage(
        title="A partner has answered",
        body="A partner organisation has responded to a handover note",
        url=f"/handovers/{handover_id}",
        tag=f"handover-{handover_id}-partner",
    )
