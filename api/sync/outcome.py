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


def fingerprint(validated: BaseModel) -> str:
    """content_hash of a validated record. A field a kind added later (its ADDED_LATER) is left out
    while it holds its default, so an item queued on a phone before the field existed, and
    replayed after, still matches the fingerprint stored then: a duplicate, not a conflict."""
    dumped = validated.model_dump(mode="json")
    defaults = {
        name: type(validated).model_fields[name].get_default(call_default_factory=True)
        for name in getattr(validated, "ADDED_LATER", ())
    }
    for name, default in defaults.items():
        if dumped.get(name) == default:
            dumped.pop(name, None)
    return content_hash(dumped)


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
