"""The lower bound of a sync batch's CPU: what the SPEC's per-item work alone costs, with no
database, no HTTP, no sign-in: reading the batch envelope, validating each idea with its field
rules (the blank rule, the PID guard, the lists, the references' types), the content fingerprint
that tells a replay from a conflict (SPEC §5), and the answer; and the same for a batch whose
every item is refused with field errors. Set beside the floor's whole per-item budget
(`bench/floor_app.py` through the same client, measured in the same run by bench.request_cpu),
it says how near the floor a batch of 100 could come if everything else cost nothing.

Run: python -m bench.mandatory_work"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.sync_ingest import Reference, batches


def _per_item_us(work: Callable[[bytes], Any], bodies: list[bytes], items: int) -> float:
    """Process CPU µs an item, the best of five passes over the bodies."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for body in bodies:
            work(body)
        best = min(best, (time.process_time() - started) / (len(bodies) * items))
    return best * 1e6


def measure(size: int = 100, count: int = 60) -> dict[str, float]:
    from pydantic import ValidationError

    from api.sync.outcome import fingerprint
    from api.sync.routes import SyncRequest
    from schemas.field_errors import field_errors
    from schemas.ideas import IdeaIn

    reference = Reference(partner_id=1, team_id=1, aim_ids=[1, 2])
    valid = [json.dumps(b).encode() for b in batches(count, size, reference)]
    refused_batches = batches(count, size, reference)
    for batch in refused_batches:
        for item in batch["items"]:
            # Three field errors an item: a blank title, an NHS number, an unknown waste.
            item["data"].update(
                title="\u200b \u200b", problem="Patient 943 476 5919 waited", wastes=["x"]
            )
    refused = [json.dumps(b).encode() for b in refused_batches]

    def envelope(body: bytes) -> Any:
        return SyncRequest.model_validate(json.loads(body))

    def validated(body: bytes) -> list[Any]:
        return [(uuid.UUID(i.id), IdeaIn.model_validate(i.data)) for i in envelope(body).items]

    def fingerprinted(body: bytes) -> list[Any]:
        return [(i, r, fingerprint(r)) for i, r in validated(body)]

    def answered(body: bytes) -> bytes:
        results = [
            {"id": str(i), "kind": "idea", "outcome": "created", "errors": []}
            for i, _, _ in fingerprinted(body)
        ]
        return json.dumps({"results": results}).encode()

    def refusals(body: bytes) -> bytes:
        results = []
        for item in envelope(body).items:
            try:
                IdeaIn.model_validate(item.data)
            except ValidationError as exc:
                errors = [{"field": e.field, "message": e.message} for e in field_errors(exc)]
                results.append(
                    {"id": item.id, "kind": "idea", "outcome": "rejected", "errors": errors}
                )
        assert len(results) == size
        return json.dumps({"results": results}).encode()

    return {
        "envelope": _per_item_us(envelope, valid, size),
        "validated": _per_item_us(validated, valid, size),
        "fingerprinted": _per_item_us(fingerprinted, valid, size),
        "answered": _per_item_us(answered, valid, size),
        "refused": _per_item_us(refusals, refused, size),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100)
    args = parser.parse_args()
    figures = measure(args.size)
    from bench.request_cpu import measure_floor

    floor = measure_floor(requests=25, rounds=4, sizes=[1, args.size])
    floor_batch = floor[args.size]
    floor_item = (floor[args.size] - floor[1]) / (args.size - 1) * 1000
    print(f"process CPU µs an item, batches of {args.size} fresh ideas, no database, no HTTP")
    print(f"  the envelope (JSON, SyncRequest)                     {figures['envelope']:6.1f}")
    print(f"  + each idea validated (field rules, blank, PID)      {figures['validated']:6.1f}")
    print(f"  + its content fingerprint                            {figures['fingerprinted']:6.1f}")
    print(f"  + the answer written                                 {figures['answered']:6.1f}")
    print(f"  a refused batch (3 field errors an item), answered   {figures['refused']:6.1f}")
    print(
        f"the floor, the whole request through the same client: {floor_batch:.2f} ms a batch of "
        f"{args.size}, {floor_item:.1f} µs an item beyond the first"
    )
    bound = figures["answered"] * args.size / 1000
    # The floor's request already includes an envelope: only what Frontline must add is added.
    added = bound - figures["envelope"] * args.size / 1000
    print(f"this work alone: {bound:.2f} ms a batch of {args.size}")
    print(
        f"  floor ÷ it: {floor_batch / bound:.2f} (if HTTP, sign-in, storing and the commit were free)"
    )
    print(
        f"  floor ÷ (floor + what Frontline must add to it): {floor_batch / (floor_batch + added):.2f}"
        " (the best ratio on CPU if storing cost no more than the floor's)"
    )


if __name__ == "__main__":
    main()
