"""Serve the app in a browser on its own: `python -m atlas_tui.web --db STORE --tokens FILE`.

A stand-in for `atlas serve --web` until that command wires this package to the real users
and tokens. FILE holds one `NAME ROLE TOKEN` per line (blank lines and # comments skipped).
Prints `serving on URL` once listening; --port 0 takes a free port. Stops on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from atlas_tui.config import Settings
from atlas_tui.domain.errors import ConfigError
from atlas_tui.preferences import PreferencesError
from atlas_tui.text import safe_text
from atlas_tui.web.server import DEFAULT_RECHECK, VerifyToken, build_web_app, start_web_app
from atlas_tui.web.sessions import Principal


def _parse_tokens(path: Path) -> list[tuple[bytes, Principal]]:
    known: list[tuple[bytes, Principal]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) != 3:
            raise ValueError(f"{path.name} line {number}: expected NAME ROLE TOKEN")
        known.append((fields[2].encode(), Principal(fields[0], fields[1])))
    return known


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


def read_tokens(path: Path) -> VerifyToken:
    """A token check over a file of `NAME ROLE TOKEN` lines, read again when it changes (a
    line removed revokes that token); ValueError names a bad line."""
    known = _parse_tokens(path)
    stamp = _stamp(path)

    def verify(token: str) -> Principal | None:
        nonlocal known, stamp
        with contextlib.suppress(OSError, ValueError):  # mid-edit: keep what was read last
            if (now := _stamp(path)) != stamp:
                known, stamp = _parse_tokens(path), now
        found = None
        for secret, principal in known:  # every entry compared: no timing hint of a match
            if hmac.compare_digest(secret, token.encode()):
                found = principal
        return found

    return verify


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
    parser.add_argument("--tokens", type=Path, required=True, help="NAME ROLE TOKEN lines")
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
        verify = read_tokens(args.tokens)
    except (ConfigError, PreferencesError, OSError, ValueError) as exc:
        print(f"error: {safe_text(str(exc))}", file=sys.stderr)
        return 2
    app = build_web_app(
        settings, verify, public_url=args.public_url, recheck_every=args.recheck_seconds
    )
    try:
        asyncio.run(_serve(app, args.host, args.port))
    except OSError as exc:  # the port is taken, the host unknown
        print(f"error: {safe_text(str(exc))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
