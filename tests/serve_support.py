"""A real `atlas serve` process for the tests, and tokens made with the real CLI."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from atlas_tui.api import AtlasAPI

ROLES = ("viewer", "operator", "manager", "admin")
_RUNNING = re.compile(r"Uvicorn running on (http://\S+)")


@dataclass
class Served:
    """A server process on a free port, its store, one token per role, and its log."""

    url: str
    store: Path
    tokens: dict[str, str]
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    def client(self, role: str | None = "admin", **headers: str) -> httpx.Client:
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def log_text(self) -> str:
        return "\n".join(self.log)


def make_users(store: Path) -> dict[str, str]:
    """A user of each role (named after it) and a token each (`atlas user` and `atlas
    token` are the same calls; test_serve runs those commands themselves)."""
    api = AtlasAPI(store)
    tokens = {}
    for role in ROLES:
        assert api.add_user(role, role)["success"]
        made = api.create_token(role)
        assert made["success"], made
        tokens[role] = made["token"]["token"]
    api.service.repository.close()
    return tokens


@contextmanager
def serving(
    store: Path,
    *args: str,
    env: dict[str, str] | None = None,
    users: bool = True,
    cwd: Path | None = None,
) -> Iterator[Served]:
    """`atlas serve --port 0` on `store` until the block ends (then SIGINT, and it must
    stop by itself); `cwd` is where it runs."""
    tokens = make_users(store) if users else {}
    command = [sys.executable, "-m", "atlas_tui", "serve", "--db", str(store), "--port", "0"]
    process = subprocess.Popen(
        [*command, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    assert process.stderr is not None
    log: list[str] = []
    url = None
    for line in process.stderr:
        log.append(line.rstrip("\n"))
        if found := _RUNNING.search(line):
            url = found.group(1)
            break
    assert url is not None, "atlas serve did not start:\n" + "\n".join(log)
    stderr = process.stderr

    def drain() -> None:
        for line in stderr:
            log.append(line.rstrip("\n"))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    served = Served(url, store, tokens, process, log)
    try:
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        reader.join(timeout=10)
