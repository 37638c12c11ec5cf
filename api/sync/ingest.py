"""Taking in submitted records, exactly once: validate each item on its own, insert the valid ones
with INSERT … ON CONFLICT DO NOTHING (the database enforces the client UUID, across every kind
through the record_identity table), and decide each item's outcome with the one rule in
outcome.py."""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Table, select
from sqlmodel import Session

from api.db import reading_connection, reading_for
from api.handovers.records import HANDOVER_KIND
from api.ideas.records import IDEA_KIND
from api.operations.metrics import count_sync_outcomes
from api.sync.bulk_insert import insert_claimed, insert_rows
from api.sync.kinds import RecordKind, Sender
from api.sync.outcome import Outcome, fingerprint, replay_outcome
from schemas.field_errors import FieldError, field_errors
from schemas.record_identity import RecordIdentity
from schemas.timestamps import utcnow

KINDS: dict[str, RecordKind] = {k.name: k for k in (IDEA_KIND, HANDOVER_KIND)}
IDENTITY: Table = RecordIdentity.__table__  # type: ignore[attr-defined]


@dataclass
class Submitted:
    """One item as it arrived: its kind and id may themselves be invalid."""

    kind: str
    id: str
    data: Any


@dataclass
class ItemResult:
    id: str
    kind: str
    outcome: Outcome
    errors: list[FieldError] = field(default_factory=list)
    # The row this request inserted, for a record it created (else None): a single create answers
    # from it instead of reading the record back (api/sync/http.py).
    row: dict[str, Any] | None = None


@dataclass
class _Valid:
    position: int
    kind: RecordKind
    record_id: uuid.UUID
    data: BaseModel
    digest: str
    # The id as an int, the key of this module's dicts and sets: a UUID's hash is Python code,
    # about a dozen a row (issue 16).
    key: int


def _validate(
    items: list[Submitted], allowed_kinds: frozenset[str] | None, results: list[ItemResult | None]
) -> list[_Valid]:
    """The items that pass validation; the refusal of each that does not, in `results`."""
    valid: list[_Valid] = []

    for position, item in enumerate(items):
        kind = KINDS.get(item.kind)
        if kind is None:
            results[position] = ItemResult(
                item.id,
                item.kind,
                Outcome.rejected,
                [FieldError(field="kind", message="kind must be idea or handover")],
            )
            continue
        if allowed_kinds is not None and kind.name not in allowed_kinds:
            results[position] = ItemResult(
                str(item.id),
                kind.name,
                Outcome.rejected,
                [FieldError(field="kind", message=f"Your account cannot send a {kind.name}")],
            )
            continue
        try:
            record_id = uuid.UUID(str(item.id))
        except ValueError:
            results[position] = ItemResult(
                str(item.id),
                kind.name,
                Outcome.rejected,
                [FieldError(field="id", message="id must be a UUID")],
            )
            continue
        if type(item.data) is kind.model:
            data = item.data  # validated by the route already (submit_one)
        elif not isinstance(item.data, dict):
            results[position] = ItemResult(
                str(record_id),
                kind.name,
                Outcome.rejected,
                [FieldError(field="data", message="data must be an object")],
            )
            continue
        else:
            try:
                data = kind.model.model_validate(item.data)
            except ValidationError as exc:
                results[position] = ItemResult(
                    str(record_id), kind.name, Outcome.rejected, field_errors(exc)
                )
                continue
        digest = fingerprint(data)
        valid.append(_Valid(position, kind, record_id, data, digest, record_id.int))
    return valid


# Two: one validating while another waits on the database or the disk (its fsync).
_VALIDATING = threading.BoundedSemaphore(2)


