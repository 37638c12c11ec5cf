"""The phone's side, in a real browser (Debian Chromium, phone viewport):
1. 1,000 handover notes queued offline in IndexedDB, then the time from reconnecting to all
   acknowledged, against the same 1,000 posted straight to /api/v1/sync by a script (the floor);
2. bytes over the wire for a first and a repeat load of /handovers/new, and for a first visit
   as a phone makes it: the page, its subresources and the service worker's install (precache),
   counted by a relay between the browser and the server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.server import BenchServer, free_port
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


class CountingRelay:
    """A TCP relay in front of the server that counts the bytes it carries back to the browser:
    exactly what a phone downloads (headers, gzip bodies, the worker's own fetches included),
    which the browser's per-request figures miss for service-worker scripts."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.downloaded = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, down: bool
    ) -> None:
        try:
            while data := await source.read(65536):
                if down:
                    self.downloaded += len(data)
                sink.write(data)
                await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        # Cancelled when the relay shuts down with the browser's keep-alive connections open.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(
                self._pipe(reader, up_writer, down=False), self._pipe(up_reader, writer, down=True)
            )

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._relay, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop.stop()

    def __enter__(self) -> CountingRelay:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the relay did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        self._thread.join(10)

    def settle(self, quiet: float = 1.5, timeout: float = 60) -> int:
        """Wait until nothing has come down for `quiet` seconds; the bytes so far."""
        deadline = time.monotonic() + timeout
        last, since = self.downloaded, time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if self.downloaded != last:
                last, since = self.downloaded, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return last
        raise RuntimeError("the page kept downloading")


@dataclass(frozen=True)
class FirstLoad:
    page: int  # the page and what it loads, with service workers blocked
    total: int  # the same visit with the worker allowed: its scripts and precache too
    requests: int  # requests the browser reported on the full visit, page and worker


def _visit(browser: Any, server: BenchServer, path: str, *, worker: bool) -> tuple[int, int]:
    """A new phone (empty HTTP cache, no worker yet), signed in without counting the sign-in,
    opens `path`; (bytes down until nothing more comes, requests the browser reported)."""
    with CountingRelay(server.port) as relay:
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            service_workers="allow" if worker else "block",
        )
        try:
            login = context.request.get(f"{relay.url}/login").text()
            token = login.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
            answer = context.request.post(
                f"{relay.url}/login",
                form={
                    "email": "crew@demo.nhs.uk",
                    "password": "crew-demo-pass",
                    "csrf_token": token,
                },
                max_redirects=0,
            )
            if answer.status != 303:
                raise RuntimeError(f"sign-in failed: {answer.status}")
            page = context.new_page()
            requests: list[str] = []
            context.on("requestfinished", lambda request: requests.append(request.url))
            relay.downloaded = 0
            page.goto(f"{relay.url}{path}", wait_until="networkidle")
            if worker:
                wait_for(page, "navigator.serviceWorker.controller !== null", bool, 60)
            return relay.settle(), len(requests)
        finally:
            context.close()


def first_load(browser: Any, server: BenchServer, path: str = "/handovers/new") -> FirstLoad:
    """Bytes over the wire for a new phone's first visit: the page alone, then with the worker."""
    page, _ = _visit(browser, server, path, worker=False)
    total, requests = _visit(browser, server, path, worker=True)
    return FirstLoad(page=page, total=total, requests=requests)


def measure_first_load() -> FirstLoad:
    """first_load on a fresh server and a fresh Chromium."""
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
            return first_load(browser, server)
        finally:
            browser.close()
            server.stop()


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

            visit = first_load(browser, server)
            print(
                f"/handovers/new first visit, as a new phone makes it: {visit.page:,} bytes for "
                f"the page and its subresources; {visit.total:,} with the service worker's "
                f"install (its scripts and precache), {visit.requests} requests"
            )
        finally:
            browser.close()
            server.stop()


if __name__ == "__main__":
    main()
