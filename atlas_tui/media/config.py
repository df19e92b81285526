"""Settings of the media search: the file size limit and the cache folder."""

from __future__ import annotations

import math
import os
from pathlib import Path

from atlas_tui.media.errors import MediaConfigError

DEFAULT_MAX_FILE_MB = 20.0
MAX_FILE_ENV = "ATLAS_MEDIA_MAX_FILE_MB"
CACHE_DIR_ENV = "ATLAS_CACHE_DIR"


def max_file_bytes(max_file_mb: float | None = None) -> int:
    """The size above which a file is skipped: the argument, else $ATLAS_MEDIA_MAX_FILE_MB,
    else 20 MB (1 MB = 1024 * 1024 bytes)."""
    source = "max_file_mb"
    value: object = max_file_mb
    if value is None:
        raw = os.environ.get(MAX_FILE_ENV, "").strip()
        if not raw:
            return int(DEFAULT_MAX_FILE_MB * 1024 * 1024)
        source, value = MAX_FILE_ENV, raw
    try:
        megabytes = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MediaConfigError(f"{source} must be a number of megabytes, not {value!r}") from None
    if not (megabytes > 0 and math.isfinite(megabytes)):
        raise MediaConfigError(f"{source} must be more than 0, not {value!r}")
    return int(megabytes * 1024 * 1024)


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: the argument, else $ATLAS_CACHE_DIR, else the user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir)
    from_env = os.environ.get(CACHE_DIR_ENV, "").strip()
    if from_env:
        return Path(from_env)
    import platformdirs  # a few ms, only when it is needed

    return Path(platformdirs.user_cache_dir("atlas"))
