"""Helpers shared by the tests (a plain module, so test files can import it)."""

from __future__ import annotations

import html
import multiprocessing
import os
import re
import select
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = {"tinydb": "atlas.json", "sqlite": "atlas.sqlite"}


FORK = multiprocessing.get_context("fork")
# The `start` fixture: runs target(*args, pipe) in a forked process.
Start = Callable[..., tuple[Connection, BaseProcess]]


def backend_of(path: Path) -> str:
    if path.suffix == ".pg":
        return "postgresql"
    return "sqlite" if path.suffix == ".sqlite" else "tinydb"


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_atlas(*args: str, db: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """Run the real CLI in a subprocess (`python -m atlas_tui`)."""
    full_env = {**os.environ, **(env or {})}
    command = [sys.executable, "-m", "atlas_tui", *args]
    if db is not None:
        command[3:3] = ["--db", str(db)]
    done = subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=60)
    return Result(done.returncode, done.stdout, done.stderr)


@contextmanager
def file_unchanged(path: Path) -> Iterator[None]:
    """The block may refuse, but must leave `path` byte-for-byte as it was."""
    before = path.read_bytes() if path.exists() else None
    yield
    after = path.read_bytes() if path.exists() else None
    assert after == before, f"{path} changed"


async def settle(pilot: Pilot[Any], timeout: float = 10) -> None:
    """Let the app run until no worker is busy.

    Unlike `workers.wait_for_complete()`, a worker cancelled on purpose (an exclusive worker
    replaced by a newer one) is not an error here.
    """
    deadline = time.monotonic() + timeout
    while any(worker.is_running for worker in pilot.app.workers):
        assert time.monotonic() < deadline, "workers still busy"
        await pilot.pause(0.02)
    await pilot.pause()


_SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
    r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>'
)


def screen_lines(app: App[Any]) -> list[str]:
    """The screen as the terminal shows it now, one string per line.

    Read from a screenshot, which draws each widget's cached lines: a line the app forgot to
    repaint shows stale here exactly as it would in a terminal.
    """
    lines: dict[int, list[str]] = {}
    for x, line, text in _SVG_TEXT.findall(app.export_screenshot()):
        row = lines.setdefault(int(line), [" "] * app.size.width)
        column = round(float(x) / 12.2)
        for offset, char in enumerate(html.unescape(text).replace("\xa0", " ")):
            if 0 <= column + offset < len(row):
                row[column + offset] = char
    return ["".join(lines.get(n, [])).rstrip() for n in range(app.size.height)]


def poll(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Wait until `condition()` holds: for a real terminal or process, no event to wait on."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Terminal:
    """The `atlas` command in a real terminal (a detached tmux session) for one test."""

    def __init__(self, tmp_path: Path, db: Path, size: tuple[int, int] = (100, 30)) -> None:
        self.session = f"atlas-{os.getpid()}-{time.monotonic_ns()}"
        self.tmux = ["tmux", "-S", str(tmp_path / "tmux.sock")]
        command = shlex.join(["env", "TERM=xterm-256color", f"HOME={os.environ['HOME']}",
                              sys.executable, "-m", "atlas_tui", "--db", str(db)])  # fmt: skip
        width, height = size
        subprocess.run([*self.tmux, "new-session", "-d", "-s", self.session,
                        "-x", str(width), "-y", str(height), command], check=True)  # fmt: skip

    def screen(self) -> str:
        """What the terminal shows now."""
        done = subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.session],
                              capture_output=True, text=True)  # fmt: skip
        return done.stdout

    def keys(self, *keys: str) -> None:
        """Named keys (Enter, Escape, F2, ...) and text, sent as tmux send-keys does."""
        subprocess.run([*self.tmux, "send-keys", "-t", self.session, *keys], check=True)

    def burst(self, text: str) -> None:
        """Text as one write to the terminal, the way SSH delivers a fast typist's keys."""
        subprocess.run([*self.tmux, "send-keys", "-l", "-t", self.session, text], check=True)

    def wait_for(self, text: str, what: str = "", timeout: float = 60) -> None:
        poll(lambda: text in self.screen(), what or repr(text), timeout)

    def ended(self) -> bool:
        has = subprocess.run([*self.tmux, "has-session", "-t", self.session], capture_output=True)
        return has.returncode != 0

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def readable(fd: Any) -> bool:
    """Whether a pipe has something to read now (poll, not select: a long suite's descriptor
    numbers pass select's limit of 1024)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def on_a_terminal(*args: str, db: Path, env: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Run the CLI with its stdout and stderr on a pseudo-terminal: its exit code and all it
    wrote there."""
    master, slave = os.openpty()
    command = [sys.executable, "-m", "atlas_tui", "--db", str(db), *args]
    child = subprocess.Popen(command, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL,
                             env={**os.environ, **(env or {})})  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return child.wait(timeout=60), b"".join(chunks)
