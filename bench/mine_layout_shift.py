"""Layout shift on /mine in Debian Chromium at 390x844 (issue #11: it must stay below 0.1).

Seeds 40 handover notes and 10 ideas for the demo crew member, opens /mine signed in on a fresh
browser (first visit) and once more (the worker in control), and sums the layout-shift entries a
PerformanceObserver sees (those without recent input) over the first 5 seconds. Three phones per
viewport, 390x844 and 1366x900.

    python -m bench.mine_layout_shift
"""

from __future__ import annotations

import statistics
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.offline_drain import demo_server_and_chromium, sign_in
from bench.server import BenchServer
from bench.sync_ingest import handover

OBSERVE = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: 'layout-shift', buffered: true});
  setTimeout(() => resolve(total), 5000);
})"""


def seed(server: BenchServer) -> None:
    client = server.signed_in("crew@demo.nhs.uk", "crew-demo-pass")
    token = client.get("/api/v1/me").json()["csrf_token"]
    partner = client.get("/api/v1/reference").json()["partners"][0]["id"]
    aims = [client.get("/api/v1/reference").json()["aims"][0]["id"]]
    team = client.get("/api/v1/me").json()["team_id"]
    items: list[dict[str, Any]] = []
    for n in range(40):
        data = handover(partner)
        data["occurred_at"] = (datetime.now(UTC) - timedelta(hours=n + 1)).isoformat()
        items.append({"kind": "handover", "id": str(uuid.uuid4()), "data": data})
    for n in range(10):
        idea = {
            "title": f"Idea number {n} for the bench",
            "problem": "Stretchers wait in the corridor. " * 5,
            "proposal": "A handover nurse at peak times. " * 5,
            "aims": aims,
            "team_id": team,
        }
        items.append({"kind": "idea", "id": str(uuid.uuid4()), "data": idea})
    answer = client.post("/api/v1/sync", json={"items": items}, headers={"X-CSRF-Token": token})
    answer.raise_for_status()
    client.close()


def main() -> None:
    with demo_server_and_chromium() as (server, browser):
        seed(server)
        for viewport in ({"width": 390, "height": 844}, {"width": 1366, "height": 900}):
            first: list[float] = []
            again: list[float] = []
            for _ in range(3):
                # A phone that has just signed in (no worker yet), then the same phone again.
                context = browser.new_context(viewport=viewport, device_scale_factor=2)
                page = context.new_page()
                sign_in(page, server.url)
                page.goto(f"{server.url}/mine")
                first.append(page.evaluate(OBSERVE))
                page.goto(f"{server.url}/mine")
                again.append(page.evaluate(OBSERVE))
                context.close()
            size = f"{viewport['width']}x{viewport['height']}"
            print(
                f"/mine CLS at {size}: first visit median {statistics.median(first):.3f} "
                f"(max {max(first):.3f}); next visit median {statistics.median(again):.3f} "
                f"(max {max(again):.3f})"
            )


if __name__ == "__main__":
    main()
