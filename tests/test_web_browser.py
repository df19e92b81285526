"""The app in a browser (`atlas serve --web`): the login guards every route; a viewer's app
refuses changes and revoking the token closes it; and a real Chromium (Debian's, driven by
Playwright) logs in on a phone and a desktop, filters, presses `+`, and the change reaches
the store and a second session.

The terminal draws on a canvas, so the test reads what the browser is sent: every byte the
page's websocket receives goes through a VT emulator (pyte) sized as the page asked.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pyte
import pytest
from support import poll, run_atlas

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 60_000


@dataclass
class WebServer:
    url: str
    host: str
    port: int
    process: subprocess.Popen[str]
    log: Path
    store: Path
    tokens: dict[str, tuple[str, str]]
    """user -> (token, its id), made with the real CLI."""

    def token(self, user: str) -> str:
        return self.tokens[user][0]

    def revoke(self, user: str) -> None:
        done = run_atlas("token", "revoke", self.tokens[user][1], db=self.store)
        assert done.code == 0, done.err

    def request(
        self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
    ) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response


@contextmanager
def _running(store: Path, tmp_path: Path, *args: str) -> Iterator[WebServer]:
    """`python -m atlas_tui <args>` on a free port over the three-item store, whose users
    are ana (operator) and vic (viewer), each with a token; ready once it names the app's
    address."""
    tokens = {}
    for user, role in [("ana", "operator"), ("vic", "viewer")]:
        assert run_atlas("user", "add", user, "--role", role, db=store).code == 0
        made = json.loads(run_atlas("token", "create", user, "--json", db=store).out)["token"]
        tokens[user] = (made["token"], made["id"])
    log = tmp_path / "server.log"
    with log.open("w") as out:  # a file, not a pipe: nothing the server prints can block it
        process = subprocess.Popen(
            [sys.executable, "-m", *args], stdout=out, stderr=subprocess.STDOUT, text=True
        )
    address = re.compile(r"(?:serving on |app in a browser url=)(http://\S+)")
    try:
        poll(
            lambda: address.search(log.read_text()) is not None or process.poll() is not None,
            "the server",
        )
        found = address.search(log.read_text())
        assert found is not None, log.read_text()
        url = found.group(1)
        parts = urllib.parse.urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        yield WebServer(url, parts.hostname, parts.port, process, log, store, tokens)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for token, _ in tokens.values():  # no token in anything the server printed
        assert token not in log.read_text()


@pytest.fixture
def web(store: Path, tmp_path: Path) -> Iterator[WebServer]:
    """The browser front end on its own (`python -m atlas_tui.web`), rechecking tokens
    five times a second."""
    command = ["atlas_tui.web", "--db", str(store), "--port", "0", "--recheck-seconds", "0.2"]
    with _running(store, tmp_path, *command) as server:
        yield server


@pytest.fixture
def served(store: Path, tmp_path: Path) -> Iterator[WebServer]:
    """`atlas serve --web`, as users start it: the API and the app in a browser."""
    command = ["atlas_tui", "serve", "--db", str(store), "--port", "0", "--web", "--web-port", "0"]
    with _running(store, tmp_path, *command) as server:
        yield server


def _login(web: WebServer, token: str, origin: str | None = None) -> http.client.HTTPResponse:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin:
        headers["Origin"] = origin
    return web.request("POST", "/login", urllib.parse.urlencode({"token": token}), headers)


def _cookie(response: http.client.HTTPResponse) -> str:
    return response.getheader("Set-Cookie", "").split(";")[0]


WEBSOCKET_UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


def test_every_route_needs_a_login(web: WebServer) -> None:
    for path in ["/", "/static/js/textual.js", "/assets/atlas-web.js", "/no-such-page"]:
        response = web.request("GET", path)
        assert (response.status, response.getheader("Location")) == (303, "/login"), path
    assert web.request("GET", "/ws", headers=WEBSOCKET_UPGRADE).status == 401

    assert _login(web, "").status == 400
    refused = _login(web, "not-a-token")
    assert refused.status == 403 and not refused.getheader("Set-Cookie")
    assert _login(web, web.token("ana"), origin="http://elsewhere.example").status == 403

    accepted = _login(web, web.token("ana"))
    assert (accepted.status, accepted.getheader("Location")) == (303, "/")
    flags = {part.strip().lower() for part in accepted.getheader("Set-Cookie", "").split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    cookie = _cookie(accepted)
    assert web.token("ana") not in cookie
    assert web.request("GET", "/", headers={"Cookie": cookie}).status == 200
    assert web.request("GET", "/static/js/textual.js", headers={"Cookie": cookie}).status == 200
    forged = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert web.request("GET", "/", headers={"Cookie": forged}).status == 303

    out = web.request("POST", "/logout", headers={"Cookie": cookie})
    assert (out.status, out.getheader("Location")) == (303, "/login?m=out")
    # The session is over on the server, not only in the browser: the old cookie is refused.
    assert web.request("GET", "/", headers={"Cookie": cookie}).status == 303
    assert web.request("GET", "/ws", headers={**WEBSOCKET_UPGRADE, "Cookie": cookie}).status == 401


def test_a_viewer_may_not_change_stock_and_revoking_ends_the_app(web: WebServer) -> None:
    """Over the page's own websocket protocol (no browser needed): the viewer's app refuses
    `+`, and revoking the viewer's token closes the running app."""
    cookie = _cookie(_login(web, web.token("vic")))
    assert web.request("GET", "/", headers={"Cookie": cookie}).status == 200
    screen = pyte.Screen(120, 30)
    stream = pyte.ByteStream(screen)

    def shows(text: str) -> bool:
        return any(text in line for line in screen.display)

    async def session() -> list[aiohttp.WSMsgType]:
        name, _, value = cookie.partition("=")
        async with (
            aiohttp.ClientSession(cookies={name: value}) as client,
            client.ws_connect(f"{web.url}/ws?width=120&height=30", origin=web.url) as socket,
        ):

            async def until(condition: Callable[[], bool]) -> None:
                while not condition():
                    message = await socket.receive()
                    assert message.type == aiohttp.WSMsgType.BINARY, message
                    stream.feed(message.data)

            await until(lambda: shows("vic (viewer)") and shows("A-1 "))
            await socket.send_json(["stdin", "+"])
            await until(lambda: shows("may not change stock"))
            web.revoke("vic")
            ends = [message.type async for message in socket]  # until the server closes it
            return ends

    ends = asyncio.run(asyncio.wait_for(session(), timeout=60))
    assert aiohttp.WSMsgType.ERROR not in ends
    shown = json.loads(run_atlas("show", "--sku", "A-1", "--json", db=web.store).out)
    assert shown["item"]["quantity"] == 10
    response = web.request("GET", "/", headers={"Cookie": cookie})
    assert (response.status, response.getheader("Location")) == (303, "/login")


