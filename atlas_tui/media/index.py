"""Scan a folder (reusing the cache) into an in-memory index that answers queries fast."""

from __future__ import annotations

import bisect
import gc
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import orjson

from atlas_tui.media import cache
from atlas_tui.media.config import MAX_FILE_ENV, cache_root, max_file_bytes
from atlas_tui.media.data import IndexBuilder, IndexData
from atlas_tui.media.errors import MediaDirError
from atlas_tui.media.files import read_media_file
from atlas_tui.media.matching import FUZZY_CUTOFF
from atlas_tui.media.merge import merge_items
from atlas_tui.media.models import KINDS, MediaItem, MediaWarning
from atlas_tui.media.results import MediaMatch, ScanStats, SearchResult
from atlas_tui.media.scan import FileKey, find_files

logger = logging.getLogger("atlas_tui.media")

ProgressHook = Callable[[int, int], object]
_PROGRESS_STEPS = 100
_MEMORY_SLOTS = 4  # folders whose index stays in memory between searches


class MediaIndex:
    """The merged titles of one folder, ready to search.

    Build it with :func:`load_index`; keep it to answer many queries without rescanning.
    """

    def __init__(
        self,
        folder: str,
        data: IndexData,
        warnings: list[MediaWarning],
        stats: ScanStats,
    ) -> None:
        self.folder = folder
        self.warnings = tuple(warnings)
        self.stats = replace(stats, items=len(data.groups))
        self._data = data
        self._offsets: list[int] | None = None
        self._decoded: dict[int, list[dict[str, object]]] = {}
        self._items: dict[int, MediaItem] = {}

    def __len__(self) -> int:
        return len(self._data.groups)

    @property
    def items(self) -> tuple[MediaItem, ...]:
        """Every title in the folder, in path order of its first file."""
        return tuple(self.item(group) for group in range(len(self._data.groups)))

    def item(self, group: int) -> MediaItem:
        """The merged item of one group, built on first use (most are never shown)."""
        found = self._items.get(group)
        if found is None:
            parts = [self._record(record) for record in self._data.groups[group]]
            found = self._items[group] = merge_items(parts)
        return found

    def search(
        self,
        query: str,
        *,
        kind: str | None = None,
        year: int | None = None,
        limit: int | None = None,
        fuzzy_cutoff: float = FUZZY_CUTOFF,
    ) -> SearchResult:
        """Titles matching ``query``, best first; see :func:`atlas_tui.media.search_media`."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be 0 or more, not {limit}")
        if not 0 <= fuzzy_cutoff <= 100:
            raise ValueError(f"fuzzy_cutoff must be between 0 and 100, not {fuzzy_cutoff}")
        matcher = self._data.matcher
        ranked = matcher.match(query, kind=kind, year=year, cutoff=fuzzy_cutoff)
        if limit is not None:
            ranked = ranked[:limit]
        matches = tuple(MediaMatch(self.item(g), how, score) for g, how, score in ranked)
        return SearchResult(query, matches, self.warnings, self.stats)

    def _record(self, record: int) -> MediaItem:
        if self._offsets is None:
            self._offsets = self._data.offsets()
        file = bisect.bisect_right(self._offsets, record)
        decoded = self._decoded.get(file)
        if decoded is None:
            decoded = self._decoded[file] = orjson.loads(self._data.payloads[file])
        start = self._offsets[file] - self._data.counts[file]
        path = os.path.join(self.folder, str(self._data.files[file][0]))
        return MediaItem.from_dict({**decoded[record - start], "sources": [path]})

    @property
    def data(self) -> IndexData:
        return self._data

    def rescanned(self, warnings: list[MediaWarning], stats: ScanStats) -> MediaIndex:
        """This index with the warnings and counters of a new scan that changed nothing."""
        twin = MediaIndex(self.folder, self._data, warnings, stats)
        twin._offsets, twin._decoded, twin._items = self._offsets, self._decoded, self._items
        return twin


@dataclass(slots=True)
class _Remembered:
    index: MediaIndex
    files: list[FileKey] | None


_memory: OrderedDict[tuple[str, str], _Remembered] = OrderedDict()
_memory_lock = threading.Lock()


def clear_index_memory() -> None:
    """Forget the indexes kept in memory, so the next scan starts from the disk cache."""
    with _memory_lock:
        _memory.clear()


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
    wanted: list[FileKey] = []
    for key in found:
        if int(key[1]) > limit:
            warnings.append(MediaWarning(_path(folder, key), _too_large(int(key[1]), limit)))
        else:
            wanted.append(key)
    if on_progress:
        on_progress(0, len(wanted))
    cache_path = cache.cache_file(cache_root(cache_dir), folder) if use_cache else None
    memory_key = (os.path.realpath(folder), str(cache_path))
    remembered = _recall(memory_key) if cache_path else None
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
        if problems:
            warnings.extend(MediaWarning(_path(folder, key), problem) for problem in problems)
            skipped += not count
    stats = ScanStats(
        files_found=len(found),
        files_read=scan.read,
        files_cached=scan.reused,
        files_skipped=skipped,
        cache_written=scan.written,
        seconds=time.perf_counter() - started,
    )
    if remembered is not None and data is remembered.index.data:
        index = remembered.index.rescanned(warnings, stats)
    else:
        index = MediaIndex(folder, data, warnings, stats)
    if on_progress:
        on_progress(len(wanted), len(wanted))
    if cache_path is not None:
        _remember(memory_key, index, wanted if not scan.unreadable else None)
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


def _recall(key: tuple[str, str]) -> _Remembered | None:
    with _memory_lock:
        found = _memory.get(key)
        if found is not None:
            _memory.move_to_end(key)
        return found


def _remember(key: tuple[str, str], index: MediaIndex, files: list[FileKey] | None) -> None:
    """Keep ``index`` for the next scan of its folder; ``files`` None = always rescan."""
    with _memory_lock:
        _memory[key] = _Remembered(index, files)
        _memory.move_to_end(key)
        while len(_memory) > _MEMORY_SLOTS:
            _memory.popitem(last=False)


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


def _path(folder: str, key: FileKey) -> str:
    return os.path.join(folder, str(key[0]))


def _too_large(size: int, limit: int) -> str:
    mb = 1024 * 1024
    return (
        f"skipped: {size / mb:.1f} MB is over the {limit / mb:g} MB limit"
        f" (raise it with {MAX_FILE_ENV} or max_file_mb)"
    )
