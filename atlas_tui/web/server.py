"""The Textual app in a browser, behind a login: an aiohttp application over textual-serve.

Every route but the login page needs a live session (see sessions.py); without one a page
redirects to /login and the websocket is refused with 401 before any app process starts.
Each websocket visitor gets their own `python -m atlas_tui` process (textual-serve's
AppService) on the same store, told who they are through ATLAS_USER and ATLAS_ROLE.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import os
import shlex
import string
import sys
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import textual_serve
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from atlas_tui.config import Settings
from atlas_tui.domain.errors import AtlasError
from atlas_tui.web.sessions import COOKIE, DEFAULT_TTL, Session, Sessions, Visitor

VerifyToken = Callable[[str], Visitor | None]
"""The access token's owner, or None for an unknown or revoked token (the service's
`access.authenticate`). May be slow (a KDF): it runs in a worker thread. AtlasError when the
store cannot be read: the visitor is told to try again (503)."""

TOKEN_MAX_LEN = 512
DEFAULT_MAX_APPS = 32
# The app draws nothing useful below this and a hostile client could ask for huge screens.
MIN_COLUMNS, MIN_ROWS, MAX_CELLS = 20, 8, 1000
STOP_TIMEOUT = 10.0
DEFAULT_RECHECK = 60.0

log = logging.getLogger("atlas_tui.web")

_HERE = Path(__file__).parent
_PAGES, _ASSETS = _HERE / "pages", _HERE / "assets"
_TEXTUAL_STATIC = Path(textual_serve.__file__).parent / "static"

_CSP = (
    "default-src 'self'; script-src 'self'; "
    # textual.js injects xterm's styles as <style> elements.
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)

_MESSAGES = {
    "bad": "Access token: that token is not valid (or it was revoked).",
    "empty": "Access token: enter the token you were given.",
    "long": f"Access token: a token is at most {TOKEN_MAX_LEN} characters.",
    "ended": "Your session has ended. Log in again.",
    "out": "You are logged out.",
    "store": "The inventory cannot be reached just now. Try again in a moment.",
}

STATE: web.AppKey[_WebState] = web.AppKey("atlas_web_state")


def build_web_app(
    settings: Settings,
    verify_token: VerifyToken,
    *,
    public_url: str | None = None,
    session_ttl: float = DEFAULT_TTL,
    max_apps: int = DEFAULT_MAX_APPS,
    app_env: Mapping[str, str] | None = None,
    secure_cookie: bool | None = None,
    recheck_every: float = DEFAULT_RECHECK,
) -> web.Application:
    """The browser front end for `settings.store`, as an aiohttp application.

    `public_url` is the address browsers use when it is not the one they reach this server
    by (a reverse proxy); its https:// scheme also marks the cookie Secure. `app_env` is the
    environment app processes start from (default: this process's); they also get the store,
    the profile and the visitor's ATLAS_USER and ATLAS_ROLE. Every `recheck_every` seconds
    the tokens of sessions with a running app are checked again: a revoked token or an
    expired session closes its apps.
    """
    if secure_cookie is None:
        secure_cookie = bool(public_url and public_url.startswith("https:"))
    state = _WebState(
        settings,
        verify_token,
        Sessions(session_ttl),
        public_url=public_url,
        max_apps=max_apps,
        app_env=app_env,
        secure_cookie=secure_cookie,
        recheck_every=recheck_every,
    )
    app = web.Application(middlewares=[state.guard], client_max_size=64 * 1024)
    app[STATE] = state
    app.add_routes(
        [
            web.get("/login", state.login_page),
            web.post("/login", state.login),
            web.post("/logout", state.logout),
            web.get("/", state.index),
            web.get("/ws", state.websocket),
            web.static("/static", _TEXTUAL_STATIC),
            web.static("/assets", _ASSETS),
        ]
    )
    app.on_response_prepare.append(_security_headers)
    app.cleanup_ctx.append(state.watch_live_sessions)
    app.on_shutdown.append(state.close_all)
    return app


async def start_web_app(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Listen on host:port (0: a free port) in the running event loop, beside anything else
    it serves (uvicorn's `Server.serve()` too). Returns the runner, to `cleanup()` on the way
    out, and the URL it listens on."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return runner, f"http://{shown}:{bound_port}"


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin, not no-referrer: with no-referrer a form POST carries `Origin: null`.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if not request.path.startswith(("/static/", "/assets/")):
        headers.setdefault("Cache-Control", "no-store")


def _page(name: str, **values: str) -> str:
    """A page from pages/, every value HTML-escaped."""
    template = string.Template((_PAGES / name).read_text(encoding="utf-8"))
    return template.substitute({key: html.escape(value) for key, value in values.items()})


class _AppProcess(AppService):
    """textual-serve's app process, started from our environment plus the visitor's."""

    def __init__(
        self,
        command: str,
        base_env: Mapping[str, str],
        visitor_env: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(command, **kwargs)
        self._base_env = base_env
        self._visitor_env = visitor_env

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        served = super()._build_environment(width=width, height=height)
        # Only what textual-serve sets (its web driver, the size), not its copy of ours.
        textual = {k: v for k, v in served.items() if os.environ.get(k) != v}
        return {**self._base_env, **textual, **self._visitor_env}

    async def stop_within(self, timeout: float) -> None:
        """Ask the app to quit; kill it if it has not within `timeout` seconds."""
        try:
            await asyncio.wait_for(self.stop(), timeout)
        except TimeoutError:
            process = self._process
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()


class _WebState:
    """The handlers and what they share: settings, sessions and the live app processes."""

    def __init__(
        self,
        settings: Settings,
        verify_token: VerifyToken,
        sessions: Sessions,
        *,
        public_url: str | None,
        max_apps: int,
        app_env: Mapping[str, str] | None,
        secure_cookie: bool,
        recheck_every: float,
    ) -> None:
        self.settings = settings
        self.verify_token = verify_token
        self.sessions = sessions
        self.public_url = public_url.rstrip("/") if public_url else None
        self.max_apps = max_apps
        self.base_env = dict(os.environ if app_env is None else app_env)
        self.secure_cookie = secure_cookie
        self.recheck_every = recheck_every
        self.sockets: dict[str, set[web.WebSocketResponse]] = {}
        self.downloads = DownloadManager()

    # -- the guard ---------------------------------------------------------------------

    @web.middleware
    async def guard(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """Only /login without a session; everything else with one."""
        if request.method == "POST" and not self._same_origin(request):
            raise web.HTTPForbidden(text="Cross-site request refused.")
        if request.path != "/login":
            session = self.sessions.find(request.cookies.get(COOKIE))
            if session is None:
                if request.path == "/ws":
                    raise web.HTTPUnauthorized(text="Log in first.")
                raise web.HTTPSeeOther("/login")
            request["session"] = session
        try:
            return await handler(request)
        except AtlasError:  # the users' document cannot be read while checking a token
            if request.path == "/ws":
                raise web.HTTPServiceUnavailable(text=_MESSAGES["store"]) from None
            response = self._login_response(_MESSAGES["store"], 503)
            response.headers["Retry-After"] = "1"
            return response

    def _same_origin(self, request: web.Request) -> bool:
        """Whether a browser's Origin (when it sends one) is this server."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        netloc = urllib.parse.urlsplit(origin).netloc
        if self.public_url and netloc == urllib.parse.urlsplit(self.public_url).netloc:
            return True
        return netloc == request.host

    async def _recheck(self, session: Session) -> Visitor | None:
        """The session's principal checked again against its token (revoked, new role)."""
        principal = await asyncio.to_thread(self.verify_token, session.token)
        if principal is None:
            await self._end(session)
            return None
        session.principal = principal
        return principal

    # -- login and logout --------------------------------------------------------------

    async def login_page(self, request: web.Request) -> web.Response:
        if self.sessions.find(request.cookies.get(COOKIE)) is not None:
            raise web.HTTPSeeOther("/")
        message = _MESSAGES.get(request.query.get("m", ""), "")
        return self._login_response(message, 200)

    def _login_response(self, message: str, status: int) -> web.Response:
        body = _page("login.html", message=message, hidden="" if message else "hidden")
        return web.Response(text=body, status=status, content_type="text/html")

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = form.get("token")
        token = token.strip() if isinstance(token, str) else ""
        if not token:
            return self._login_response(_MESSAGES["empty"], 400)
        if len(token) > TOKEN_MAX_LEN:
            return self._login_response(_MESSAGES["long"], 400)
        principal = await asyncio.to_thread(self.verify_token, token)
        if principal is None:
            return self._login_response(_MESSAGES["bad"], 403)
        _, cookie = self.sessions.open(principal, token)
        response = web.HTTPSeeOther("/")
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=int(self.sessions.ttl),
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self.secure_cookie,
        )
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        await self._end(request["session"])
        response = web.HTTPSeeOther("/login?m=out")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def _end(self, session: Session) -> None:
        """Close a session and the app processes it started."""
        self.sessions.close(session)
        for socket in list(self.sockets.pop(session.sid, ())):
            await socket.close()

    # -- the app -----------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        if await self._recheck(request["session"]) is None:
            raise web.HTTPSeeOther("/login?m=ended")
        base = self.public_url or f"{request.scheme}://{request.host}"
        scheme, _, rest = base.partition("://")
        ws_url = f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws"
        body = _page("app.html", ws_url=ws_url)
        return web.Response(text=body, content_type="text/html")

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        session: Session = request["session"]
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="Cross-site request refused.")
        principal = await self._recheck(session)
        if principal is None:
            raise web.HTTPUnauthorized(text="Log in again.")
        if sum(len(s) for s in self.sockets.values()) >= self.max_apps:
            raise web.HTTPServiceUnavailable(text="Too many open sessions; try again later.")
        width = _cells(request.query.get("width"), 80, MIN_COLUMNS)
        height = _cells(request.query.get("height"), 24, MIN_ROWS)
        socket = web.WebSocketResponse(heartbeat=15, max_msg_size=64 * 1024)
        await socket.prepare(request)
        self.sockets.setdefault(session.sid, set()).add(socket)
        process = _AppProcess(
            shlex.join([sys.executable, "-m", "atlas_tui"]),
            self.base_env,
            self._visitor_env(principal),
            write_bytes=socket.send_bytes,
            write_str=socket.send_str,
            close=socket.close,
            download_manager=self.downloads,
        )
        try:
            await process.start(width, height)
            await _relay(socket, process)
        finally:
            await process.stop_within(STOP_TIMEOUT)
            self.sockets.get(session.sid, set()).discard(socket)
            await socket.close()
        return socket

    def _visitor_env(self, principal: Visitor) -> dict[str, str]:
        """The store (in the environment, so a server URL's password is not in `ps`), the
        profile and who the visitor is."""
        store = self.settings.store
        env = {
            "ATLAS_STORAGE_PATH": str(store) if isinstance(store, Path) else store.conninfo,
            "ATLAS_USER": principal.name,
            "ATLAS_ROLE": str(principal.role),
        }
        if self.settings.profile:
            env["ATLAS_PROFILE"] = self.settings.profile
        return env

    async def watch_live_sessions(self, app: web.Application) -> AsyncIterator[None]:
        """While the server runs: end the sessions whose token was revoked or whose time is
        up, with their apps (a page load or a new app checks on its own)."""
        watcher = asyncio.create_task(self._watch())
        yield
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.recheck_every)
            for sid in [sid for sid, sockets in self.sockets.items() if sockets]:
                session = self.sessions.get(sid)
                if session is None:  # expired
                    for socket in list(self.sockets.pop(sid, ())):
                        await socket.close()
                    continue
                try:
                    await self._recheck(session)
                except Exception as exc:  # the token store unreachable: try again next round
                    # The kind only: a message or traceback could quote what was checked.
                    log.warning("could not check a session's token: %s", type(exc).__name__)

    async def close_all(self, app: web.Application) -> None:
        """On shutdown: close every websocket, which stops its app process."""
        for sockets in list(self.sockets.values()):
            for socket in list(sockets):
                await socket.close(code=1001, message=b"Server shutting down")


def _cells(text: str | None, default: int, smallest: int) -> int:
    try:
        value = int(text or default)
    except ValueError:
        value = default
    return max(smallest, min(value, MAX_CELLS))


async def _relay(socket: web.WebSocketResponse, process: AppService) -> None:
    """The browser's keys, resizes and focus changes to the app process until it leaves.

    Malformed messages are dropped: they come from the network."""
    async for message in socket:
        if message.type != WSMsgType.TEXT:
            continue
        try:
            envelope = json.loads(message.data)
        except ValueError:
            continue
        if not isinstance(envelope, list) or not envelope:
            continue
        kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
        if kind == "stdin" and isinstance(data, str):
            await process.send_bytes(data.encode("utf-8"))
        elif kind == "resize" and isinstance(data, dict):
            width = _cells(str(data.get("width")), 80, MIN_COLUMNS)
            height = _cells(str(data.get("height")), 24, MIN_ROWS)
            await process.set_terminal_size(width, height)
        elif kind == "ping" and isinstance(data, str):
            await socket.send_json(["pong", data[:32]])
        elif kind == "blur":
            await process.blur()
        elif kind == "focus":
            await process.focus()
