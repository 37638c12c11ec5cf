"""`/metrics` in Prometheus text format, for operators: requests by route template, sync outcomes,
the push queue and the database pool. Off unless configured; never through the public proxy.

Each app process keeps its own counters and is scraped on its own port (no multiprocess mode: no
shared directory to clean at restart, and a dead process's counters go with it, as Prometheus
expects of a restarted target). The push queue is read from the database at scrape time, so every
process reports the same, database-wide, figures for it."""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import Settings, get_settings
from schemas.push import PushDelivery

REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "frontline_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "frontline_http_request_duration_seconds",
    "Time from request to the end of the response, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
SYNC_ITEMS = Counter(
    "frontline_sync_items",
    "Records submitted (batch sync and single-record POSTs), by kind and outcome, once committed.",
    ["kind", "outcome"],
    registry=REGISTRY,
)

UNMATCHED = (
    "unmatched"  # a path no route knows: never the raw path (unbounded labels, personal data)
)


def route_template(scope: Scope, app: Any, path: str) -> str:
    """The route's path template (`/api/v1/ideas/{record_id}`), as FastAPI matched it."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if template:
        return str(template)
    # Mounts (static files, the worker's modules) leave no scope["route"] and rewrite the scope's
    # root path as they route: match the request's own path against them again.
    plain = {"type": "http", "path": path, "root_path": "", "method": scope.get("method")}
    for candidate in getattr(getattr(app, "router", None), "routes", []):
        match, _ = candidate.matches(plain)
        if match is Match.FULL and hasattr(candidate, "path"):
            return str(candidate.path) or "/"
    return UNMATCHED


class RequestMetrics:
    """ASGI middleware: counts and times every HTTP request by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        app, path = scope.get("app"), scope.get("path", "")

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            method = scope.get("method", "GET")
            route = route_template(scope, app, path)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


_PENDING = "frontline_metrics_sync_outcomes"


def count_sync_outcomes(session: Session, outcomes: Iterable[tuple[str, str]]) -> None:
    """Count (kind, outcome) pairs when this session's transaction commits: a batch that rolls
    back (the database went away) was never acknowledged, so it is not counted."""
    pending: Tally[tuple[str, str]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = Tally()
    pending.update(outcomes)


# Listened to once for every session (a dictionary look-up for those with nothing to count):
# listening on each sync request's own session cost more than the rest of the counting (issue 16).
@event.listens_for(Session, "after_commit")
def _flush_counts(session: Session) -> None:
    pending: Tally[tuple[str, str]] | None = session.info.get(_PENDING)
    if not pending:
        return
    for (kind, outcome), number in pending.items():
        SYNC_ITEMS.labels(kind, outcome).inc(number)
    pending.clear()


@event.listens_for(Session, "after_rollback")
def _drop_counts(session: Session) -> None:
    pending: Tally[tuple[str, str]] | None = session.info.get(_PENDING)
    if pending is not None:
        pending.clear()


class DatabaseCollector(Collector):
    """Read at scrape time: this process's connection pool, and the push queue in the database."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from api.db import get_engine, pool_capacity

        engine = get_engine()
        pool: Any = engine.pool
        in_use = GaugeMetricFamily(
            "frontline_db_pool_connections_in_use",
            "Database connections this process has checked out of its pool.",
        )
        in_use.add_metric([], pool.checkedout() if hasattr(pool, "checkedout") else 0)
        yield in_use
        capacity = GaugeMetricFamily(
            "frontline_db_pool_capacity",
            "Connections this process may open (pool size plus overflow).",
        )
        capacity.add_metric([], pool_capacity(engine))
        yield capacity

        up = GaugeMetricFamily(
            "frontline_db_up", "1 when the database answered this scrape's queries, else 0."
        )
        deliveries = GaugeMetricFamily(
            "frontline_push_deliveries",
            "Push notifications in the database queue by status: pending (the queue depth), "
            "failed (given up, kept 30 days), sent (kept 30 days). Database-wide.",
            labels=["status"],
        )
        retrying = GaugeMetricFamily(
            "frontline_push_deliveries_retrying",
            "Pending push notifications that have failed at least once and wait to retry.",
        )
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    select(PushDelivery.status, func.count()).group_by(PushDelivery.status)  # type: ignore[arg-type]
                ).all()
                retries = connection.execute(
                    select(func.count()).where(
                        PushDelivery.status == "pending",  # type: ignore[arg-type]
                        PushDelivery.attempts > 0,  # type: ignore[arg-type]
                    )
                ).scalar_one()
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        counts = {str(status): int(number) for status, number in rows}
        for status in ("pending", "failed", "sent"):
            deliveries.add_metric([status], counts.get(status, 0))
        yield deliveries
        retrying.add_metric([], int(retries))
        yield retrying


REGISTRY.register(DatabaseCollector())


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """Off (False) unless a token or an address list is configured; with both, both must hold.
    The address is the socket peer, never X-Forwarded-For: scrape the app port directly."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    networks = settings.metrics_networks
    if not token and not networks:
        return False
    if networks:
        peer = request.client.host if request.client else ""
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        if not any(address in network for network in networks):
            return False
    if token:
        sent = request.headers.get("authorization", "")
        scheme, _, credential = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            credential.strip().encode(), token.encode()
        ):
            return False
    return True


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """404 to anyone not allowed, as if there were nothing here (it is off by default)."""
    if not metrics_allowed(request, get_settings()):
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
