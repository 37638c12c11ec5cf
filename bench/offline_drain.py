"""The phone's side, in a real browser (Debian Chromium, phone viewport):
1. 1,000 handover notes queued offline in IndexedDB, then the time from reconnecting to all
   acknowledged, against the same 1,000 posted straight to /api/v1/sync by a script (the floor);
2. bytes over the wire for a first and a repeat load of /handovers/new."""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.server import BenchServer
from bench.sync_ingest import handover

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
]

ENQUEUE = """async ([items]) => {
  const client = await window.FrontlineOutboxClient.ready;
  for (const item of items) {
    await client.store.enqueue({id: item.id, kind: 'handover', userId: client.userId, data: item.data});
  }
  return (await client.store.countItems(client.userId)).total;
}"""
COUNT = """async () => {
  const client = await window.FrontlineOutboxClient.ready;
  return (await client.store.countItems(client.userId)).total;
}"""


def wait_for(page: Any, script: str, done: Any, timeout: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if done(page.evaluate(script)):
            return time.perf_counter() - started
        time.sleep(0.25)  # each look reads the outbox: do not crowd the drain being measured
    raise RuntimeError("timed out")


def sign_in(page: Any, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", "crew@demo.nhs.uk")
    page.fill("#password", "crew-demo-pass")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{url}/")


def transferred(cdp: Any, action: Any) -> int:
    sizes: dict[str, int] = {}
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    action()
    time.sleep(0.5)
    return sum(sizes.values())


def stored_ids(database: Path, ids: list[str]) -> int:
    import sqlite3

    with sqlite3.connect(database) as conn:
        hexes = [uuid.UUID(i).hex for i in ids]
        found = 0
        for start in range(0, len(hexes), 500):
            chunk = hexes[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found += conn.execute(
                f"SELECT count(*) FROM handover WHERE id IN ({marks})",  # noqa: S608 - "?" only
                chunk,
            ).fetchone()[0]
        return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        server = BenchServer(Path(tmp))
        server.cli("migrate")
        server.cli("demo")
        server.start()
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            api = server.signed_in("crew@demo.nhs.uk", "crew-demo-pass")
            partner = api.get("/api/v1/reference").json()["partners"][0]["id"]
            csrf = api.get("/api/v1/me").json()["csrf_token"]

            # The floor: the same items straight from a script, batches of 100, one after another.
            items = [
                {"id": str(uuid.uuid4()), "data": handover(partner)} for _ in range(args.items)
            ]
            started = time.perf_counter()
            for start in range(0, len(items), 100):
                body = {"items": [{"kind": "handover", **i} for i in items[start : start + 100]]}
                assert (
                    api.post("/api/v1/sync", json=body, headers={"X-CSRF-Token": csrf}).status_code
                    == 200
                )
            floor = time.perf_counter() - started

            context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
            page = context.new_page()
            sign_in(page, server.url)
            page.goto(f"{server.url}/outbox")
            wait_for(page, "navigator.serviceWorker.controller !== null", bool, 30)
            context.set_offline(True)
            queued_items = [
                {"id": str(uuid.uuid4()), "data": handover(partner)} for _ in range(args.items)
            ]
            assert page.evaluate(ENQUEUE, [queued_items]) == args.items
            started = time.perf_counter()
            context.set_offline(False)  # the page's "online" handler starts the drain
            page.evaluate("window.dispatchEvent(new Event('online'))")
            wait_for(page, COUNT, lambda n: n == 0, 600)
            drained = time.perf_counter() - started
            stored = stored_ids(Path(tmp) / "frontline.db", [i["id"] for i in queued_items])
            print(
                f"{args.items:,} queued items: reconnect to all acknowledged {drained:.2f} s; "
                f"the same posted by a script (floor) {floor:.2f} s; ratio {drained / floor:.2f}"
            )
            print(f"server holds {stored:,} of the {args.items:,} queued ids, each once")
            context.close()

            # A new phone: no service worker yet (it installs after this first page), empty cache.
            fresh = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, service_workers="block"
            )
            page = fresh.new_page()
            sign_in(page, server.url)
            cdp = fresh.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.clearBrowserCache")
            url = f"{server.url}/handovers/new"
            first = transferred(cdp, lambda: page.goto(url, wait_until="networkidle"))
            repeat = transferred(cdp, lambda: page.goto(url, wait_until="networkidle"))
            print(
                f"/handovers/new bytes over the wire: first load {first:,}; repeat load {repeat:,} "
                "(HTTP cache only, before the service worker takes over)"
            )
            fresh.close()
        finally:
            browser.close()
            server.stop()


if __name__ == "__main__":
    main()
