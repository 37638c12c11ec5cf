"""The managers' queue counts and pages stay exact after migration 0015 made them fast: for a
generated set of ideas (every status, team, aim, waste, owner, flag and search word mixed), every
filter's count and every page walked by cursor equal a brute-force answer computed here from the
same data; the copies of an idea's status on its aim and waste links follow every change of status
(database triggers), so no count is stale after a move."""

from __future__ import annotations

import itertools
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update

from api.db import open_session
from api.ideas.service import (
    FIRST_RESPONSE_DUE,
    OPEN_STATUSES,
    STALLED_AFTER,
    Flag,
    IdeaFilters,
    count_ideas,
    list_ideas,
)
from api.pagination import Sort
from schemas.accounts import Aim, Team, User
from schemas.enums import IdeaStatus, Role, Waste
from schemas.ideas import Idea, IdeaAim, IdeaWaste
from tests.api.test_managers_desk import send_idea

WORDS = ["trolley", "pharmacy", "discharge", "rota", "oxygen", "keys"]
OPEN = {s.value for s in OPEN_STATUSES}


@dataclass
class Made:
    """What was stored, to answer each filter by brute force."""

    status: str
    team_id: int
    owner_id: int | None
    aims: list[int]
    wastes: list[str]
    words: set[str]
    received_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def make_ideas(count: int, seed: int) -> tuple[list[Made], User]:
    """`count` ideas in every combination the menus offer, inserted as the bench does (Core),
    the links with no status of their own: the database gives them their idea's."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with open_session(write=True) as session:
        teams = list(session.execute(select(Team.id)).scalars())
        aims = list(session.execute(select(Aim.id)).scalars())
        users = list(session.execute(select(User)).scalars())
        manager = next(u for u in users if u.role == Role.manager.value)
        owners = [u.id for u in users if u.role in (Role.manager.value, Role.admin.value)]
        made = []
        for _ in range(count):
            received = now - timedelta(days=rng.uniform(0, 60))
            made.append(
                Made(
                    status=rng.choice([s.value for s in IdeaStatus]),
                    team_id=rng.choice(teams),
                    owner_id=rng.choice([None, None, *owners]),
                    aims=rng.sample(aims, k=rng.randint(1, 2)),
                    wastes=rng.sample([w.value for w in Waste], k=rng.randint(0, 2)),
                    words=set(rng.sample(WORDS, k=2)),
                    received_at=received,
                    # Some ideas received at the same instant: the cursor's tie-break by id.
                    updated_at=received + timedelta(days=rng.choice([0, 0, 1, 40])),
                    first_response_at=rng.choice([None, received + timedelta(hours=2)]),
                )
            )
        for twin in made[1:20:3]:
            twin.received_at = made[0].received_at
        session.execute(
            insert(Idea),
            [
                {
                    "id": m.id,
                    "title": f"Idea about {' and '.join(sorted(m.words))}",
                    "problem": "A problem the crews keep meeting.",
                    "proposal": "A change to try.",
                    "wastes": m.wastes,
                    "aims": m.aims,
                    "benefits": [],
                    "team_id": m.team_id,
                    "show_name": True,
                    "status": m.status,
                    "owner_id": m.owner_id,
                    "submitted_by": manager.id,
                    "version": 1,
                    "content_hash": "0" * 64,
                    "created_at": m.received_at,
                    "received_at": m.received_at,
                    "updated_at": m.updated_at,
                    "first_response_at": m.first_response_at,
                }
                for m in made
            ],
        )
        session.execute(
            insert(IdeaAim), [{"idea_id": m.id, "aim_id": a} for m in made for a in m.aims]
        )
        links = [{"idea_id": m.id, "waste": w} for m in made for w in m.wastes]
        session.execute(insert(IdeaWaste), links)
        session.commit()
        session.expunge(manager)
    return made, manager


def brute_force(made: list[Made], f: IdeaFilters, now: datetime) -> list[Made]:
    def keep(m: Made) -> bool:
        if f.status and m.status != f.status:
            return False
        if not f.status and f.open_only and m.status not in OPEN:
            return False
        if f.team_id and m.team_id != f.team_id:
            return False
        if f.owner_id and m.owner_id != f.owner_id:
            return False
        if f.aim and f.aim not in m.aims:
            return False
        if f.waste and f.waste not in m.wastes:
            return False
        if f.q and not all(w in m.words for w in f.q.split()):
            return False
        if f.flag is Flag.needs_first_response and not (
            m.status == IdeaStatus.submitted.value
            and m.first_response_at is None
            and m.received_at <= now - FIRST_RESPONSE_DUE
        ):
            return False
        return not (
            f.flag is Flag.stalled
            and not (m.status in OPEN and m.updated_at <= now - STALLED_AFTER)
        )

    return [m for m in made if keep(m)]


def every_filter(made: list[Made], rng: random.Random) -> list[IdeaFilters]:
    """Each menu's every choice alone, open or not; each status; then pairs and triples."""
    teams = sorted({m.team_id for m in made})
    aims = sorted({a for m in made for a in m.aims})
    owners = sorted({m.owner_id for m in made if m.owner_id})
    choices: dict[str, list[Any]] = {
        "status": [s.value for s in IdeaStatus],
        "team_id": teams,
        "aim": aims,
        "waste": [w.value for w in Waste],
        "owner_id": owners,
        "flag": list(Flag),
        "q": [*WORDS, "trolley pharmacy"],
    }
    found = [IdeaFilters(open_only=o) for o in (True, False)]
    for (name, values), open_only in itertools.product(choices.items(), (True, False)):
        found += [IdeaFilters(**{name: v}, open_only=open_only) for v in values]
    for size in (2, 3):
        for names in itertools.combinations(choices, size):
            for _ in range(3):
                picked = {n: rng.choice(choices[n]) for n in names}
                found.append(IdeaFilters(**picked, open_only=rng.random() < 0.7))
    return found