def ingest(
    session: Session,
    sender: Sender,
    items: list[Submitted],
    allowed_kinds: frozenset[str] | None = None,
) -> list[ItemResult]:
    """Outcomes in request order. Nothing about one item can stop another from being stored.
    `allowed_kinds`: what this user may send (a partner organisation's user: ideas only); None: any."""
    results: list[ItemResult | None] = [None] * len(items)
    # Validation is pure Python (the GIL held throughout): a few batches at a time, so that the
    # request holding the write lock is not starved of the GIL by a crowd of others validating
    # theirs and the lock is given back sooner (issue 16). No deadlock: validating waits on nothing.
    with _VALIDATING:
        valid = _validate(items, allowed_kinds, results)

    by_kind: dict[str, list[_Valid]] = defaultdict(list)
    for entry in valid:
        by_kind[entry.kind.name].append(entry)

    # Kinds in one fixed order, as ids within a kind (_store): every batch claims in one order.
    for kind_name, entries in sorted(by_kind.items()):
        kind = KINDS[kind_name]
        # Read before the write transaction (on SQLite): the references named are never deleted.
        with reading_connection(session) as reader:
            problems = kind.check_references(reader, [e.data for e in entries])
        storable = [e for e, errors in zip(entries, problems, strict=True) if not errors]
        created = _store(session, kind, sender, storable)
        # Whatever was not stored just now is judged against what the database holds, before its
        # reference problems: a stored record stays acknowledged even if, say, its partner
        # organisation has been deactivated since. New records need no such look-up.
        # Read in the write transaction when this batch stored something (it sees what it waited
        # for), else outside it on SQLite: a replay or a refusal never queues for the write lock.
        others = [e for e in entries if e.key not in created]
        stored: dict[uuid.UUID, tuple[str, int]] = {}
        elsewhere: set[uuid.UUID] = set()
        if others:
            with reading_for(session) as reader:
                stored = _stored(reader, kind, {e.record_id for e in others})
                # An id neither new nor of this kind may be another kind's record: a clash, never
                # a way in.
                elsewhere = _other_kind(
                    reader, kind, {e.record_id for e in others if e.record_id not in stored}
                )
        for entry, errors in zip(entries, problems, strict=True):
            first, row = created.get(entry.key, (None, None))
            if first is entry:
                outcome, errors = Outcome.created, []
            elif first is not None:
                # The same id twice in one batch: the first is stored, the rest are replays of it.
                outcome = replay_outcome(
                    stored_hash=first.digest,
                    stored_owner=sender.id,
                    sent_hash=entry.digest,
                    sender=sender.id,
                )
                errors = []
            elif entry.record_id in stored:
                stored_hash, stored_owner = stored[entry.record_id]
                outcome = replay_outcome(
                    stored_hash=stored_hash,
                    stored_owner=stored_owner,
                    sent_hash=entry.digest,
                    sender=sender.id,
                )
                errors = []
            elif entry.record_id in elsewhere:
                outcome, errors = Outcome.conflict, []
            else:
                # Not stored, not new: only a reference problem keeps a valid record out.
                if not errors:
                    raise RuntimeError(f"record {entry.record_id} was neither stored nor refused")
                outcome = Outcome.rejected
            # Only the entry a row was stored from answers with it (not its replays in the batch).
            results[entry.position] = ItemResult(
                str(entry.record_id), kind_name, outcome, errors, row if first is entry else None
            )

    answered = [r for r in results if r is not None]
    count_sync_outcomes(session, ((r.kind, r.outcome.value) for r in answered))
    return answered


def _stored(
    session: Session, kind: RecordKind, ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, int]]:
    """Content fingerprint and submitter of those of `ids` already stored."""
    if not ids:
        return {}
    owner = kind.table.c[kind.owner_column]
    found = session.execute(
        select(kind.table.c.id, kind.table.c.content_hash, owner).where(kind.table.c.id.in_(ids))
    )
    return {row[0]: (row[1], row[2]) for row in found}


