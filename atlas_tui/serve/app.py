"""The FastAPI application: routes, middlewares, health, readiness and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from atlas_tui import __version__
from atlas_tui.config import Settings
from atlas_tui.serve import models, problems
from atlas_tui.serve.context import Options, Server, server_of
from atlas_tui.serve.gate import OPEN, BodyLimit, Idempotency, TokenCheck
from atlas_tui.serve.observe import LOGGER, Metrics, RequestLog
from atlas_tui.services.inventory import InventoryService
from atlas_tui.storage.requests import open_requests

DESCRIPTION = """\
The ATLAS inventory over HTTP: the same operations, rules and messages as the app and
the CLI. Send `Authorization: Bearer <token>` (`atlas token create USER`); the token's user
is recorded on every change and their role decides what they may do. Errors are
`application/problem+json` (RFC 9457) whose `field` names the value at fault. Send an
`Idempotency-Key` with a change and a retry gets the first answer instead of a second
change. Item answers carry an `ETag`; send it back as `If-Match` and a change to an item
that changed meanwhile is refused (412).
"""


def create_app(settings: Settings, service: InventoryService, options: Options) -> FastAPI:
    """The API over an open service (its repository stays open while the app lives)."""
    app = FastAPI(
        title="ATLAS",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    metrics = Metrics()
    server = Server(settings, service, metrics)
    app.state.atlas = server
    service.repository.watch_lock(metrics.lock_watcher)

    from atlas_tui.serve.routes_admin import router as admin
    from atlas_tui.serve.routes_items import router as items
    from atlas_tui.serve.routes_more import router as more

    app.include_router(admin)  # first: /items/batch before /items/{sku}
    app.include_router(items)
    app.include_router(more)
    _problem_schema(app)
    _operations(app)
    app.add_exception_handler(problems.Problem, problems.on_problem)
    app.add_exception_handler(RequestValidationError, problems.on_validation)
    app.add_exception_handler(HTTPException, problems.on_http)
    app.add_exception_handler(Exception, _internal)

    replays = open_requests(service.repository) if service.repository.backend != "none" else None
    # Starlette wraps each new middleware round the ones before: the request meets them in
    # the reverse order, RequestLog first, Idempotency last.
    if replays is not None:  # (none where only the routes are wanted: the schema)
        app.add_middleware(Idempotency, store=replays, metrics=metrics)
    app.add_middleware(TokenCheck, authenticate=service.access.authenticate)
    app.add_middleware(BodyLimit, limit=options.body_limit, upload_limit=options.upload_limit)
    if options.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(options.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
            expose_headers=["ETag", "X-Request-ID"],
        )
    app.add_middleware(RequestLog, metrics=metrics, paths=lambda: app.openapi()["paths"])
    return app


async def _internal(request: Request, exc: Exception) -> Response:
    """A bug: logged with the request id (the type only; no values), answered as 500."""
    LOGGER.error(
        "internal error",
        exc_info=exc,
        extra={"fields": {"request_id": getattr(request.state, "request_id", "-")}},
    )
    problem = problems.Problem(500, f"internal error: {type(exc).__name__}")
    return problems.response(problem, request)


def _problem_schema(app: FastAPI) -> None:
    """The routes' problem+json answers refer to shared responses and ProblemDetails: put
    them in the schema's components; and say which operations need the bearer token."""
    built = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = built()
            parts = schema.setdefault("components", {})
            parts.setdefault("schemas", {})["ProblemDetails"] = (
                models.ProblemDetails.model_json_schema()
            )
            parts["responses"] = problems.components()
            parts["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token of `atlas token create USER`",
                }
            }
            for path, operations in schema.get("paths", {}).items():
                if path not in OPEN:
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(app: FastAPI) -> None:
    @app.get("/healthz", response_model=models.Health, tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process answers."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        response_model=models.Ready,
        response_model_exclude_none=True,
        responses={503: {"model": models.Ready}},
        tags=["operations"],
    )
    def readyz(request: Request, response: Response) -> dict[str, Any]:
        """The store can be read and written (a write lock is taken and let go)."""
        server = server_of(request)
        repository = server.service.repository
        try:
            repository.version()
            with repository.transaction():
                repository.count()
        except Exception as exc:
            response.status_code = 503
            return {"status": "unavailable", "backend": repository.backend, "detail": str(exc)}
        return {"status": "ready", "backend": repository.backend}

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def metrics(request: Request) -> Response:
        """Prometheus text format."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        server = server_of(request)
        try:
            server.metrics.items.set(server.service.repository.count())
        except Exception:  # a store that cannot be read still has metrics to show
            LOGGER.warning("metrics: the store could not be counted")
        body = generate_latest(server.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