def test_every_count_and_every_page_equals_a_brute_force_answer() -> None:
    made, manager = make_ideas(260, seed=16)
    rng = random.Random(3)
    checked = 0
    with open_session(write=False) as session:
        for filters in every_filter(made, rng):
            now = datetime.now(UTC)
            expected = brute_force(made, filters, now)
            assert count_ideas(session, filters) == len(expected), filters
            sort = rng.choice(list(Sort))
            key = "updated_at" if sort is Sort.updated else "received_at"
            wanted = sorted(
                expected, key=lambda m: (getattr(m, key), m.id), reverse=sort is not Sort.oldest
            )
            shown: list[uuid.UUID] = []
            cursor = None
            while True:  # every page, by cursor
                page, cursor = list_ideas(session, manager, filters, cursor, 7, sort)
                shown += [i.id for i in page]
                if cursor is None:
                    break
            assert shown == [m.id for m in wanted], (filters, sort)
            checked += 1
    assert checked > 150


def test_a_link_carries_its_ideas_status_through_every_change() -> None:
    made, _ = make_ideas(12, seed=5)
    with open_session(write=True) as session:
        for m in made[:6]:  # any path that changes a status, not only the app's moves
            session.execute(update(Idea).where(Idea.id == m.id).values(status="declined"))
        session.execute(update(Idea).where(Idea.id == made[6].id).values(title="Only the title"))
        session.commit()
        for table in ("idea_aim", "idea_waste"):
            wrong = session.execute(
                text(
                    f"SELECT count(*) FROM {table} JOIN idea ON idea.id = {table}.idea_id "
                    f"WHERE {table}.status <> idea.status"
                )
            ).scalar_one()
            assert wrong == 0, table
        statuses = set(
            session.execute(
                select(IdeaAim.status).where(IdeaAim.idea_id.in_([m.id for m in made[:6]]))  # type: ignore[attr-defined]
            ).scalars()
        )
        assert statuses == {"declined"}


@pytest.mark.parametrize("facet", ["aim", "waste"])
def test_the_queue_count_follows_a_move_at_once(staff: Any, manager: Any, facet: str) -> None:
    """The count a manager reads after declining an idea is the new one, on the page itself."""
    first = send_idea(staff, title="First waiting idea", wastes=["waiting"])
    send_idea(staff, title="Second waiting idea", wastes=["waiting"])
    with open_session(write=False) as session:
        aim = session.execute(select(IdeaAim.aim_id).limit(1)).scalar_one()
    params = {"aim": str(aim)} if facet == "aim" else {"waste": "waiting"}

    def count() -> int:
        found = re.search(
            r"<strong>(\d+)</strong> ideas? \(open\)", manager.get("/triage", params=params).text
        )
        assert found, "no count on the page"
        return int(found.group(1))

    assert count() == 2
    moved = manager.post(
        f"/api/v1/ideas/{first}/transitions",
        json={"to": "declined", "note": "Not now.", "equity_note": "Checked."},
    )
    assert moved.status_code == 200, moved.text
    assert count() == 1
    included = manager.get("/triage", params={**params, "include_closed": "1"}).text
    assert "<strong>2</strong> ideas" in included
