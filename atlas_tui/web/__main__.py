"""Serve the app in a browser on its own: `python -m atlas_tui.web --db STORE [--port N]`.

What `atlas serve --web` runs, without the REST API: visitors log in with a token of the
store's users (`atlas user add`, `atlas token create`). Prints `serving on URL` once
listening; --port 0 takes a free port. Stops on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from atlas_tui.api import failure
from atlas_tui.config import Settings
from atlas_tui.factory import make_service
from atlas_tui.text import safe_text
from atlas_tui.web.server import DEFAULT_RECHECK, build_web_app, start_web_app


async def _serve(app: web.Application, host: str, port: int) -> None:
    runner, url = await start_web_app(app, host, port)
    print(f"serving on {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atlas_tui.web", description=__doc__)
    parser.add_argument("--db", help="the store (default: as for atlas)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--public-url", help="the address browsers use, behind a proxy")
    parser.add_argument(
        "--recheck-seconds",
        type=float,
        default=DEFAULT_RECHECK,
        help="how often running apps' tokens are checked again",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(storage_path=args.db)
        service = make_service(settings=settings)
        service.first_items(1)  # a store that cannot be opened is told now, not per visitor
    except Exception as exc:
        print(f"error: {safe_text(failure(exc)['error'])}", file=sys.stderr)
        return 1
    app = build_web_app(
        settings,
        service.access.authenticate,
        public_url=args.public_url,
        recheck_every=args.recheck_seconds,
    )
    try:
        asyncio.run(_serve(app, args.host, args.port))
    except OSError as exc:  # the port is taken, the host unknown
        print(f"error: {safe_text(str(exc))}", file=sys.stderr)
        return 1
    finally:
        service.repository.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
