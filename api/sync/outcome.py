"""The one rule for what a submitted record's id means: created, duplicate, conflict or rejected."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class Outcome(StrEnum):
    created = "created"
    duplicate = "duplicate"
    rejected = "rejected"
    conflict = "conflict"


ACKNOWLEDGED = frozenset({Outcome.created, Outcome.duplicate})


# Built once: json.dumps with options builds a new encoder on every call, which was a third of
# the cost of fingerprinting an item on the sync path (bench/sync_ingest.py). Same output.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def content_hash(validated: dict[str, Any]) -> str:
    """A fingerprint of what the client sent (after validation), stable across key order."""
    return hashlib.sha256(_CANONICAL.encode(validated).encode()).hexdigest()


def fingerprint(record: BaseModel) -> str:
    """The content hash of a validated record. Fields a model added after its first release
    (`ADDED_LATER`: name → the value older clients meant) are left out while they hold that value,
    so a record queued on a phone before an upgrade and replayed after it is still a replay."""
    validated = record.model_dump(mode="json")
    for name, meant in getattr(record, "ADDED_LATER", {}).items():
        if validated.get(name) == meant:
            del validated[name]
    return content_hash(validated)


def replay_outcome(*, stored_hash: str, stored_owner: int, sent_hash: str, sender: int) -> Outcome:
    """An id we already hold: the same sender sending the same content again is a replay (success,
    nothing new); anything else under that id is a conflict and changes nothing."""
    if stored_owner == sender and stored_hash == sent_hash:
        return Outcome.duplicate
    return Outcome.conflict


# The single-record endpoints speak HTTP: 201 new, 200 replay, 409 clash, 422 invalid.
HTTP_STATUS = {
    Outcome.created: 201,
    Outcome.duplicate: 200,
    Outcome.conflict: 409,
    Outcome.rejected: 422,
}
