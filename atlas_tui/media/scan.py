"""Scan a folder into a :class:`MediaIndex`, reading only files the cache does not hold."""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from atlas_tui.media import cache
from atlas_tui.media.config import MAX_FILE_ENV, cache_root, max_file_bytes
from atlas_tui.media.data import IndexBuilder, IndexData
from atlas_tui.media.errors import MediaDirError
from atlas_tui.media.files import read_media_file
from atlas_tui.media.index import MediaIndex
from atlas_tui.media.memory import recall, remember
from atlas_tui.media.models import MediaWarning
from atlas_tui.media.results import ScanStats
from atlas_tui.media.walk import FileKey, find_files

logger = logging.getLogger("atlas_tui.media")

ProgressHook = Callable[[int, int], object]
_PROGRESS_STEPS = 100


def check_folder(search_dir: str | os.PathLike[str]) -> str:
    """The absolute path of ``search_dir``; raises :class:`MediaDirError` if unusable."""
    path = os.path.abspath(os.fspath(search_dir))
    if not os.path.exists(path):
        raise MediaDirError(f"media folder not found: {path}")
    if not os.path.isdir(path):
        raise MediaDirError(f"media folder is not a folder: {path}")
    return path


def load_index(
    search_dir: str | os.PathLike[str],
    *,
    max_file_mb: float | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    on_progress: ProgressHook | None = None,
) -> MediaIndex:
    """Scan ``search_dir`` recursively for .json, .ndjson and .nfo files.

    Only files whose (path, size, mtime_ns) is not in the cache are read; with
    ``use_cache=False`` every file is read and nothing is remembered or written. Files
    over ``max_file_mb`` (default $ATLAS_MEDIA_MAX_FILE_MB, else 20 MB), unreadable, not
    UTF-8 or not valid JSON/XML are skipped with a :class:`MediaWarning` (also logged).
    ``on_progress(done, total)`` is called with (0, total) first, then about every 1%
    of files and at the end; it runs in the scanning thread, and an exception it raises
    stops the scan.
    """
    started = time.perf_counter()
    folder = check_folder(search_dir)
    limit = max_file_bytes(max_file_mb)
    found, warnings = find_files(folder)
    wanted = [key for key in found if _size(key) <= limit]
    if len(wanted) < len(found):
        too_large = (key for key in found if _size(key) > limit)
        warnings += [MediaWarning(_path(folder, k), _too_large(_size(k), limit)) for k in too_large]
    if on_progress:
        on_progress(0, len(wanted))
    cache_path = cache.cache_file(cache_root(cache_dir), folder) if use_cache else None
    memory_key = (os.path.realpath(folder), str(cache_path))
    remembered = recall(memory_key) if cache_path else None
    with _gc_paused():  # building many small lists and dicts, none of them cyclic
        if remembered is not None and remembered.files == wanted:
            data, scan = remembered.index.data, _Scan(reused=len(wanted))
        else:
            previous = remembered.index.data if remembered else _from_disk(cache_path, folder)
            data, scan = _build(folder, wanted, previous, on_progress)
            if cache_path is not None and data is not previous:
                scan.written = _write(cache_path, data, folder, scan.warnings)
    warnings += scan.warnings
    skipped = len(found) - len(wanted) + scan.unreadable
    for key, problems, count in zip(data.files, data.problems, data.counts, strict=True):
        if problems:  # cached problems are reported on every scan, not only the first
            warnings.extend(MediaWarning(_path(folder, key), problem) for problem in problems)
            skipped += not count
    elapsed = time.perf_counter() - started
    stats = ScanStats(len(found), scan.read, scan.reused, skipped, 0, scan.written, elapsed)
    if remembered is not None and data is remembered.index.data:
        index = remembered.index.rescanned(warnings, stats)
    else:
        index = MediaIndex(folder, data, warnings, stats)
    if on_progress:
        on_progress(len(wanted), len(wanted))
    if cache_path is not None:
        remember(memory_key, index, wanted if not scan.unreadable else None)
    for warning in warnings:
        logger.warning("%s", warning)
    return index


@dataclass(slots=True)
class _Scan:
    read: int = 0
    reused: int = 0
    unreadable: int = 0
    written: bool = False
    warnings: list[MediaWarning] = field(default_factory=list)


def _build(
    folder: str,
    wanted: list[FileKey],
    previous: IndexData | None,
    on_progress: ProgressHook | None,
) -> tuple[IndexData, _Scan]:
    """Index ``wanted``, reading only files ``previous`` does not hold unchanged."""
    if previous is not None and previous.files == wanted:
        return previous, _Scan(reused=len(wanted))
    scan = _Scan()
    builder = IndexBuilder(previous)
    step = max(1, len(wanted) // _PROGRESS_STEPS)
    for done, key in enumerate(wanted, 1):
        if builder.reuse(key):
            scan.reused += 1
        else:
            scan.read += 1
            path = _path(folder, key)
            outcome = read_media_file(path)
            if outcome.cacheable:
                builder.add(key, outcome)
            else:  # e.g. permission denied: left out of the index, so tried again next time
                scan.unreadable += 1
                scan.warnings.extend(MediaWarning(path, problem) for problem in outcome.problems)
        if on_progress and done % step == 0 and done < len(wanted):
            on_progress(done, len(wanted))
    return builder.finish(), scan


def _from_disk(cache_path: Path | None, folder: str) -> IndexData | None:
    raw = cache.read_cache(cache_path) if cache_path else None
    return IndexData.from_json(raw, os.path.realpath(folder)) if raw else None


def _write(path: Path, data: IndexData, folder: str, warnings: list[MediaWarning]) -> bool:
    try:
        cache.write_cache(path, data.to_json(os.path.realpath(folder)))
    except OSError as exc:
        warnings.append(MediaWarning(str(path), f"cannot write cache: {exc.strerror or exc}"))
        return False
    return True


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic collector: it would otherwise rescan every object built so far
    many times over while a large index is assembled, for no garbage to find."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _size(key: FileKey) -> int:
    return int(key[1])


def _path(folder: str, key: FileKey) -> str:
    return os.path.join(folder, str(key[0]))


def _too_large(size: int, limit: int) -> str:
    mb = 1024 * 1024
    return (
        f"skipped: {size / mb:.1f} MB is over the {limit / mb:g} MB limit"
        f" (raise it with {MAX_FILE_ENV} or max_file_mb)"
    )
