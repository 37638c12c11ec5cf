"""What a benchmark ran on, printed beside its figures (they mean little without it)."""

from __future__ import annotations

import os
import platform
import sqlite3
from datetime import UTC, datetime
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def describe() -> list[str]:
    """Two lines: the date, then CPUs, memory, Python and SQLite."""
    memory = memory_gib()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    parts = [
        f"{os.cpu_count()} CPUs ({cpu_model()})",
        *([f"{memory:.0f} GiB"] if memory else []),
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
        *([f"load average {load:.2f} at start"] if load is not None else []),
    ]
    return [
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "machine: " + ", ".join(parts),
    ]
