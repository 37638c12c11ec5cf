"""The phone's side, in a real browser (Debian Chromium, phone viewport):
1. 1,000 handover notes queued offline in IndexedDB and listed on /outbox, then the time from
   reconnecting (the page's "online" event) to all acknowledged (the outbox empty in IndexedDB),
   against the same 1,000 posted straight to /api/v1/sync by a script (the floor); and how
   responsive the page stays meanwhile: how late a 10 ms timer on its main thread fires, and its
   long tasks (over 50 ms);
2. bytes over the wire for a first and a repeat load of /handovers/new, and for a first visit
   as a phone makes it: the page, its subresources and the service worker's install (precache),
   counted by a relay between the browser and the server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.server import BenchServer, free_port
from bench.sync_ingest import handover, pinning

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
]


@contextlib.contextmanager
def clients_pinned(cpus: set[int] | None) -> Iterator[None]:
    """This process, and what it starts meanwhile (Playwright's driver, Chromium), on `cpus`;
    the affinity it had afterwards. None: unchanged."""
    if not cpus:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@contextlib.contextmanager
def demo_server_and_chromium(pin: bool = False) -> Iterator[tuple[BenchServer, Any]]:
    """A fresh server on the demo trust (its own temporary folder) and a fresh Debian Chromium;
    both stopped afterwards.

    With `pin` (and two CPUs or more), the server runs on CPU 0 and this process on the others,
    so Chromium (started from here) and the floor's script (this process) are both clients on
    the same CPUs, the server alone on its own, as `bench.sync_ingest` pins its servers and
    clients. Not the default: the floor's script needs a few per cent of a CPU, while Chromium
    spends about 0.9 s of CPU over its processes to send 1,000 items (the server 0.23 s), so on
    one CPU the drain is bound by Chromium's CPU alone; unpinned, both sides (the floor and the
    drain) have the same whole machine, as in every earlier figure (docs/performance.md, issue 16,
    item 3, third pass)."""
    from playwright.sync_api import sync_playwright

    prefix, client_cpus = pinning() if pin else ([], None)
    with (
        tempfile.TemporaryDirectory() as tmp,
        clients_pinned(client_cpus),
        sync_playwright() as playwright,
    ):
        server = BenchServer(Path(tmp))
        server.cli("migrate")
        server.cli("demo")
        server.start(prefix=prefix)
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            yield server, browser
        finally:
            browser.close()
            server.stop()


ENQUEUE = """async ([items]) => {
  const client = await window.FrontlineOutboxClient.ready;
  for (const item of items) {
    await client.store.enqueue({id: item.id, kind: 'handover', userId: client.userId, data: item.data});
  }
  return (await client.store.countItems(client.userId)).total;
}"""
# Lists the queued items on /outbox as after a form's submission (the page redraws), so the drain
# is measured with the list a person would be looking at on screen.
SHOW_QUEUE = """async () => {
  await window.FrontlineOutboxClient.ready;
  await window.FrontlineOutboxClient.changed();
}"""
# The items /outbox accounts for: its cards, and those it counts without drawing a card for each
# ("And 950 more waiting", [data-outbox-more]; a long list draws its first cards only).
LISTED = """document.querySelectorAll('.app-outbox-item').length
  + Number((document.querySelector('[data-outbox-more]') || {dataset: {}}).dataset.outboxMore || 0)"""
# Watches the drain from inside the page: from the "online" event to the outbox being empty in
# IndexedDB (a count on its own connection every 10 ms), and meanwhile how late each 10 ms timer
# fires on the page's main thread and its long tasks. Resolves when the outbox is empty.
WATCH = """() => {
  const w = (window.__drain = {online: null, empty: null, lags: [], longTasks: []});
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (w.online !== null && w.empty === null) w.longTasks.push(entry.duration);
    }
  });
  observer.observe({type: 'longtask'});
  window.addEventListener('online', () => { w.online = performance.now(); }, {once: true});
  w.done = new Promise((resolve, reject) => {
    const open = indexedDB.open('frontline');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const look = (due) => {
        const now = performance.now();
        if (w.online === null) { setTimeout(look, 10, performance.now() + 10); return; }
        w.lags.push(Math.max(0, now - due));
        const count = db.transaction('outbox').objectStore('outbox').count();
        count.onerror = () => reject(count.error);
        count.onsuccess = () => {
          if (count.result === 0) {
            w.empty = performance.now();
            observer.disconnect();
            db.close();
            resolve();
          } else {
            setTimeout(look, 10, performance.now() + 10);
          }
        };
      };
      setTimeout(look, 10, performance.now() + 10);
    };
  });
}"""
WATCHED = """async () => {
  await window.__drain.done;
  const w = window.__drain;
  // The start of the drain, from the page's resource timings: when GET /api/v1/me answered and
  // the first sync request left, after the online event (this round's entries only).
  const after = (name) => performance.getEntriesByType('resource')
    .filter((e) => e.name.endsWith(name) && e.startTime >= w.online);
  const me = after('/api/v1/me')[0];
  const sync = after('/api/v1/sync')[0];
  return {
    seconds: (w.empty - w.online) / 1000, lags: w.lags, longTasks: w.longTasks,
    meMs: me ? me.responseEnd - me.startTime : null,
    firstRequestMs: sync ? sync.startTime - w.online : null,
  };
}"""
COUNT = """async () => {
  const client = await window.FrontlineOutboxClient.ready;
  return (await client.store.countItems(client.userId)).total;
}"""


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) process `pid` has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def chromium_cpu_by_process(exclude: set[int]) -> dict[str, float]:
    """CPU used so far by the Chromium processes this process started (through Playwright's
    driver), the server's `exclude`d, by kind of process: "browser" (which holds IndexedDB's
    store), "renderer" (the page and the worker), "utility" (the network service), "gpu" and
    "other". Linux only (/proc); empty elsewhere."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else []:
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found: dict[str, float] = {}
    todo = [os.getpid()]
    while todo:
        for pid in children.get(todo.pop(), []):
            todo.append(pid)
            if pid in exclude:
                continue
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"chromium" not in command:
                continue
            kind = "browser"
            for flag, name in (
                (b"--type=renderer", "renderer"),
                (b"--type=utility", "utility"),
                (b"--type=gpu-process", "gpu"),
                (b"--type=", "other"),
            ):
                if flag in command:
                    kind = name
                    break
            found[kind] = found.get(kind, 0.0) + process_cpu(pid)
    return found


