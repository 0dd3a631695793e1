"""Prometheus metrics at ``/metrics`` (prometheus_client, text exposition format).

- ``valuechain_http_request_duration_seconds`` (histogram): every HTTP request's time
  from its first byte in to its last byte out, by ``method``, ``route`` (the route's
  template such as ``/api/v1/units/{unit_id}``, never the raw path, so the number of
  series stays bounded; ``unmatched`` for a path no route serves) and ``status``.
- ``valuechain_queue_depth`` (gauge): tasks waiting in the Redis queue, when one is
  configured.
- ``valuechain_outbox_backlog`` (gauge): notification outbox rows of this app's
  organisation not sent yet (pending), and ``valuechain_outbox_failed`` those that
  gave up.
- the ``process_*`` metrics of this process (CPU, memory, open files).

The histogram and the ``process_*`` metrics are per process; the gauges are read from
the database and Redis at each scrape, so every process answers the same. Admins may
read ``/metrics`` (signed in, or with a session token as a bearer); with
``VALUECHAIN_METRICS_PUBLIC=true`` anyone may (a scraper on a private network).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.routing import iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from valuechain.domain.access import Action
from valuechain.domain.notification import Status
from valuechain.edge.dependencies import AccessRule
from valuechain.services import notification
from valuechain.services.organisation import Valuechain
from valuechain.web.probe import Queue

log = logging.getLogger(__name__)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class Gauges(Collector):
    """The gauges read at each scrape: queue depth and outbox backlog."""

    def __init__(self, vc: Valuechain, queue: Queue) -> None:
        self.vc = vc
        self.queue = queue

    def collect(self) -> Iterator[GaugeMetricFamily]:
        # A store that does not answer leaves its gauge out of this scrape (and
        # /readyz says which one): the other metrics are still worth having.
        redis = self.queue.redis
        if redis is not None:
            try:
                depth = redis.depth()
            except Exception as error:  # Redis down or unreachable
                log.warning("metrics: queue depth unavailable: %s", type(error).__name__)
            else:
                yield GaugeMetricFamily(
                    "valuechain_queue_depth", "Tasks waiting in the Redis queue.", value=depth
                )
        try:
            counts = notification.outbox(self.vc, limit=0).counts
        except Exception as error:  # the database down or unreachable
            log.warning("metrics: outbox backlog unavailable: %s", type(error).__name__)
            return
        yield GaugeMetricFamily(
            "valuechain_outbox_backlog",
            "Notification outbox rows not sent yet (pending).",
            value=counts.get(Status.PENDING.value, 0),
        )
        yield GaugeMetricFamily(
            "valuechain_outbox_failed",
            "Notification outbox rows that failed for good (retry at /admin/outbox).",
            value=counts.get(Status.FAILED.value, 0),
        )


class Metrics:
    """One app's registry: its latency histogram, gauges and process metrics (a
    registry per app, so apps built side by side in one process never mix counts)."""

    def __init__(self, vc: Valuechain, queue: Queue) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "valuechain_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.registry.register(Gauges(vc, queue))
        ProcessCollector(registry=self.registry)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


class RouteTemplates:
    """The full template of the route that served a request, read from the app's
    routes once (an included router's route knows only its own part of the path)."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.templates: dict[int, str] = {}
        self.mounts: list[str] = []
        for context in iter_route_contexts(routes):
            if context.path is None:
                continue
            if isinstance(context.original_route, Mount):
                self.mounts.append(context.path)
            else:
                self.templates[id(context.original_route)] = context.path

    def of(self, scope: Scope) -> str:
        """The template (a mount's path for its files), or ``unmatched``."""
        found = self.templates.get(id(scope.get("route")))
        if found is not None:
            return found
        path = str(scope.get("path", ""))
        return next((m for m in self.mounts if path.startswith(m + "/")), UNMATCHED)


class RequestLatency:
    """ASGI middleware: observes each HTTP request's duration in ``metrics``."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.routes: RouteTemplates | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an app that raises before answering is answered 500 outside

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        if self.routes is None:
            # Every route exists by the first request (the app factory has returned).
            self.routes = RouteTemplates(scope["app"].routes)
        try:
            await self.app(scope, receive, observed)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.latency.labels(method, self.routes.of(scope), str(status)).observe(
                time.perf_counter() - started
            )


def router(*, public: bool) -> APIRouter:
    """``GET /metrics``: for admins, or anyone when ``public``."""
    rule = AccessRule.public(csrf=False) if public else AccessRule(Action.VIEW_AUDIT)
    metrics_router = APIRouter(dependencies=[Depends(rule)], include_in_schema=False)

    @metrics_router.get("/metrics")
    def metrics(request: Request) -> Response:
        found: Metrics = request.app.state.metrics
        return Response(found.exposition(), media_type=CONTENT_TYPE_LATEST)

    return metrics_router
