"""A phone's outbox as the service worker keeps it, sending over real HTTP: an item leaves only on
a 2xx JSON answer that acknowledges its own id (SPEC O2, O10); no answer, a 5xx or a 429 keep the
whole batch for the next try with the same ids and content (O3)."""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

ACKNOWLEDGED = frozenset({"created", "duplicate"})
CREW = ("crew@demo.nhs.uk", "crew-demo-pass")
STAFF = ("staff@demo.nhs.uk", "staff-demo-pass")


def signed_in(base_url: str, email: str, password: str) -> tuple[httpx.Client, str]:
    """A client with a session from /login (as a browser gets one) and the CSRF token for it."""
    http = httpx.Client(
        base_url=base_url, follow_redirects=False, timeout=httpx.Timeout(30.0, connect=5.0)
    )
    page = http.get("/login").text
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, "no CSRF token on /login"
    response = http.post(
        "/login", data={"email": email, "password": password, "csrf_token": match.group(1)}
    )
    assert response.status_code == 303, response.text
    return http, http.get("/api/v1/me").json()["csrf_token"]


def new_items(rng: random.Random, reference: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """Valid sync items, half ideas and half handover notes, with ids drawn from `rng`."""
    aims = [a["id"] for a in reference["aims"]]
    teams = [t["id"] for t in reference["teams"]]
    partners = [p["id"] for p in reference["partners"]]
    wastes = [w["value"] for w in reference["wastes"]]
    categories = [c["value"] for c in reference["categories"]]
    now = datetime.now(UTC)
    items = []
    for n in range(count):
        record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if n % 2:
            data: dict[str, Any] = {
                "title": f"Fault test idea {n}",
                "problem": "Crews wait for the trolley to arrive after they do. " * 4,
                "proposal": "Add a trolley question to the booking form.",
                "wastes": rng.sample(wastes, rng.randint(0, 3)),
                "aims": rng.sample(aims, rng.randint(1, 3)),
                "team_id": rng.choice(teams),
                "benefits": ["safety"],
                "show_name": True,
                "created_at": (now - timedelta(minutes=n)).isoformat(),
            }
            items.append({"kind": "idea", "id": record_id, "data": data})
        else:
            data = {
                "occurred_at": (now - timedelta(hours=1, minutes=n)).isoformat(),
                "partner_id": rng.choice(partners),
                "location_detail": "ED ambulance bay",
                "journey_type": "admission",
                "categories": rng.sample(categories, rng.randint(1, 3)),
                "delay_minutes": rng.randint(0, 240),
                "harm": "none",
                "narrative": f"Fault test note {n}: waited in the corridor before handover. " * 8,
                "immediate_action": "Escalated to the nurse in charge.",
                "vehicle": "PTS12",
                "created_at": (now - timedelta(minutes=n)).isoformat(),
            }
            items.append({"kind": "handover", "id": record_id, "data": data})
    return items


class Phone:
    """One phone: a signed-in session and an outbox, drained in batches from its own thread."""

    def __init__(self, base_url: str, who: tuple[str, str], rng: random.Random) -> None:
        self.http, self.csrf = signed_in(base_url, *who)
        self.rng = rng
        self.outbox: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        # Outcomes by id, in the order they came back; anything but created/duplicate is a failure.
        self.outcomes: dict[str, list[str]] = {}
        self.unanswered = 0  # tries that got no answer at all, a 5xx or a 429
        self.in_flight = threading.Event()
        self.problems: list[str] = []
        self._lock = threading.Lock()

    def queue(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            for item in items:
                self.outbox[item["id"]] = item
                self.sent.append(item)

    def waiting(self) -> int:
        with self._lock:
            return len(self.outbox)

    def send(self, batch: list[dict[str, Any]]) -> httpx.Response | None:
        """One POST /api/v1/sync; None when no answer came (refused, reset, timed out)."""
        self.in_flight.set()
        try:
            return self.http.post(
                "/api/v1/sync", json={"items": batch}, headers={"X-CSRF-Token": self.csrf}
            )
        except httpx.TransportError:
            return None
        finally:
            self.in_flight.clear()

    def send_next(self, batch_size: int) -> httpx.Response | None:
        """Send the oldest `batch_size` items; remove those the answer acknowledges."""
        with self._lock:
            batch = list(self.outbox.values())[:batch_size]
        response = self.send(batch)
        if response is None or response.status_code >= 500 or response.status_code == 429:
            self.unanswered += 1
            return response
        if response.status_code != 200 or "application/json" not in response.headers.get(
            "content-type", ""
        ):
            self.problems.append(f"{response.status_code}: {response.text[:200]}")
            return response
        sent_ids = {item["id"] for item in batch}
        with self._lock:
            for result in response.json()["results"]:
                self.outcomes.setdefault(result["id"], []).append(result["outcome"])
                if result["outcome"] in ACKNOWLEDGED and result["id"] in sent_ids:
                    self.outbox.pop(result["id"], None)
                else:
                    self.problems.append(f"{result['id']}: {result['outcome']} {result['errors']}")
        return response

    def drain(self, deadline: float, max_batch: int = 25) -> None:
        """Send until the outbox is empty, backing off briefly after each failed try."""
        while self.waiting() and time.monotonic() < deadline and not self.problems:
            response = self.send_next(self.rng.randint(1, max_batch))
            if response is None or response.status_code != 200:
                time.sleep(self.rng.uniform(0.05, 0.2))
