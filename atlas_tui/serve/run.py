"""Start the server: open the store, build the app, run uvicorn until stopped."""

from __future__ import annotations

import json
from typing import Any

from atlas_tui.config import Settings
from atlas_tui.serve.context import Options


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
        uvicorn.Server(config).run()
    finally:
        service.repository.close()


def _url(options: Options) -> str:
    host = f"[{options.host}]" if ":" in options.host else options.host
    return f"http://{host}:{options.port}"