# -- the browser ----------------------------------------------------------------------------


@pytest.fixture
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)  # a loaded 2-core machine: generous, never a sleep
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Screen:
    """What the page's terminal shows, rebuilt from the bytes its websocket receives."""

    def __init__(self, page: Any) -> None:
        self.socket: Any = None
        self.size: tuple[int, int] | None = None
        page.on("websocket", self._attach)

    def _attach(self, socket: Any) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(socket.url).query)
        self.size = (int(query["width"][0]), int(query["height"][0]))
        self.screen = pyte.Screen(*self.size)
        stream = pyte.ByteStream(self.screen)
        self.socket = socket
        socket.on("framereceived", lambda data: stream.feed(data) if isinstance(data, bytes) else 0)
        socket.on("framesent", self._sent)

    def _sent(self, data: str | bytes) -> None:
        message = json.loads(data)
        if message[0] == "resize":  # the page fitted the terminal to its element
            self.size = (message[1]["width"], message[1]["height"])
            self.screen.resize(lines=self.size[1], columns=self.size[0])

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display] if self.socket else []

    def row(self, sku: str) -> str | None:
        """The items table's row of `sku` (it starts the line), or None."""
        return next((line for line in self.lines() if line.startswith(f"{sku} ")), None)

    def wait(self, condition: Callable[[], bool], what: str) -> None:
        """Until `condition()` holds, checked again on every frame the page receives."""
        if condition():
            return
        try:
            self.socket.wait_for_event(
                "framereceived", predicate=lambda _: condition(), timeout=WAIT_MS
            )
        except Exception as exc:
            screen = "\n".join(self.lines())
            raise AssertionError(f"timed out waiting for {what}; the screen:\n{screen}") from exc


