"""Where the index cache lives, and reading and writing it safely.

One orjson file per searched folder, under ``<cache dir>/media/``. It is only ever an
optimisation: anything wrong with it means "no cache". Writes go to a temp file that
replaces the old one atomically, so a crash never leaves a half-written cache in use.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson


def cache_file(cache_root: Path, folder: str) -> Path:
    """The cache file for ``folder`` (by its real path) under ``cache_root``."""
    digest = hashlib.sha256(os.path.realpath(folder).encode("utf-8", "surrogatepass"))
    return cache_root / "media" / f"index-{digest.hexdigest()[:24]}.json"


def read_cache(path: Path) -> dict[str, Any] | None:
    """The decoded cache object, or None when it is missing or not a JSON object."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def write_cache(path: Path, data: dict[str, Any]) -> None:
    """Write atomically; raises OSError when the cache folder is not writable."""
    payload = orjson.dumps(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
