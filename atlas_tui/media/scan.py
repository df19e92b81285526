"""Scan a folder into a :class:`MediaIndex`, reading only files the cache does not hold."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from atlas_tui.media import cache
from atlas_tui.media.config import cache_root, max_file_bytes
from atlas_tui.media.data import IndexBuilder, IndexData
from atlas_tui.media.errors import MediaDirError
from atlas_tui.media.files import size_warning
from atlas_tui.media.index import MediaIndex
from atlas_tui.media.memory import recall, remember
from atlas_tui.media.models import MediaWarning
from atlas_tui.media.parallel import Reader
from atlas_tui.media.results import ScanStats
from atlas_tui.media.walk import FileKey, FilesHook, Tree, walk

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
    processes: int | None = None,
) -> MediaIndex:
    """Scan ``search_dir`` recursively for .json, .ndjson and .nfo files.

    Only files whose (path, size, mtime_ns) is not in the cache are read; with
    ``use_cache=False`` every file is read and nothing is remembered or written. Files
    over ``max_file_mb`` (default $ATLAS_MEDIA_MAX_FILE_MB, else 20 MB), unreadable, not
    UTF-8 or not valid JSON/XML are skipped with a :class:`MediaWarning` (also logged).
    ``on_progress(done, total)`` is called with (0, total) first, then about every 1%
    of files and at the end; it runs in the scanning thread, and an exception it raises
    stops the scan. ``processes``: how many processes parse files (None: one per core once
    there are many files to read, else this one).
    """
    started = time.perf_counter()
    folder = check_folder(search_dir)
    real = os.path.realpath(folder)
    limit = max_file_bytes(max_file_mb)
    cache_path = cache.cache_file(cache_root(cache_dir), real) if use_cache else None
    memory_key = (real, str(cache_path))
    with _gc_paused():  # building many small lists and dicts, none of them cyclic
        remembered = recall(memory_key) if cache_path else None
        if remembered is not None:
            previous: IndexData | None = remembered.data
        else:
            previous = _from_disk(cache_path, real) if cache_path else None
        # With nothing to reuse, every file the walk finds will be read: reading starts
        # while the walk goes on (in other processes, once there are enough files).
        reader = Reader(limit, processes) if previous is None else None
        try:
            # The previous index's walk lets this one skip listing folders that did not
            # change.
            tree, warnings = walk(
                folder,
                previous.tree if previous else None,
                _queue(reader, folder, limit) if reader is not None else None,
            )
            too_large = tree.larger_than(limit)
            warnings += [
                MediaWarning(_path(folder, tree, f), size_warning(tree.sizes[f], limit))
                for f in too_large
            ]
            total = len(tree) - len(too_large)
            if on_progress:
                on_progress(0, total)
            if previous is not None and previous.current(tree, limit):
                data, scan = previous, _Scan(reused=total)
                data.tree = tree  # same files; newer folder stamps for the next walk to reuse
                if cache_path is not None and _worth_saving(data):
                    scan.written = _write(cache_path, data, real, scan.warnings)
            else:
                data, scan = _build(
                    folder, tree, limit, set(too_large), previous, on_progress, processes, reader
                )
                if cache_path is not None:
                    scan.written = _write(cache_path, data, real, scan.warnings)
        finally:
            if reader is not None:
                reader.close()
    warnings += scan.warnings
    skipped = len(too_large) + scan.unreadable
    counts = data.counts
    for file in sorted(data.problems):
        # Cached problems are reported on every scan, not only the first.
        path = _path(folder, tree, file)
        warnings.extend(MediaWarning(path, problem) for problem in data.problems[file])
        skipped += not counts[file]
    elapsed = time.perf_counter() - started
    stats = ScanStats(len(tree), scan.read, scan.reused, skipped, 0, scan.written, elapsed)
    if remembered is not None and data is remembered.data:
        index = remembered.rescanned(warnings, stats)
    else:
        index = MediaIndex(folder, data, warnings, stats)
    if on_progress:
        on_progress(total, total)
    if cache_path is not None:
        remember(memory_key, index)
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
    tree: Tree,
    limit: int,
    too_large: set[int],
    previous: IndexData | None,
    on_progress: ProgressHook | None,
    processes: int | None = None,
    reader: Reader | None = None,
) -> tuple[IndexData, _Scan]:
    """Index the files of ``tree``, reading only those ``previous`` does not hold unchanged
    (with other processes when there are many; see `parallel.Reader`). ``reader``, if
    given, already holds every file to read, queued by the walk (see `_queue`)."""
    scan = _Scan()
    builder = IndexBuilder(previous)
    keys = tree.keys()
    with contextlib.ExitStack() as stack:
        if reader is None:
            reader = stack.enter_context(Reader(limit, processes))
            reader.add(
                [
                    os.path.join(folder, key[0])
                    for file, key in enumerate(keys)
                    if file not in too_large and not builder.reusable(key)
                ]
            )
        _add_files(folder, keys, too_large, builder, reader, scan, on_progress)
    return builder.finish(tree, limit), scan


def _add_files(
    folder: str,
    keys: list[FileKey],
    too_large: set[int],
    builder: IndexBuilder,
    reader: Reader,
    scan: _Scan,
    on_progress: ProgressHook | None,
) -> None:
    """Add every file to ``builder``: reused, skipped, or as ``reader`` read it."""
    total = len(keys) - len(too_large)
    step = max(1, total // _PROGRESS_STEPS)
    done = 0
    reusing = builder.reusing
    files_read = reader.results()
    for file, key in enumerate(keys):
        if file in too_large:
            builder.skip(unreadable=False)
            continue
        done += 1
        if reusing and builder.reuse(key):
            scan.reused += 1
        else:
            scan.read += 1
            prepared, problems = next(files_read)
            if prepared is not None:
                builder.add_prepared(prepared)
            else:  # e.g. permission denied: not in the index, so tried again next time
                builder.skip(unreadable=True)
                scan.unreadable += 1
                path = os.path.join(folder, key[0])
                scan.warnings.extend(MediaWarning(path, problem) for problem in problems)
        if on_progress and done % step == 0 and done < total:
            on_progress(done, total)
    files_read.close()


def _queue(reader: Reader, folder: str, limit: int) -> FilesHook:
    """A walk hook that queues each file to read in ``reader``: every file not too large
    (the files `_build` reads when there is no previous index), in the tree's order."""
    base = folder if folder.endswith(os.sep) else folder + os.sep

    def queue(prefix: str, names: list[str], stats: list[os.stat_result]) -> None:
        start = base + prefix
        reader.add(
            [start + name for name, info in zip(names, stats, strict=True) if info.st_size <= limit]
        )

    return queue


def _worth_saving(data: IndexData) -> bool:
    """Whether to rewrite an unchanged index's cache so a new process can skip listing
    more folders: true once folders changed shortly before the last write have settled,
    false for a folder that keeps changing (it never settles)."""
    saved = data.saved
    return saved is not None and data.tree.reusable() > saved.reusable_after(data.tree)


def _from_disk(cache_path: Path | None, real: str) -> IndexData | None:
    found = cache.read_cache(cache_path) if cache_path else None
    return IndexData.from_bytes(found[0], real, found[1]) if found else None


def _write(path: Path, data: IndexData, real: str, warnings: list[MediaWarning]) -> bool:
    try:
        cache.write_cache(path, data.to_chunks(real))
    except OSError as exc:
        warnings.append(MediaWarning(str(path), f"cannot write cache: {exc.strerror or exc}"))
        return False
    data.saved = data.tree
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


def _path(folder: str, tree: Tree, file: int) -> str:
    return os.path.join(folder, tree.relpath(file))
