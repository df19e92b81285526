"""A loaded machine for the benches: two processes spinning on the CPU."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def hogs(on: bool) -> Iterator[None]:
    """Two processes spinning on the CPU while the block runs (none when not `on`)."""
    spinning = [
        subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(2 if on else 0)
    ]
    try:
        yield
    finally:
        for hog in spinning:
            hog.kill()
            hog.wait()
