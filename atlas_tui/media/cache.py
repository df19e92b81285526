"""The per-folder index cache: what each file gave, keyed by its size and mtime_ns.

One orjson file per searched folder, under ``<cache dir>/media/``. It is only ever an
optimisation: any problem reading it means "no cache", and writes go to a temp file that
replaces the old one atomically, so a crash never leaves a half-written cache in use.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

# Bump whenever adapters or the entry layout change, so old caches are rebuilt.
CACHE_VERSION = 1

# rel path -> [size, mtime_ns, records, problems]; a record is [item dict, search keys].
Entries = dict[str, list[Any]]


def cache_file(cache_root: Path, folder: str) -> Path:
    """The cache file for ``folder`` (by its real path) under ``cache_root``."""
    digest = hashlib.sha256(os.path.realpath(folder).encode("utf-8", "surrogatepass"))
    return cache_root / "media" / f"index-{digest.hexdigest()[:24]}.json"


def load_entries(path: Path, folder: str) -> Entries:
    """Cached entries for ``folder``; {} when the cache is missing, stale or corrupt."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if (
        not isinstance(data, dict)
        or data.get("version") != CACHE_VERSION
        or data.get("folder") != os.path.realpath(folder)
        or not isinstance(data.get("files"), dict)
    ):
        return {}
    return data["files"]


def valid_entry(entry: Any, size: int, mtime_ns: int) -> bool:
    """True when ``entry`` is well formed and was made from a file of this size and mtime."""
    return (
        isinstance(entry, list)
        and len(entry) == 4
        and entry[0] == size
        and entry[1] == mtime_ns
        and isinstance(entry[2], list)
        and isinstance(entry[3], list)
    )


def save_entries(path: Path, folder: str, entries: Entries) -> None:
    """Write the cache atomically; raises OSError when the cache folder is not writable."""
    payload = orjson.dumps(
        {"version": CACHE_VERSION, "folder": os.path.realpath(folder), "files": entries}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