def chromium_cpu(exclude: set[int]) -> float:
    """CPU used so far by the Chromium processes this process started, all kinds together: the
    phone's side of a drain, in every one of its processes (chromium_cpu_by_process)."""
    return sum(chromium_cpu_by_process(exclude).values())


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
class Drain:
    items: int
    rounds: int
    frontline: float  # seconds from reconnecting to all acknowledged, median of the rounds
    floor: float  # seconds for a script to post the same items, median of the rounds
    longest_lag_ms: float  # the latest a 10 ms timer on the page fired, over all rounds
    p95_lag_ms: float
    long_tasks: int  # main-thread tasks over 50 ms during the drains, all rounds
    longest_task_ms: float
    stored: int  # of the items queued on the phone in all rounds, how many the server holds
    chromium_cpu: float  # seconds of CPU over Chromium's processes per drain, median
    server_cpu: float  # seconds of the server's CPU per drain, median
    floor_cpu: float  # seconds of the floor script's own CPU (this process) per floor, median
    floor_server_cpu: float  # seconds of the server's CPU per floor, median
    pinned: bool = False  # the server on CPU 0, Chromium and the floor's script on the others
    # seconds of CPU per drain by kind of Chromium process (chromium_cpu_by_process), medians
    chromium_by_process: dict[str, float] = dataclasses.field(default_factory=dict)
    me_ms: float | None = None  # GET /api/v1/me at the drain's start, request to answer, median
    first_request_ms: float | None = None  # the online event to the first sync request, median

    @property
    def ratio(self) -> float:
        return self.frontline / self.floor


def post_floor(api: Any, csrf: str, items: list[dict[str, Any]]) -> float:
    """The floor: the items straight from a script, batches of 100, one after another."""
    started = time.perf_counter()
    for start in range(0, len(items), 100):
        body = {"items": [{"kind": "handover", **i} for i in items[start : start + 100]]}
        answer = api.post("/api/v1/sync", json=body, headers={"X-CSRF-Token": csrf})
        if answer.status_code != 200:
            raise RuntimeError(f"the floor's sync answered {answer.status_code}")
    return time.perf_counter() - started


