"""/mine that scales (issue #11, SPEC §4): both kinds newest first, pages and filters that work
without JavaScript, every update naming its record, the submitter's own record in full with its
history, and a reply to a reviewer's comment that notifies the owner or the managers."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from api.db import open_session
from schemas.audit import AuditEvent, Notification
from tests.records import handover_data, idea_data, new_id


def send(client: Any, kind: str, **change: Any) -> str:
    record_id = new_id()
    if kind == "idea":
        change.pop("narrative", None)
    data = idea_data(**change) if kind == "idea" else handover_data(**change)
    answer = client.post(f"/api/v1/{kind}s", json={"id": record_id, **data})
    assert answer.status_code == 201, answer.text
    return record_id


def listed_ids(html: str) -> list[str]:
    return re.findall(r'id="(?:idea|handover)-([0-9a-f-]{36})"', html)


def test_both_kinds_newest_first_in_pages_of_twenty_without_javascript(crew: Any) -> None:
    sent = [send(crew, "handover" if n % 3 else "idea", narrative=f"Note {n}") for n in range(25)]
    first = crew.get("/mine")
    assert first.status_code == 200
    assert listed_ids(first.text) == sent[::-1][:20]
    assert 'href="/mine?page=2"' in first.text and "Older" in first.text
    second = crew.get("/mine?page=2")
    assert listed_ids(second.text) == sent[::-1][20:]
    assert 'href="/mine?page=1"' in second.text and "Older" not in second.text
    # Each names its record: a link to it and its reference.
    assert f'href="/mine/ideas/{sent[-1]}"' in first.text  # the 25th (n = 24) is an idea
    assert f'href="/mine/handovers/{sent[-2]}"' in first.text
    assert sent[-1][:8].upper() in first.text


def test_records_sent_together_are_listed_as_they_were_made_the_latest_first(crew: Any) -> None:
    """One sync batch (notes logged with no signal, sent when it came back) shares one arrival
    time: the list goes by when each was made, whatever their random ids say."""
    made = datetime.now(UTC) - timedelta(minutes=30)
    ids = sorted(new_id() for _ in range(4))  # made in id order: an order by id would reverse them
    items = [
        {
            "kind": "handover",
            "id": record_id,
            "data": handover_data(created_at=(made + timedelta(minutes=n)).isoformat()),
        }
        for n, record_id in enumerate(ids)
    ]
    answer = crew.post("/api/v1/sync", json={"items": items})
    assert answer.status_code == 200, answer.text
    assert [r["outcome"] for r in answer.json()["results"]] == ["created"] * 4
    assert listed_ids(crew.get("/mine").text) == ids[::-1]
    in_the_api = crew.get("/api/v1/me/submissions").json()["handovers"]
    assert [n["id"] for n in in_the_api] == ids[::-1]


def test_filter_by_kind_and_status_keeps_the_filter_across_pages(crew: Any, manager: Any) -> None:
    ideas = [send(crew, "idea") for _ in range(2)]
    notes = [send(crew, "handover") for _ in range(2)]
    moved = manager.post(
        f"/api/v1/handovers/{notes[0]}/transitions", json={"to": "reviewed", "note": ""}
    )
    assert moved.status_code == 200, moved.text
    assert set(listed_ids(crew.get("/mine?kind=idea").text)) == set(ideas)
    assert set(listed_ids(crew.get("/mine?kind=handover").text)) == set(notes)
    assert listed_ids(crew.get("/mine?kind=handover&status=reviewed").text) == [notes[0]]
    assert listed_ids(crew.get("/mine?kind=idea&status=reviewed").text) == []
    assert "Nothing matches these choices" in crew.get("/mine?kind=idea&status=reviewed").text


def test_unknown_filters_are_named_not_guessed(crew: Any) -> None:
    send(crew, "idea")
    page = crew.get("/mine?kind=secret&status=nope&page=-1")
    assert page.status_code == 422
    for message in (
        "Choose ideas, handover notes or all",
        "Choose a status from the list",
        "Page must be a whole number from 1",
    ):
        assert message in page.text
    assert 'class="nhsuk-error-summary' in page.text


def test_the_submitter_reads_their_own_record_in_full_and_no_one_else_can(
    crew: Any, staff: Any, manager: Any
) -> None:
    note = send(crew, "handover", narrative="The discharge letter was missing at Ward 7.")
    idea = send(crew, "idea")
    page = crew.get(f"/mine/handovers/{note}")
    assert page.status_code == 200
    assert "The discharge letter was missing at Ward 7." in page.text
    assert note[:8].upper() in page.text
    own_idea = crew.get(f"/mine/ideas/{idea}")
    assert own_idea.status_code == 200
    # Every answer the submitter gave, the optional ones too (as the form asked them).
    assert "Who could be left out" in own_idea.text
    assert "Not answered" in own_idea.text
    answered = send(crew, "idea", equity_prompt="People on night shifts, who miss the huddle.")
    assert (
        "People on night shifts, who miss the huddle." in crew.get(f"/mine/ideas/{answered}").text
    )
    # Someone else's, whatever their role, or the wrong kind: not found.
    assert staff.get(f"/mine/handovers/{note}").status_code == 404
    assert manager.get(f"/mine/handovers/{note}").status_code == 404
    assert crew.get(f"/mine/ideas/{note}").status_code == 404
    assert crew.get(f"/mine/handovers/{uuid.uuid4()}").status_code == 404


def replies(record_id: str) -> list[AuditEvent]:
    with open_session(write=False) as session:
        return list(
            session.execute(
                select(AuditEvent).where(
                    AuditEvent.record_id == uuid.UUID(record_id), AuditEvent.action == "reply"
                )
            ).scalars()
        )


def notifications_about(record_id: str) -> list[Notification]:
    with open_session(write=False) as session:
        return list(
            session.execute(
                select(Notification).where(Notification.record_id == uuid.UUID(record_id))
            ).scalars()
        )


def test_a_reply_to_a_reviewers_comment_is_an_event_that_tells_the_managers(
    crew: Any, manager: Any
) -> None:
    note = send(crew, "handover")
    page = crew.get(f"/mine/handovers/{note}")
    assert "Reply to the reviewer" not in page.text, "nothing to reply to yet"
    refused = crew.form(
        f"/mine/handovers/{note}/replies", {"body": "Hello"}, page=f"/mine/handovers/{note}"
    )
    assert refused.status_code == 422
    assert (
        "no reviewer&#39;s comment to reply to" in refused.text
        or "no reviewer's comment" in refused.text
    )
    assert replies(note) == []

    assert manager.post(
        f"/api/v1/handovers/{note}/comments", json={"body": "Which ward?"}
    ).status_code in (200, 201)
    page = crew.get(f"/mine/handovers/{note}")
    assert "Comment: Which ward?" in page.text and "Reply to the reviewer" in page.text
    sent = crew.form(
        f"/mine/handovers/{note}/replies",
        {"body": "Ward 7, bay 2."},
        page=f"/mine/handovers/{note}",
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/mine/handovers/{note}#history"
    assert [e.note for e in replies(note)] == ["Ward 7, bay 2."]
    assert "Your reply: Ward 7, bay 2." in crew.get(f"/mine/handovers/{note}").text
    told = [n for n in notifications_about(note) if "reply" in n.text]
    with open_session(write=False) as session:
        from schemas.accounts import User

        managers = set(
            session.execute(
                select(User.id).where(User.role.in_(["manager", "admin"]), User.active.is_(True))
            ).scalars()
        )
    assert {n.user_id for n in told} == managers
    # The managers' own /mine names the record in the update.
    assert "has a reply from the person who submitted it" in manager.get("/mine").text


def test_a_reply_on_an_idea_with_an_owner_tells_only_the_owner(crew: Any, manager: Any) -> None:
    idea = send(crew, "idea")
    me = manager.get("/api/v1/me").json()
    version = manager.get(f"/api/v1/ideas/{idea}").json()["version"]
    owned = manager.patch(
        f"/api/v1/ideas/{idea}", json={"owner_id": me["id"]}, headers={"If-Match": str(version)}
    )
    assert owned.status_code == 200, owned.text
    manager.post(f"/api/v1/ideas/{idea}/comments", json={"body": "Can you say more?"})
    sent = crew.form(
        f"/mine/ideas/{idea}/replies", {"body": "Yes, gladly."}, page=f"/mine/ideas/{idea}"
    )
    assert sent.status_code == 303
    told = [n for n in notifications_about(idea) if "reply" in n.text]
    assert [n.user_id for n in told] == [me["id"]]


def test_a_bad_reply_is_refused_with_the_field_named_and_changes_nothing(
    crew: Any, staff: Any, manager: Any
) -> None:
    note = send(crew, "handover")
    manager.post(f"/api/v1/handovers/{note}/comments", json={"body": "Which ward?"})
    before = len(notifications_about(note))
    for body, message in (
        ("   ", "Enter your reply"),
        ("Patient 943 476 5919 was not ready", "NHS number"),
        ("x" * 4001, "4000 characters or fewer"),
    ):
        answer = crew.form(
            f"/mine/handovers/{note}/replies", {"body": body}, page=f"/mine/handovers/{note}"
        )
        assert answer.status_code == 422
        assert message in answer.text
    assert replies(note) == []
    assert len(notifications_about(note)) == before
    # Someone else cannot reply on it; without the CSRF token nothing is accepted.
    assert (
        staff.form(f"/mine/handovers/{note}/replies", {"body": "Hi"}, page="/mine").status_code
        == 404
    )
    no_token = crew.http.post(f"/mine/handovers/{note}/replies", data={"body": "Hi"})
    assert no_token.status_code == 403
    with open_session(write=False) as session:
        count = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert count >= 1
    assert replies(note) == []
