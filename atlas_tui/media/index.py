"""Scan a folder (reusing the cache) into an in-memory index that answers queries fast."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from atlas_tui.media import cache
from atlas_tui.media.config import MAX_FILE_ENV, cache_root, max_file_bytes
from atlas_tui.media.errors import MediaDirError
from atlas_tui.media.files import read_media_file
from atlas_tui.media.matching import FUZZY_CUTOFF, Matcher, search_keys
from atlas_tui.media.merge import Record, group_records, merge_items
from atlas_tui.media.models import KINDS, MediaItem, MediaWarning
from atlas_tui.media.results import MediaMatch, ScanStats, SearchResult
from atlas_tui.media.scan import FoundFile, find_files

logger = logging.getLogger("atlas_tui.media")

ProgressHook = Callable[[int, int], object]
_ITEM_FIELDS = frozenset(MediaItem("movie", "x").to_dict()) - {"sources"}
_PROGRESS_STEPS = 100


class MediaIndex:
    """The merged titles of one folder, ready to search.

    Build it with :func:`load_index`; keep it to answer many queries without rescanning.
    """

    def __init__(
        self,
        folder: str,
        records: Sequence[Record],
        warnings: Sequence[MediaWarning],
        stats: ScanStats,
    ) -> None:
        self.folder = folder
        self.warnings = tuple(warnings)
        self._records = records
        self._groups = group_records(records)
        self.stats = replace(stats, items=len(self._groups))
        self._items: dict[int, MediaItem] = {}
        firsts = [records[group[0]][1] for group in self._groups]
        self._matcher = Matcher(
            [self._group_keys(group) for group in self._groups],
            [item["kind"] for item in firsts],
            [self._group_year(group) for group in self._groups],
        )

    def __len__(self) -> int:
        return len(self._groups)

    @property
    def items(self) -> tuple[MediaItem, ...]:
        """Every title in the folder, in path order of its first file."""
        return tuple(self.item(group) for group in range(len(self._groups)))

    def item(self, group: int) -> MediaItem:
        """The merged item of one group, built on first use (most are never shown)."""
        found = self._items.get(group)
        if found is None:
            parts = [
                MediaItem.from_dict({**self._records[i][1], "sources": [self._records[i][0]]})
                for i in self._groups[group]
            ]
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
        ranked = self._matcher.match(query, kind=kind, year=year, cutoff=fuzzy_cutoff)
        if limit is not None:
            ranked = ranked[:limit]
        matches = tuple(MediaMatch(self.item(g), how, score) for g, how, score in ranked)
        return SearchResult(query, matches, self.warnings, self.stats)

    def _group_keys(self, group: list[int]) -> list[list[Any]]:
        if len(group) == 1:
            return self._records[group[0]][2]
        return [key for i in group for key in self._records[i][2]]

    def _group_year(self, group: list[int]) -> int | None:
        years = (self._records[i][1]["year"] for i in group)
        return next((year for year in years if year is not None), None)


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

    Files whose path, size and mtime_ns match the cache are not read again. Files over
    ``max_file_mb`` (default $ATLAS_MEDIA_MAX_FILE_MB, else 20 MB), unreadable, not
    UTF-8 or not valid JSON/XML are skipped with a :class:`MediaWarning` (also logged).
    ``on_progress(done, total)`` is called with (0, total) first, then about every 1%
    of files and at the end; it runs in the scanning thread, and an exception it raises
    stops the scan.
    """
    started = time.perf_counter()
    folder = check_folder(search_dir)
    limit = max_file_bytes(max_file_mb)
    files, warnings = find_files(folder)
    cache_path = cache.cache_file(cache_root(cache_dir), folder) if use_cache else None
    cached = cache.load_entries(cache_path, folder) if cache_path else {}
    entries: cache.Entries = {}
    records: list[Record] = []
    read = reused = skipped = 0
    total = len(files)
    step = max(1, total // _PROGRESS_STEPS)
    if on_progress:
        on_progress(0, total)
    for done, found in enumerate(files, 1):
        if found.size > limit:
            skipped += 1
            warnings.append(MediaWarning(found.path, _too_large(found.size, limit)))
        else:
            entry = cached.get(found.rel)
            if cache.valid_entry(entry, found.size, found.mtime_ns) and _ingest(
                found.path, entry, records
            ):
                reused += 1
            else:
                read += 1
                entry = _read(found)
                _ingest(found.path, entry, records)
            if entry[1] is not None:
                entries[found.rel] = entry
            problems = entry[3]
            warnings.extend(MediaWarning(found.path, p) for p in problems)
            skipped += bool(problems) and not entry[2]
        if on_progress and (done % step == 0 or done == total):
            on_progress(done, total)
    written = False
    if cache_path is not None and (read or len(entries) != len(cached)):
        try:
            cache.save_entries(cache_path, folder, entries)
            written = True
        except OSError as exc:
            warnings.append(MediaWarning(str(cache_path), f"cannot write cache: {exc}"))
    for warning in warnings:
        logger.warning("%s", warning)
    stats = ScanStats(total, read, reused, skipped, 0, written, time.perf_counter() - started)
    return MediaIndex(folder, records, warnings, stats)


def _read(found: FoundFile) -> list[Any]:
    """A cache entry for ``found`` made by reading it; mtime is None if not cacheable."""
    outcome = read_media_file(found.path)
    records = []
    for item in outcome.items:
        data = item.to_dict()
        del data["sources"]
        records.append([data, search_keys(item)])
    mtime = found.mtime_ns if outcome.cacheable else None
    return [found.size, mtime, records, outcome.problems]


def _ingest(path: str, entry: list[Any], records: list[Record]) -> bool:
    """Add an entry's records; False (adding nothing) if a cached entry is malformed."""
    new: list[Record] = []
    for record in entry[2]:
        if not (
            isinstance(record, list)
            and len(record) == 2
            and isinstance(record[0], dict)
            and record[0].keys() >= _ITEM_FIELDS
            and isinstance(record[0]["ids"], dict)
            and isinstance(record[1], list)
        ):
            return False
        new.append((path, record[0], record[1]))
    records.extend(new)
    return True


def _too_large(size: int, limit: int) -> str:
    mb = 1024 * 1024
    return (
        f"skipped: {size / mb:.1f} MB is over the {limit / mb:g} MB limit"
        f" (raise it with {MAX_FILE_ENV} or max_file_mb)"
    )
