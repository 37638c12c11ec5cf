"""The floor for the sync benchmark: the same stack at its barest — FastAPI, pydantic and SQLite in
WAL mode, taking the same batches with one INSERT … ON CONFLICT DO NOTHING, no auth, no checks; and
the same for one record a request (POST /api/v1/handovers).
Run: FLOOR_DB=/tmp/floor.db uvicorn bench.floor_app:app"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

app = FastAPI()
_local = threading.local()
SYNCHRONOUS = os.environ.get("FLOOR_SYNCHRONOUS", "FULL")


def connection() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ["FLOOR_DB"], timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        conn.execute("CREATE TABLE IF NOT EXISTS item (id TEXT PRIMARY KEY, kind TEXT, data TEXT)")
        _local.conn = conn
    return conn


class Item(BaseModel):
    kind: str
    id: str
    data: dict[str, Any]


class Batch(BaseModel):
    items: list[Item]


@app.post("/api/v1/sync")
def sync(batch: Batch) -> dict[str, Any]:
    conn = connection()
    conn.execute("BEGIN IMMEDIATE")
    created: set[str] = set()
    for item in batch.items:
        cursor = conn.execute(
            "INSERT INTO item (id, kind, data) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
            (item.id, item.kind, json.dumps(item.data)),
        )
        created.update(row[0] for row in cursor.fetchall())
    conn.execute("COMMIT")
    return {
        "results": [
            {
                "id": i.id,
                "kind": i.kind,
                "outcome": "created" if i.id in created else "duplicate",
                "errors": [],
            }
            for i in batch.items
        ]
    }


class Record(BaseModel):
    """One note: its id beside whatever fields it has."""

    model_config = ConfigDict(extra="allow")

    id: str


@app.post("/api/v1/handovers", status_code=201)
def create(record: Record) -> dict[str, Any]:
    conn = connection()
    fields = record.model_dump(exclude={"id"})
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO item (id, kind, data) VALUES (?, 'handover', ?) ON CONFLICT (id) DO NOTHING",
        (record.id, json.dumps(fields)),
    )
    conn.execute("COMMIT")
    return {"id": record.id, **fields}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
