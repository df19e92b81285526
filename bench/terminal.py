"""A program in a real terminal for benches: tmux runs it, we type and read the screen.

Keys go in with `send-keys` (as a terminal delivers them), the screen comes back with
`capture-pane`, and `pipe-pane` counts every byte the program writes to the terminal: over a
slow SSH link those bytes are the latency.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class Terminal:
    """One detached tmux session running `command` at `size` (columns, lines)."""

    def __init__(
        self,
        command: Sequence[str],
        size: tuple[int, int] = (100, 30),
        env: dict[str, str] | None = None,
    ) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="atlas-term-")
        folder = Path(self._dir.name)
        self.bytes_file = folder / "bytes"
        self.bytes_file.touch()
        self.tmux = ["tmux", "-S", str(folder / "sock")]
        self.session = "bench"
        settings = {"TERM": "xterm-256color", "HOME": os.environ.get("HOME", "/tmp"), **(env or {})}
        line = shlex.join(["env", *(f"{k}={v}" for k, v in settings.items()), *command])
        width, height = size
        # Counting starts before the program does: its first frame is counted too.
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", self.session, "-x", str(width),
             "-y", str(height), "sleep 0.3; " + line],
            check=True,
        )  # fmt: skip
        subprocess.run(
            [*self.tmux, "pipe-pane", "-o", "-t", self.session,
             f"cat >> {shlex.quote(str(self.bytes_file))}"],
            check=True,
        )  # fmt: skip
        self.started = time.perf_counter() + 0.3

    def screen(self) -> str:
        done = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.session], capture_output=True, text=True
        )
        return done.stdout

    def keys(self, *keys: str) -> float:
        """Send named keys or text; returns when they were sent."""
        subprocess.run([*self.tmux, "send-keys", "-t", self.session, *keys], check=True)
        return time.perf_counter()

    def burst(self, text: str) -> float:
        subprocess.run([*self.tmux, "send-keys", "-l", "-t", self.session, text], check=True)
        return time.perf_counter()

    def written(self) -> int:
        """Bytes the program has written to the terminal so far."""
        return self.bytes_file.stat().st_size

    def until(self, check: Callable[[str], bool], timeout: float = 120.0) -> float:
        """Poll the screen until `check` holds; returns the time it was first seen."""
        deadline = time.perf_counter() + timeout
        while True:
            shown = self.screen()
            now = time.perf_counter()
            if check(shown):
                return now
            if now > deadline:
                raise TimeoutError(f"screen never matched; it shows:\n{shown}")

    def quiet(self, settle: float = 0.25, timeout: float = 60.0) -> int:
        """Wait until no byte has been written for `settle` seconds; returns the count."""
        deadline = time.perf_counter() + timeout
        last, since = self.written(), time.perf_counter()
        while time.perf_counter() < deadline:
            time.sleep(0.01)
            now = self.written()
            if now != last:
                last, since = now, time.perf_counter()
            elif time.perf_counter() - since >= settle:
                return now
        return self.written()

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        self._dir.cleanup()

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