def _other_kind(session: Session, kind: RecordKind, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `ids` that name a record of another kind."""
    if not ids:
        return set()
    found = session.execute(
        select(IDENTITY.c.id).where(IDENTITY.c.id.in_(ids), IDENTITY.c.kind != kind.name)
    )
    return {row[0] for row in found}


# No lock is taken for the per-day summaries: on PostgreSQL their triggers only append delta rows
# (migration 0016, api/measures/summary.py), so storing batches write side by side. (They took
# one advisory lock each, one batch after another, while the triggers upserted the same summary
# rows: two batches taking those rows in crossing orders deadlocked; decision 0012.)


def _store(
    session: Session, kind: RecordKind, sender: Sender, entries: list[_Valid]
) -> dict[int, tuple[_Valid, dict[str, Any]]]:
    """Inserts what is new, with its link rows; answers which entry each new id (by its key) was
    stored from, and the row inserted."""
    if not entries:
        return {}
    first: dict[int, _Valid] = {}
    for entry in entries:
        first.setdefault(entry.key, entry)
    # The rows are built before the first write: on SQLite the write lock (and this process's
    # writer turn) is held from the first INSERT to the commit, and Python work done in between
    # held back every other writer (issue 16).
    now = utcnow()
    rows = {
        key: kind.to_row(e.record_id, e.data, sender, e.digest, now) for key, e in first.items()
    }
    links_of = {key: kind.link_rows(e.record_id, e.data) for key, e in first.items()}

    # Claim each id for this kind first, in the same transaction: an id another kind (or a
    # concurrent request) holds is not claimed, so its record is not written here either. In id
    # order: two batches holding the same ids (a retry while the first try is still in flight)
    # wait for each other's claims in one order, so they cannot deadlock on them.
    if len(first) == 1:
        # One record (a single create): the same claim and insert, in one statement on
        # PostgreSQL (bulk_insert.insert_claimed).
        ((key, entry),) = first.items()
        claim = {"id": entry.record_id, "kind": kind.name}
        if not insert_claimed(session, IDENTITY, claim, kind.table, rows[key]):
            return {}
        created = {key: (entry, rows[key])}
    else:
        claimed = {
            record_id.int
            for record_id in insert_rows(
                session,
                IDENTITY,
                [{"id": first[key].record_id, "kind": kind.name} for key in sorted(first)],
                returning="id",
            )
        }
        if not claimed:
            return {}
        # One multi-row statement, compiled once for its number of rows (bulk_insert.py), with
        # RETURNING: what it answers is what was stored.
        created = {
            record_id.int: (first[record_id.int], rows[record_id.int])
            for record_id in insert_rows(
                session, kind.table, [rows[k] for k in first if k in claimed], returning="id"
            )
        }
    links: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    for key in created:
        for table, row in links_of[key]:
            links[table].append(row)
    for table, link_rows in links.items():
        insert_rows(session, table, link_rows, conflict_on_id=False)
    if kind.after_create is not None and created:
        kind.after_create(session, [(e.record_id, e.data) for e, _ in created.values()], sender)
    return created


def submit_one(
    session: Session,
    sender: Sender,
    kind: str,
    record_id: uuid.UUID,
    data: Any,
) -> ItemResult:
    """One record through the same path as a batch, so the outcome rule is the same everywhere.
    `data`: the record's fields as a batch item's (a dict, validated here), or a body the route
    has validated already (a subclass of the kind's model with the id beside its fields: see
    `validated_record`)."""
    if isinstance(data, BaseModel):
        data = validated_record(KINDS[kind].model, data)
    return ingest(session, sender, [Submitted(kind=kind, id=str(record_id), data=data)])[0]


def validated_record(model: type[BaseModel], body: BaseModel) -> BaseModel:
    """The kind's own model holding a validated body's fields (the id left out), built without
    validating them again: FastAPI validated the body with the same fields and rules (the
    `*Submission` models are the kind's model plus the id). Its JSON dump validated a second time
    cost about 15 µs a request more (issue 16, docs/performance.md "Seventh pass"); the
    fingerprint is the same, which tests/api/test_records.py holds across both routes."""
    if not isinstance(body, model):
        raise TypeError(f"{type(body).__name__} is not a {model.__name__}")
    fields = model.model_fields
    return model.model_construct(
        _fields_set=body.model_fields_set & fields.keys(),
        **{name: getattr(body, name) for name in fields},
    )
