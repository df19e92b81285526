"""Start the server: open the store, build the app, run uvicorn until stopped."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from atlas_tui.config import Settings
from atlas_tui.serve.context import Options

if TYPE_CHECKING:
    import uvicorn

    from atlas_tui.serve.observe import Metrics
    from atlas_tui.services.inventory import InventoryService
    from atlas_tui.services.webhooks import Dispatcher


class _Routes:
    """Stands in for the service where only the routes are wanted (the schema): no store
    is opened."""

    class repository:
        backend = "none"

        @staticmethod
        def watch_lock(watcher: object) -> None:
            pass

    class access:
        @staticmethod
        def authenticate(token: str) -> None:
            return None


def openapi(settings: Settings) -> dict[str, Any]:
    """The schema, as committed in openapi.json."""
    from atlas_tui.serve.app import create_app

    schema: dict[str, Any] = create_app(settings, _Routes(), Options()).openapi()  # type: ignore[arg-type]
    return schema


def print_openapi(settings: Settings) -> str:
    return json.dumps(openapi(settings), indent=2) + "\n"


def serve(settings: Settings, options: Options) -> None:
    """Run until SIGINT or SIGTERM; requests under way are let finish."""
    import uvicorn

    from atlas_tui.factory import make_service
    from atlas_tui.serve.app import create_app
    from atlas_tui.serve.observe import LOGGER, setup_logging

    setup_logging(options.log_format)
    service = make_service(settings=settings)
    app = create_app(settings, service, options)
    hooks = _webhooks(settings, app.state.atlas.metrics)
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    LOGGER.info(
        "serving",
        extra={"fields": {"store": service.repository.label, "url": _url(options)}},
    )
    try:
        if options.web_port is None:
            uvicorn.Server(config).run()
        else:
            asyncio.run(_with_web(uvicorn.Server(config), settings, service, options))
    finally:
        if hooks is not None and not hooks.stop():
            LOGGER.warning("webhooks: a delivery was cut short; it is sent again next start")
        service.repository.close()


async def _with_web(
    server: uvicorn.Server, settings: Settings, service: InventoryService, options: Options
) -> None:
    """The API and the app in a browser in one event loop; both stop with the API (uvicorn
    handles SIGINT and SIGTERM)."""
    from atlas_tui.serve.observe import LOGGER
    from atlas_tui.web.server import build_web_app, start_web_app

    assert options.web_port is not None
    web = build_web_app(settings, service.access.authenticate, public_url=options.public_url)
    runner, url = await start_web_app(web, options.host, options.web_port)
    LOGGER.info("app in a browser", extra={"fields": {"url": url}})
    try:
        await server.serve()
    finally:
        await runner.cleanup()


def _webhooks(settings: Settings, metrics: Metrics) -> Dispatcher | None:
    """The webhook dispatcher, started (None when no rule is set, or another process
    already delivers this store's events: then that one does)."""
    from atlas_tui.domain.errors import ConflictError
    from atlas_tui.serve.observe import LOGGER
    from atlas_tui.services.webhooks import Dispatcher

    if not settings.webhooks:
        return None

    def counted(kind: str, ok: bool) -> None:
        metrics.webhooks.labels(kind, "ok" if ok else "failed").inc()

    dispatcher = Dispatcher(settings, on_attempt=counted)  # ConfigError: an unset secret
    try:
        dispatcher.start()
    except ConflictError as exc:
        LOGGER.info("webhooks: delivered by another process", extra={"fields": {"why": str(exc)}})
        return None
    LOGGER.info("webhooks: delivering", extra={"fields": {"rules": len(settings.webhooks)}})
    return dispatcher


def _url(options: Options) -> str:
    host = f"[{options.host}]" if ":" in options.host else options.host
    return f"http://{host}:{options.port}"
