"""`atlas serve`: the REST API (and with --web, the app in a browser)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from atlas_tui.cli.output import EXIT_OK, EXIT_USAGE
from atlas_tui.text import safe_text

if TYPE_CHECKING:
    from atlas_tui.config import Settings

Command = Callable[[str, str, Callable[[argparse.ArgumentParser], None]], None]


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    number, unit = text.strip().lower().rstrip("b"), 1
    if number and number[-1] in units:
        number, unit = number[:-1], units[number[-1]]
    if not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(f"must be a size such as 512k or 20m, got {text!r}")
    return int(number) * unit


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0-65535, got {text!r}")
    return int(text)


def add_serve_command(command: Command) -> None:
    command("serve", "serve the REST API (and with --web the app) over HTTP", _serve_args)


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin allowed to call the API from a browser (CORS is closed otherwise)",
    )
    p.add_argument(
        "--max-body", type=_size, default=1024**2, help="largest request body (default 1m)"
    )
    p.add_argument(
        "--max-upload", type=_size, default=20 * 1024**2, help="largest import upload (default 20m)"
    )
    p.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="log lines on stderr"
    )
    p.add_argument(
        "--web",
        action="store_true",
        help="also serve the app itself to browsers, behind a token login (on --web-port)",
    )
    p.add_argument(
        "--web-port", type=_port, default=8080, help="port of the app in a browser (default 8080)"
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use for the app, behind a proxy (https:// marks the "
        "session cookie Secure)",
    )
    p.add_argument("--print-openapi", action="store_true", help="print the OpenAPI schema and exit")


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from atlas_tui.serve.context import Options
        from atlas_tui.serve.run import print_openapi, serve
    except ImportError as exc:
        print(
            "error: serve: needs the serve extra: pip install 'atlas-tui[serve]' "
            f"({safe_text(exc.name or str(exc))} is missing)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.print_openapi:
        sys.stdout.write(print_openapi(settings))
        return EXIT_OK
    options = Options(
        host=args.host,
        port=args.port,
        cors_origins=tuple(args.cors_origin),
        body_limit=args.max_body,
        upload_limit=args.max_upload,
        log_format=args.log_format,
        web_port=args.web_port if args.web else None,
        public_url=args.public_url,
    )
    serve(settings, options)
    return EXIT_OK
