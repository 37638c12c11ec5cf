"""The floor for the sync benchmark: the same stack at its barest — FastAPI, pydantic and SQLite in
WAL mode, taking the same batches with one INSERT … ON CONFLICT DO NOTHING, no auth, no checks; and
the same for one record a request (POST /api/v1/handovers).
Run: FLOOR_DB=/tmp/floor.db uvicorn bench.floor_app:app

With FLOOR_DATABASE_URL=postgresql+psycopg://… it writes to PostgreSQL instead (its own table,
`floor_item`, in that database): psycopg with one connection per worker thread, the batch's rows
sent with executemany (pipelined) in one transaction, so Frontline on PostgreSQL is compared with
the same stack on the same database."""

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
POSTGRES_URL = os.environ.get("FLOOR_DATABASE_URL", "").replace(
    "postgresql+psycopg://", "postgresql://"
)


_CREATING = threading.Lock()  # CREATE TABLE IF NOT EXISTS races with itself on PostgreSQL


def pg_connection() -> Any:
    conn = getattr(_local, "pg", None)
    if conn is None:
        import psycopg

        conn = psycopg.connect(POSTGRES_URL)
        with _CREATING:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS floor_item (id uuid PRIMARY KEY, kind text, data jsonb)"
            )
            conn.commit()
        _local.pg = conn
    return conn


def store(rows: list[tuple[str, str, str]]) -> set[str]:
    """Inserts (id, kind, JSON) rows in one transaction; the ids that were new."""
    if POSTGRES_URL:
        conn = pg_connection()
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO floor_item (id, kind, data) VALUES (%s, %s, %s) "
                "ON CONFLICT (id) DO NOTHING RETURNING id::text",
                rows,
                returning=True,
            )
            created: set[str] = set()
            while True:
                created.update(row[0] for row in cursor.fetchall())
                if not cursor.nextset():
                    break
        conn.commit()
        return created
    sqlite = connection()
    sqlite.execute("BEGIN IMMEDIATE")
    created = set()
    for row in rows:
        cursor = sqlite.execute(
            "INSERT INTO item (id, kind, data) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
            row,
        )
        created.update(r[0] for r in cursor.fetchall())
    sqlite.execute("COMMIT")
    return created


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
    created = store([(i.id, i.kind, json.dumps(i.data)) for i in batch.items])
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
    fields = record.model_dump(exclude={"id"})
    store([(record.id, "handover", json.dumps(fields))])
    return {"id": record.id, **fields}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