def _quantity(row: str | None, sku: str) -> int | None:
    """The Qty column of an items-table row: the first bare number after the SKU."""
    if row is None:
        return None
    found = re.search(r"\s(\d+)\s", row[len(sku) :])
    return int(found.group(1)) if found else None


def _context(browser: Any, **options: Any) -> Any:
    """A fresh browser profile (no cookies) with generous timeouts for every action."""
    context = browser.new_context(**options)
    context.set_default_timeout(WAIT_MS)
    return context


def test_the_app_in_a_browser(served: WebServer, chromium: Any, store: Path) -> None:
    web = served
    from playwright.sync_api import expect

    # A phone. Playwright's device_scale_factor stays 1: xterm.js sizes its canvas by a
    # ResizeObserver that does not see an emulated pixel ratio, and would draw 2x glyphs.
    phone = _context(
        chromium, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    page.goto(web.url + "/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("Access token: that token is not valid")
    expect(page).to_have_url(re.compile(r"/login$"))

    screen = Screen(page)
    page.fill("#token", web.token("ana"))
    with page.expect_websocket(timeout=WAIT_MS):
        page.click("button[type=submit]")
    expect(page).to_have_url(web.url + "/")
    screen.wait(lambda: all(screen.row(sku) for sku in ("A-1", "B-2", "C-3")), "the items")
    assert _quantity(screen.row("B-2"), "B-2") == 1
    # Who logged in, and their role, reach the app process: its status line names both.
    screen.wait(lambda: any("│ ana (operator) │" in line for line in screen.lines()), "ana")

    # Fitted to the phone: the narrowest layout the app has, nothing wider than the screen.
    assert screen.size is not None and 60 <= screen.size[0] <= 70, screen.size
    box = page.locator(".xterm-screen").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.focus("textarea.xterm-helper-textarea")
    page.keyboard.press("/")
    page.keyboard.type("bolt")
    screen.wait(lambda: screen.row("B-2") is not None and screen.row("A-1") is None, "filter")
    page.keyboard.press("Tab")  # back to the table, on the first match
    page.keyboard.press("+")
    screen.wait(lambda: _quantity(screen.row("B-2"), "B-2") == 2, "B-2 at 2")

    def stored() -> int:
        shown = run_atlas("show", "--sku", "B-2", "--json", db=store)
        return int(json.loads(shown.out)["item"]["quantity"])

    poll(lambda: stored() == 2, "the store to hold 2 of B-2")
    history = json.loads(run_atlas("history", "--sku", "B-2", "--json", db=store).out)
    assert (history["history"][0]["delta"], history["history"][0]["user"]) == (1, "ana")

    # A second session, on a desktop, sees the new figure.
    desktop = _context(chromium, viewport={"width": 1280, "height": 800})
    second = desktop.new_page()
    other = Screen(second)
    second.goto(web.url + "/")
    second.fill("#token", web.token("ana"))
    with second.expect_websocket(timeout=WAIT_MS):
        second.click("button[type=submit]")
    other.wait(lambda: _quantity(other.row("B-2"), "B-2") == 2, "B-2 at 2 in the second session")
    assert other.size is not None and other.size[0] > 100

    # Logging out ends the session: the page's app closes and the next visit asks to log in.
    second.focus("textarea.xterm-helper-textarea")
    second.keyboard.press("q")  # the app quits; the page offers to start again or log out
    expect(second.get_by_role("button", name="Log out")).to_be_visible(timeout=WAIT_MS)
    second.get_by_role("button", name="Log out").click()
    expect(second).to_have_url(re.compile(r"/login\?m=out$"))
    expect(second.get_by_role("alert")).to_contain_text("logged out")
    second.goto(web.url + "/")
    expect(second).to_have_url(re.compile(r"/login$"))
    phone.close()
    desktop.close()
