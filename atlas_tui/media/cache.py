"""Where the index cache lives, and reading and writing it safely.

One file per searched folder, under ``<cache dir>/media/``. It is only ever an
optimisation: anything wrong with it means "no cache". Writes go to a temp file that
replaces the old one atomically, so a crash never leaves a half-written cache in use.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def cache_file(cache_root: Path, real_folder: str) -> Path:
    """The cache file for a folder (given by its real path) under ``cache_root``."""
    digest = hashlib.sha256(real_folder.encode("utf-8", "surrogatepass"))
    return cache_root / "media" / f"index-{digest.hexdigest()[:24]}.bin"


def read_cache(path: Path) -> bytes | None:
    """The cache file's bytes, or None when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def write_cache(path: Path, chunks: Iterable[bytes | memoryview]) -> None:
    """Write atomically; raises OSError when the cache folder is not writable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines(chunks)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    # Versions before the binary layout wrote index-*.json: nothing reads those any more.
    path.with_suffix(".json").unlink(missing_ok=True)
