"""Request ids, one log line per request (text or JSON), and Prometheus metrics.

Log lines carry the method, the route, the status, the time taken and the user: never a
header, a body or a query string, so no token or secret can reach a log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOGGER: Final = logging.getLogger("atlas.serve")
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        extra = " ".join(f"{key}={value}" for key, value in fields.items())
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        return f"{stamp} {record.levelname.lower()} {record.getMessage()} {extra}".rstrip()


def setup_logging(log_format: str, level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    for name in ("atlas", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False


class Metrics:
    """The server's Prometheus metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "atlas_http_requests",
            "HTTP requests by method, route and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "atlas_http_request_duration_seconds",
            "Time to answer, by method and route",
            ("method", "route"),
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.operations = Counter(
            "atlas_operations",
            "Inventory operations by kind and outcome (ok, refused, failed)",
            ("kind", "outcome"),
            registry=self.registry,
        )
        self.lock_waits = Histogram(
            "atlas_lock_wait_seconds",
            "Time writes waited for another writer's lock",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.idempotent_replays = Counter(
            "atlas_idempotent_replays",
            "Requests answered from an earlier request with the same Idempotency-Key",
            registry=self.registry,
        )
        self.webhooks = Counter(
            "atlas_webhook_deliveries",
            "Webhook delivery attempts by event type and outcome",
            ("event", "outcome"),
            registry=self.registry,
        )
        self.items = Gauge("atlas_items", "Items in the store", registry=self.registry)
        self._waits = threading.local()

    def lock_watcher(self, holder: str | None) -> None:
        """The repository's watch_lock callback: times each wait for the write lock."""
        if holder is not None:
            self._waits.started = time.perf_counter()
            return
        started = getattr(self._waits, "started", None)
        if started is not None:
            self.lock_waits.observe(time.perf_counter() - started)
            self._waits.started = None


class RequestLog:
    """ASGI middleware: a request id for each request (X-Request-ID, taken from the client
    when it is plain), its log line and its metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics, paths: Callable[[], Iterable[str]]) -> None:
        self.app = app
        self.metrics = metrics
        self._paths = paths
        self._templates: list[tuple[re.Pattern[str], str]] | None = None

    def templates(self) -> list[tuple[re.Pattern[str], str]]:
        """Every route's template as a pattern, for answers given before routing."""
        if self._templates is None:
            self._templates = [
                (re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"), path)
                for path in self._paths()
            ]
        return self._templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            route = _route(scope, self.templates)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            state = scope.get("state", {})
            LOGGER.info(
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "method": method,
                        "route": route,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                        "user": state.get("user", "-"),
                    }
                },
            )


def header(scope: Scope, name: bytes) -> str | None:
    """A request header's value (the first), by its lower-case name."""
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _route(scope: Scope, templates: Callable[[], list[tuple[re.Pattern[str], str]]]) -> str:
    """The route's template (/api/v1/items/{sku}), not the path: SKUs stay out of the
    metrics' labels, and unknown paths share one. Answers given before routing (401, 413,
    a replay) are matched here."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    for pattern, template in templates():
        if pattern.match(scope["path"]):
            return template
    return "(unmatched)"
