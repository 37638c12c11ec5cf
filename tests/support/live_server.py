"""A real Frontline server (`frontline serve`) in a child process on 127.0.0.1, for the tests that
need one: the browser tests, and the fault tests that SIGKILL it and start it again."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.support.hashing import CHEAP_HASHING

ROOT = Path(__file__).resolve().parent.parent.parent

# `frontline serve`, forked from one process that has already imported the app: the imports take
# seconds on a loaded machine, and the fault tests start servers again and again. Each line on
# stdin (port, environment, log file) forks one server and answers its pid. A forked server runs the
# same `serve` command in a process of its own, so SIGKILL ends it as it would `frontline serve`;
# nothing reads the environment or touches a database before the fork.
_ZYGOTE = """
import json, os, signal, sys
# The slow part, done once: the app, the command line, uvicorn and the protocols it picks.
import api.cli, api.main, uvicorn.lifespan.on, uvicorn.loops.auto, uvicorn.main  # noqa: F401
import uvicorn.protocols.http.auto, uvicorn.protocols.websockets.auto  # noqa: F401
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the servers as they end
while line := sys.stdin.readline():
    order = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            log = os.open(order["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.environ.clear()
            os.environ.update(order["env"])
            api.cli.app(["serve", "--port", str(order["port"])])
        finally:
            os._exit(0)
    print(pid, flush=True)
"""


class _Zygote:
    """The one process every LiveServer forks from, started on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None

    def fork(self, port: int, env: dict[str, str], log: Path) -> int | None:
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                with log.open("ab") as errors:
                    self.process = subprocess.Popen(
                        [sys.executable, "-c", _ZYGOTE],
                        cwd=ROOT,
                        env=env,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=errors,
                    )
                atexit.register(self.end)
            assert self.process.stdin is not None and self.process.stdout is not None
            order = {"port": port, "env": env, "log": str(log)}
            self.process.stdin.write(json.dumps(order).encode() + b"\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline().strip()
            return int(answer) if answer else None

    def end(self) -> None:
        with self.lock:
            if self.process is None:
                return
            process, self.process = self.process, None
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()  # end of input: it leaves its loop and exits
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


_ZYGOTE_PROCESS = _Zygote()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """`frontline serve` in a process of its own; stop() and start() keep the port and the database, so a
    test can take the server away while the browser still believes it is online.

    `database_url` points the server at a database of the caller's (the fault tests share one
    between two servers); without it the server keeps its own SQLite file in `data_dir`. Changing
    `env` between starts is allowed: the next start uses the new one."""

    def __init__(
        self,
        data_dir: Path,
        *,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.pid: int | None = None
        self.env = {
            # Nothing of the test process's own configuration leaks into the server's.
            **{
                k: v
                for k, v in os.environ.items()
                if k != "DATABASE_URL" and not k.startswith("FRONTLINE_")
            },
            "FRONTLINE_DATA_DIR": str(data_dir),
            "FRONTLINE_ENVIRONMENT": "development",
            "FRONTLINE_SYNC_MAX_REQUESTS_PER_MINUTE": "100000",
            **CHEAP_HASHING,
            **({"DATABASE_URL": database_url} if database_url else {}),
            **(env or {}),
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir / "server.log"

    def cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self, *, expect_status: int = 200, timeout: float = 60.0) -> None:
        """Start serving and wait until /healthz answers `expect_status` (503 for a server whose
        database is meant to be unreachable)."""
        self.pid = _ZYGOTE_PROCESS.fork(self.port, self.env, self.log_path)
        if self.pid is None:
            raise RuntimeError(f"the server could not start: {self.log_tail()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._alive():
                raise RuntimeError(f"the server exited: {self.log_tail()}")
            try:
                status = httpx.get(f"{self.url}/healthz", timeout=2).status_code
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            if status == expect_status:
                return
            time.sleep(0.1)
        raise RuntimeError(f"/healthz did not answer {expect_status} within {timeout:.0f} s")

    @property
    def process(self) -> int | None:
        """The running server's pid; None while it is stopped."""
        return self.pid

    def _alive(self) -> bool:
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM (a clean shutdown), or with `kill` SIGKILL: no shutdown code runs at all."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + 15
        while self._alive():
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                deadline = time.monotonic() + 15
            time.sleep(0.02)
        self.pid = None

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def api(self, email: str, password: str) -> httpx.Client:
        """A signed-in HTTP client, to check what the server holds."""
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=10)
        page = client.get("/login").text
        token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        response = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 303
        return client
