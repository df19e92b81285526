"""An in-memory index of one folder's titles that answers queries in milliseconds."""

from __future__ import annotations

import bisect
import os
from dataclasses import replace
from itertools import accumulate

import orjson

from atlas_tui.media.data import IndexData
from atlas_tui.media.files import read_media_file
from atlas_tui.media.matching import FUZZY_CUTOFF
from atlas_tui.media.merge import merge_items
from atlas_tui.media.models import KINDS, MediaItem, MediaWarning
from atlas_tui.media.results import MediaMatch, ScanStats, SearchResult


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
        self.stats = replace(stats, items=len(data.matcher))
        self._data = data
        self._offsets: list[int] | None = None
        self._decoded: dict[int, list[MediaItem]] = {}
        self._items: dict[int, MediaItem] = {}

    def __len__(self) -> int:
        return len(self._data.matcher)

    @property
    def items(self) -> tuple[MediaItem, ...]:
        """Every title in the folder, in scan order of its first file."""
        return tuple(self.item(group) for group in range(len(self)))

    def item(self, group: int) -> MediaItem:
        """The merged item of one group, built on first use (most are never shown)."""
        found = self._items.get(group)
        if found is None:
            data = self._data
            members = data.members[data.starts[group] : data.starts[group + 1]]
            parts = [part for r in members if (part := self._record(r))]
            found = self._items[group] = merge_items(parts) if parts else self._stub(group)
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

    def _record(self, record: int) -> MediaItem | None:
        if self._offsets is None:
            self._offsets = list(accumulate(self._data.counts))
        file = bisect.bisect_right(self._offsets, record)
        items = self._decoded.get(file)
        if items is None:
            items = self._decoded[file] = self._decode(file)
        position = record - (self._offsets[file] - self._data.counts[file])
        return items[position] if position < len(items) else None

    def _decode(self, file: int) -> list[MediaItem]:
        path = os.path.join(self.folder, self._data.tree.relpath(file))
        try:
            found = orjson.loads(self._data.file_items(file))
            return [MediaItem.from_dict({**data, "sources": [path]}) for data in found]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError, OSError):
            # The cache was damaged inside a value its load-time checks do not open, or
            # can no longer be read: read the file itself instead.
            return read_media_file(path, self._data.limit).items

    def _stub(self, group: int) -> MediaItem:
        """What the index knows of a title whose file no longer yields it."""
        matcher = self._data.matcher
        return MediaItem(matcher.kind(group), matcher.title(group), year=matcher.year(group))

    @property
    def data(self) -> IndexData:
        return self._data

    def rescanned(self, warnings: list[MediaWarning], stats: ScanStats) -> MediaIndex:
        """This index with the warnings and counters of a new scan that changed nothing."""
        twin = MediaIndex(self.folder, self._data, warnings, stats)
        twin._offsets, twin._decoded, twin._items = self._offsets, self._decoded, self._items
        return twin
