"""How the serving process's Python runtime is set once the app has started (issue 16).

Python's cyclic garbage collector ran a first-generation collection every 700 net allocations of
container objects: several times within one sync batch (its parsed body alone is thousands of
dicts and lists, alive until the answer is sent), each scanning what the requests in flight still
held and moving it to the older generations, which were then scanned again; and a full collection
every few hundred requests scanned everything the app had built at start-up (about 150,000
objects: modules, routes, SQLAlchemy's tables, the templates), 70-190 ms during which every request
in flight waited. Large Python web services do the same two things as here (docs/performance.md
"Fifth pass")."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from api.push import delivery as push_delivery

# Net allocations of container objects between first-generation collections (Python's default is
# 700): a request's short-lived objects are mostly freed by reference counting before this many
# accumulate, so only what truly lives on (or is cyclic garbage) is ever scanned. Cyclic garbage
# waits for at most this many new objects before it is collected. 5,000 took nearly all of the
# collector's time away (a batch of 100: 2,136 collections in 620 requests → 7); 20,000 took no
# more and was slower on PostgreSQL in three paired runs of four (garbage kept longer, memory
# less warm): docs/performance.md "Fifth pass".
FIRST_GENERATION_THRESHOLD = 5_000

_settled = False


def settle_for_serving() -> None:
    """Once the app is built, once a process (an app started again in the same process, as tests
    do, changes nothing more): what start-up made is frozen out of the collector's scans (it lives
    as long as the process), after one collection so no garbage is frozen with it; and the first
    generation's threshold is raised (the older two keep theirs)."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_GENERATION_THRESHOLD, second, third)


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The app's lifespan: the runtime settled for serving, then push delivery in this process
    (VAPID keys and the in-process worker, api/push/delivery.py)."""
    settle_for_serving()
    async with push_delivery.lifespan(app):
        yield
