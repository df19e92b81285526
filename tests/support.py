"""Helpers shared by the tests (a plain module, so test files can import it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = {"tinydb": "atlas.json", "sqlite": "atlas.sqlite"}


def backend_of(path: Path) -> str:
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
