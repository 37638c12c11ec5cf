"""Sending what `notify` queued: claim due deliveries, send each with pywebpush, record the answer.

- 2xx: sent. 404/410: the browser unsubscribed or the subscription expired — the subscription and
  its queued deliveries are deleted. 429, 5xx, timeouts and network errors: tried again later with
  exponential backoff and jitter (a Retry-After is respected, up to the cap), until MAX_ATTEMPTS.
  Anything else (another 4xx, a redirect): failed, not retried.
- Claims are leases (`claim_token`, `next_attempt_at` moved to the lease's end) taken with
  FOR UPDATE SKIP LOCKED on PostgreSQL and under SQLite's single writer, so any number of workers —
  the app's in-process thread in each web process, `frontline worker` processes — never send one
  row twice; a worker that dies leaves rows that come due again when its lease ends.
- The in-process worker is a thread started by the app's lifespan (`lifespan`, or
  `start_in_process_worker`); FRONTLINE_PUSH_WORKER=off leaves delivery to `frontline worker`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import requests
from sqlalchemy import Connection, Engine, event
from sqlmodel import Session

from api.config import get_settings
from api.db import WRITE_OPTION, get_engine
from api.push import repository
from api.push.keys import VapidKeys, vapid_keys
from api.push.outbound import refused, use_checked_connections
from api.push.settings import DEFAULT_SUBJECT, push_settings
from schemas.push import encode_base64url, endpoint_problem
from schemas.timestamps import utcnow

logger = logging.getLogger("frontline.push")

# A phone out of signal for a shift still gets its news; older than this it is no longer news.
TTL = timedelta(hours=12)
MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
SEND_TIMEOUT = (5.0, 10.0)  # seconds to connect, seconds to answer
DEFAULT_LIMIT = 50
DEFAULT_INTERVAL = 5.0
KEEP_FINISHED = timedelta(days=7)
PRUNE_EVERY = 3600.0  # seconds
RETRYABLE = frozenset({429, 500, 502, 503, 504})
GONE = frozenset({404, 410})
_random = secrets.SystemRandom()


class _NoRedirects(requests.Session):
    """A push service answers; it does not send us elsewhere. Following a redirect would let an
    endpoint steer the worker to another host, so a 3xx is returned as the answer (and fails).
    Connections go only to checked addresses (api/push/outbound.py)."""

    def __init__(self) -> None:
        super().__init__()
        use_checked_connections(self)

    def get_redirect_target(self, resp: requests.Response) -> None:  # type: ignore[override]
        return None


@dataclass(frozen=True)
class _Answer:
    status: int | None  # None: no HTTP answer at all
    error: str | None  # what to record: "410", "timeout", "network"; None when sent
    retry_after: str | None = None


def deliver_due(
    engine: Engine,
    limit: int = DEFAULT_LIMIT,
    *,
    now: datetime | None = None,
    keys: VapidKeys | None = None,
) -> int:
    """Claim up to `limit` due deliveries and send each. Returns how many were handled (sent,
    rescheduled, failed or dropped with their subscription). `now` is the clock the queue is read
    and written with (tests move it forward to reach a retry)."""
    now = now or utcnow()
    keys = keys or vapid_keys()
    token = secrets.token_hex(16)
    # Long enough for every claimed row to time out in turn; we stop early rather than overrun it.
    lease = timedelta(seconds=limit * sum(SEND_TIMEOUT) + 60)
    deadline = time.monotonic() + lease.total_seconds() - sum(SEND_TIMEOUT) - 30
    with _transaction(engine) as connection:
        claimed = repository.claim_due(
            connection, token=token, now=now, lease_until=now + lease, limit=limit
        )
    if not claimed:
        return 0

    counts = {"sent": 0, "retry": 0, "failed": 0, "gone": 0}
    gone: set[int] = set()
    handled = 0
    try:
        with _NoRedirects() as http:
            for delivery in claimed:
                if time.monotonic() > deadline:
                    break
                handled += 1
                if delivery.subscription_id in gone:
                    continue  # deleted with its subscription a moment ago
                if now - delivery.created_at > TTL:
                    with _transaction(engine) as connection:
                        repository.mark_failed(
                            connection, delivery, token, error="expired", attempted=False
                        )
                    counts["failed"] += 1
                    continue
                outcome = _record(engine, delivery, token, _send(http, keys, delivery), now)
                counts[outcome] += 1
                if outcome == "gone":
                    gone.add(delivery.subscription_id)
    finally:
        # Whatever was claimed and not reached is due again at once, not at the lease's end.
        with _transaction(engine) as connection:
            repository.release(connection, token, now)
    logger.info(
        "push deliveries handled",
        extra={"event": "push_delivery", "count": handled, "status": counts},
    )
    return handled


def _send(http: requests.Session, keys: VapidKeys, delivery: repository.DueDelivery) -> _Answer:
    # Imported here: pywebpush brings aiohttp (half a second), which only the sender needs, not
    # every app process and command at start.
    from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]

    settings = get_settings()
    if endpoint_problem(
        delivery.endpoint,
        allow_loopback_http=not settings.is_production,
        allowed_hosts=settings.push_host_patterns if settings.is_production else None,
    ):
        # Stored before the policy tightened (or FRONTLINE_PUSH_HOSTS changed): not sent.
        return _Answer(None, "refused")
    try:
        webpush(
            subscription_info={
                "endpoint": delivery.endpoint,
                "keys": {"p256dh": delivery.p256dh, "auth": delivery.auth},
            },
            # "counts" is the summary's bookkeeping (api/push/service.py), not for the phone.
            data=json.dumps(
                {k: v for k, v in delivery.payload.items() if k != "counts"},
                separators=(",", ":"),
                ensure_ascii=False,
            ),
            vapid_private_key=keys.signer(),
            # A new dict each time: webpush writes the audience and expiry into it.
            vapid_claims={"sub": keys.subject},
            ttl=int(TTL.total_seconds()),
            headers={"Urgency": "normal", "Topic": topic(delivery.payload.get("tag", ""))},
            timeout=SEND_TIMEOUT,  # type: ignore[arg-type]
            requests_session=http,
        )
    except WebPushException as exc:
        status = exc.status_code
        if status is None:
            return _Answer(None, "error")  # the request could not be made (a malformed key)
        return _Answer(status, str(status), exc.retry_after)
    except requests.Timeout:
        return _Answer(None, "timeout")
    except requests.RequestException as exc:
        if refused(exc):
            # The endpoint's host resolves into the trust's network (or loopback in production):
            # failed, not retried, and logged without the endpoint itself.
            logger.warning(
                "push endpoint refused", extra={"event": "push_refused", "error": "address"}
            )
            return _Answer(None, "refused")
        return _Answer(None, "network")
    except Exception as exc:
        # Whatever else (a key the encryption refuses): this row fails rather than blocking the
        # queue by being claimed first in every round.
        logger.error(
            "push delivery could not be made",
            extra={"event": "push_send_error", "error": type(exc).__name__},
        )
        return _Answer(None, "error")
    return _Answer(200, None)


def _record(
    engine: Engine,
    delivery: repository.DueDelivery,
    token: str,
    answer: _Answer,
    now: datetime,
) -> str:
    with _transaction(engine) as connection:
        if answer.error is None:
            repository.mark_sent(connection, delivery, token, utcnow())
            return "sent"
        if answer.status in GONE:
            repository.delete_subscription(connection, delivery.subscription_id)
            return "gone"
        retryable = answer.status in RETRYABLE or answer.error in {"timeout", "network"}
        attempts = delivery.attempts + 1
        if retryable and attempts < MAX_ATTEMPTS:
            delay = retry_delay(attempts, answer.retry_after, now)
            repository.reschedule(
                connection, delivery, token, next_attempt_at=now + delay, error=answer.error
            )
            return "retry"
        repository.mark_failed(connection, delivery, token, error=answer.error, attempted=True)
        return "failed"


def retry_delay(
    attempts: int,
    retry_after: str | None = None,
    now: datetime | None = None,
    random: Callable[[], float] = _random.random,
) -> timedelta:
    """After `attempts` failed tries: between half and all of BACKOFF_BASE × 2^(attempts−1),
    capped at BACKOFF_CAP ("equal jitter": always backing off, never all workers in step). A
    Retry-After asking for longer is obeyed, up to the cap."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** min(attempts - 1, 20)))
    delay = ceiling / 2 + ceiling / 2 * random()
    asked = retry_after_delay(retry_after, now or utcnow())
    if asked is not None:
        delay = max(delay, min(asked, BACKOFF_CAP))
    return delay


MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60


def retry_after_delay(header: str | None, now: datetime) -> timedelta | None:
    """A Retry-After value (seconds or an HTTP date) as a delay; None when absent or unreadable."""
    if not header:
        return None
    text = header.strip()
    if text.isascii() and text.isdigit():
        # A push service asking for years is taken at its word up to a day: timedelta overflows
        # past about 2.7 million years, and the message's own time to live is 12 hours anyway.
        return timedelta(seconds=min(int(text), MAX_RETRY_AFTER_SECONDS))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(timedelta(0), when - now)


def topic(tag: str) -> str:
    """RFC 8030 Topic (≤ 32 base64url characters): while a phone is offline, a newer message for
    the same record replaces the older one at the push service instead of queueing behind it."""
    return encode_base64url(hashlib.sha256(tag.encode()).digest()[:24])


def prune(engine: Engine, now: datetime | None = None) -> int:
    """Delete sent and failed deliveries older than KEEP_FINISHED."""
    with _transaction(engine) as connection:
        return repository.prune_finished(connection, (now or utcnow()) - KEEP_FINISHED)


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    """A short writer's transaction (BEGIN IMMEDIATE on SQLite), committed on leaving."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            yield connection


# The worker loop: in-process thread or `frontline worker`.

_running: set[DeliveryLoop] = set()
_running_lock = threading.Lock()
_WAKE_KEY = "frontline_push_wake"


class DeliveryLoop:
    """deliver_due every `interval` seconds (at once while a full batch came back, and when this
    process commits a new notification), pruning finished rows hourly, until stopped."""

    def __init__(
        self, engine: Engine, *, interval: float = DEFAULT_INTERVAL, limit: int = DEFAULT_LIMIT
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.limit = limit
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        with _running_lock:
            _running.add(self)
        failures = 0
        next_prune = time.monotonic()
        try:
            while not self._stop.is_set():
                handled = 0
                try:
                    if time.monotonic() >= next_prune:
                        prune(self.engine)
                        next_prune = time.monotonic() + PRUNE_EVERY
                    handled = deliver_due(self.engine, self.limit)
                    failures = 0
                except Exception as exc:
                    # The database is away or a bug: say which kind, keep going, wait longer.
                    failures += 1
                    logger.error(
                        "push delivery round failed",
                        extra={"event": "push_worker_error", "error": type(exc).__name__},
                    )
                if handled < self.limit or failures:
                    # After failures: longer waits, up to a minute (or the interval, if longer).
                    backoff = self.interval * 2 ** min(failures, 4)
                    self._wake.wait(min(backoff, max(60.0, self.interval)))
                    self._wake.clear()
        finally:
            with _running_lock:
                _running.discard(self)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.run, name="frontline-push", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def _wake_running(_session: Any) -> None:
    with _running_lock:
        loops = list(_running)
    for loop in loops:
        loop.wake()


def wake_after_commit(session: Session) -> None:
    """When `session` commits, the delivery loops of this process start at once rather than at
    their next tick (a rollback wakes nobody, and nothing is sent before the commit)."""
    if not session.info.get(_WAKE_KEY):
        session.info[_WAKE_KEY] = True
        event.listen(session, "after_commit", _wake_running)


def _check_keys() -> None:
    """Load (or make) the keys now, so bad configuration stops the process at start."""
    keys = vapid_keys()
    if keys.subject == DEFAULT_SUBJECT and get_settings().is_production:
        # Apple's push service refuses a localhost subject (403 BadJwtToken): iPhones get nothing.
        logger.warning(
            "FRONTLINE_VAPID_SUBJECT is not set; iPhones will not receive notifications",
            extra={"event": "vapid_subject_default"},
        )


def start_in_process_worker(
    app: Any = None, *, engine: Engine | None = None, interval: float = DEFAULT_INTERVAL
) -> DeliveryLoop | None:
    """Make or load the VAPID keys (so push works with no configuration), then — unless
    FRONTLINE_PUSH_WORKER=off — start the delivery thread. Kept on `app.state.push_worker`."""
    _check_keys()
    loop: DeliveryLoop | None = None
    if push_settings().worker_enabled:
        loop = DeliveryLoop(engine or get_engine(), interval=interval)
        loop.start_thread()
        logger.info("push worker started in process", extra={"event": "push_worker_start"})
    if app is not None:
        app.state.push_worker = loop
    return loop


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """FastAPI lifespan: the in-process worker runs while the app serves."""
    loop = start_in_process_worker(app)
    try:
        yield
    finally:
        if loop is not None:
            loop.stop()
            # A send in flight finishes (or times out) first; the thread is a daemon regardless.
            await anyio.to_thread.run_sync(loop.join, sum(SEND_TIMEOUT) + 5)


def run_worker(engine: Engine, *, interval: float = DEFAULT_INTERVAL, once: bool = False) -> int:
    """`frontline worker`: the loop in the foreground until SIGTERM or SIGINT; with `once`, send
    what is due now and return how many were handled."""
    _check_keys()
    if once:
        total = 0
        while (handled := deliver_due(engine)) > 0:
            total += handled
            if handled < DEFAULT_LIMIT:
                break
        prune(engine)
        return total
    loop = DeliveryLoop(engine, interval=interval)

    def stop(_signum: int, _frame: Any) -> None:
        loop.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("push worker started", extra={"event": "push_worker_start"})
    loop.run()
    logger.info("push worker stopped", extra={"event": "push_worker_stop"})
    return 0
