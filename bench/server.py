"""Start a Frontline server on a temporary SQLite database for a benchmark, and sign in to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BenchServer:
    def __init__(self, data_dir: Path, log: Path | None = None, **env: str) -> None:
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith("FRONTLINE_") and k != "DATABASE_URL"
            },
            "FRONTLINE_DATA_DIR": str(data_dir),
            "FRONTLINE_SYNC_MAX_REQUESTS_PER_MINUTE": "1000000",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def start(self, prefix: list[str] | None = None) -> None:
        """`prefix`: a command to run the server under, such as `taskset -c 0`."""
        output = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [*(prefix or []), sys.executable, "-m", "api.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=output,
            stderr=output,
        )
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=15)

    def signed_in(self, email: str, password: str) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=60)
        token = (
            client.get("/login").text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        )
        response = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        if response.status_code != 303:
            raise RuntimeError("sign-in failed")
        return client


def app_engine(data_dir: Path) -> Any:
    """The app's own engine (its pragmas, its settings) on `data_dir`'s database, made afresh:
    one process may seed several temporary databases in turn."""
    os.environ["FRONTLINE_DATA_DIR"] = str(data_dir)
    from api.config import get_settings
    from api.db import get_engine

    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()
    return get_engine()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