def drain_rounds(browser: Any, server: BenchServer, count: int, rounds: int) -> Drain:
    """`rounds` times: the floor, then the phone's drain of as many items, alternating so both
    see the same machine."""
    from bench.server import percentile

    api = server.signed_in("crew@demo.nhs.uk", "crew-demo-pass")
    partner = api.get("/api/v1/reference").json()["partners"][0]["id"]
    csrf = api.get("/api/v1/me").json()["csrf_token"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    floors: list[float] = []
    drains: list[float] = []
    lags: list[float] = []
    long_tasks: list[float] = []
    queued_ids: list[str] = []
    cpu: dict[str, list[float]] = {"chromium": [], "server": [], "floor": [], "floor server": []}
    server_pid = server.process.pid if server.process else -1
    by_process: dict[str, list[float]] = {}
    me_ms: list[float] = []
    first_request_ms: list[float] = []
    try:
        page = context.new_page()
        sign_in(page, server.url)
        for _ in range(rounds):
            items = [{"id": str(uuid.uuid4()), "data": handover(partner)} for _ in range(count)]
            mine, theirs = time.process_time(), process_cpu(server_pid)
            floors.append(post_floor(api, csrf, items))
            cpu["floor"].append(time.process_time() - mine)
            cpu["floor server"].append(process_cpu(server_pid) - theirs)

            page.goto(f"{server.url}/outbox")
            wait_for(page, "navigator.serviceWorker.controller !== null", bool, 30)
            context.set_offline(True)
            queued = [{"id": str(uuid.uuid4()), "data": handover(partner)} for _ in range(count)]
            queued_ids += [i["id"] for i in queued]
            if page.evaluate(ENQUEUE, [queued]) != count:
                raise RuntimeError("the items were not queued")
            page.evaluate(SHOW_QUEUE)
            wait_for(page, LISTED, lambda n: n == count, 60)
            page.evaluate(WATCH)
            phone, theirs = chromium_cpu_by_process({server_pid}), process_cpu(server_pid)
            context.set_offline(False)  # the page's "online" handler starts the drain
            page.evaluate(
                "if (window.__drain.online === null) window.dispatchEvent(new Event('online'))"
            )
            watched = page.evaluate(WATCHED)
            spent = chromium_cpu_by_process({server_pid})
            for kind in spent:
                by_process.setdefault(kind, []).append(spent[kind] - phone.get(kind, 0.0))
            cpu["chromium"].append(sum(spent.values()) - sum(phone.values()))
            if watched["meMs"] is not None:
                me_ms.append(float(watched["meMs"]))
            if watched["firstRequestMs"] is not None:
                first_request_ms.append(float(watched["firstRequestMs"]))
            cpu["server"].append(process_cpu(server_pid) - theirs)
            drains.append(float(watched["seconds"]))
            lags += [float(x) for x in watched["lags"]]
            long_tasks += [float(x) for x in watched["longTasks"]]
    finally:
        context.close()
    return Drain(
        items=count,
        rounds=rounds,
        frontline=statistics.median(drains),
        floor=statistics.median(floors),
        longest_lag_ms=max(lags, default=0.0),
        p95_lag_ms=percentile(lags, 0.95) if lags else 0.0,
        long_tasks=len(long_tasks),
        longest_task_ms=max(long_tasks, default=0.0),
        stored=stored_ids(Path(server.env["FRONTLINE_DATA_DIR"]) / "frontline.db", queued_ids),
        chromium_cpu=statistics.median(cpu["chromium"]),
        server_cpu=statistics.median(cpu["server"]),
        floor_cpu=statistics.median(cpu["floor"]),
        floor_server_cpu=statistics.median(cpu["floor server"]),
        chromium_by_process={kind: statistics.median(v) for kind, v in by_process.items()},
        me_ms=statistics.median(me_ms) if me_ms else None,
        first_request_ms=statistics.median(first_request_ms) if first_request_ms else None,
    )


def measure_drain(count: int = 1000, rounds: int = 3, pin: bool = False) -> Drain:
    """drain_rounds on a fresh server and a fresh Chromium (pinned as demo_server_and_chromium
    says)."""
    with demo_server_and_chromium(pin) as (server, browser):
        drain = drain_rounds(browser, server, count, rounds)
    return dataclasses.replace(drain, pinned=pin and bool(pinning()[0]))


def describe_drain(drain: Drain) -> list[str]:
    return [
        f"{drain.items:,} queued items (listed on /outbox): reconnect to all acknowledged "
        f"{drain.frontline:.2f} s; the same posted by a script (floor) {drain.floor:.2f} s; "
        f"ratio {drain.ratio:.2f} (medians of {drain.rounds} rounds; "
        + (
            "the server on CPU 0, Chromium and the script on the others)"
            if drain.pinned
            else "nothing pinned: the floor and the drain each have the whole machine)"
        ),
        f"the page while it drains: a 10 ms timer fired at most {drain.longest_lag_ms:.0f} ms "
        f"late (p95 {drain.p95_lag_ms:.0f} ms); {drain.long_tasks} long tasks, the longest "
        f"{drain.longest_task_ms:.0f} ms",
        f"server holds {drain.stored:,} of the {drain.items * drain.rounds:,} queued ids, "
        "each once",
        f"CPU per drain (medians): Chromium's processes {drain.chromium_cpu:.2f} s, the server "
        f"{drain.server_cpu:.2f} s; per floor: the script {drain.floor_cpu:.2f} s, the server "
        f"{drain.floor_server_cpu:.2f} s",
        "Chromium's CPU per drain by process (medians): "
        + ", ".join(
            f"{kind} {sec:.3f} s" for kind, sec in sorted(drain.chromium_by_process.items())
        ),
        "the drain's start (medians): the first sync request "
        + (f"{drain.first_request_ms:.0f} ms" if drain.first_request_ms is not None else "?")
        + " after the online event; GET /api/v1/me "
        + (f"{drain.me_ms:.0f} ms" if drain.me_ms is not None else "?"),
    ]


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
    with demo_server_and_chromium() as (server, browser):
        return first_load(browser, server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="drain rounds (medians)")
    parser.add_argument("--drain-only", action="store_true", help="skip the first-load figures")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="run the server on CPU 0, and Chromium and the floor's script on the others",
    )
    args = parser.parse_args()
    with demo_server_and_chromium(args.pin) as (server, browser):
        drain = drain_rounds(browser, server, args.items, args.rounds)
        drain = dataclasses.replace(drain, pinned=args.pin and bool(pinning()[0]))
        for line in describe_drain(drain):
            print(line)
        if args.drain_only:
            return

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


if __name__ == "__main__":
    main()
