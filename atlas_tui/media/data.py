"""The contents of an index as plain lists, and how they are built and cached.

The same structure is kept in memory and written to the cache, so a warm start is a
single ``orjson.loads``. Items are stored as one JSON text per file and decoded only
when a result is shown.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import orjson

from atlas_tui.media.files import FileOutcome
from atlas_tui.media.matching import Matcher, SearchKey, search_keys
from atlas_tui.media.merge import group_records, merge_ids
from atlas_tui.media.scan import FileKey

# Bump whenever adapters or this layout change, so caches written before are rebuilt.
CACHE_VERSION = 2

_LISTS = ("files", "problems", "payloads", "counts", "kinds", "years", "ids", "keys", "groups")


@dataclass(slots=True)
class IndexData:
    """Per file (in path order): its cache key, problems, items JSON and record count.
    Per record (item read from a file): kind, year, merge ids and search keys. Then the
    groups of records that are one title, and the matcher over those groups."""

    files: list[FileKey]
    problems: list[list[str]]
    payloads: list[str]
    counts: list[int]
    kinds: list[str]
    years: list[int | None]
    ids: list[dict[str, str]]
    keys: list[list[SearchKey]]
    groups: list[list[int]]
    matcher: Matcher

    def to_json(self, folder: str) -> dict[str, Any]:
        out: dict[str, Any] = {"version": CACHE_VERSION, "folder": folder}
        out.update({name: getattr(self, name) for name in _LISTS})
        out["matcher"] = self.matcher.state()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any], folder: str) -> IndexData | None:
        """The cached index for ``folder``, or None if it is stale or malformed."""
        if data.get("version") != CACHE_VERSION or data.get("folder") != folder:
            return None
        try:
            lists = {name: data[name] for name in _LISTS}
            matcher = Matcher(data["matcher"])
        except (KeyError, TypeError):
            return None
        if not all(isinstance(value, list) for value in lists.values()):
            return None
        files = len(lists["files"])
        records = len(lists["kinds"])
        per_file = ("problems", "payloads", "counts")
        per_record = ("years", "ids", "keys")
        if any(len(lists[name]) != files for name in per_file):
            return None
        if any(len(lists[name]) != records for name in per_record):
            return None
        if sum(lists["counts"]) != records or not _valid_matcher(matcher, len(lists["groups"])):
            return None
        return cls(**lists, matcher=matcher)

    def offsets(self) -> list[int]:
        """Cumulative record counts: file ``f`` holds records offsets[f-1] .. offsets[f]-1."""
        return list(itertools.accumulate(self.counts))


def _valid_matcher(matcher: Matcher, groups: int) -> bool:
    tables = (matcher.keys, matcher.owners, matcher.kinds, matcher.years, matcher.titles)
    return (
        isinstance(matcher.exact, dict)
        and isinstance(matcher.normal, dict)
        and all(isinstance(table, list) for table in tables)
        and len(matcher.owners) == 2 * len(matcher.keys)
        and len(matcher.kinds) == len(matcher.years) == len(matcher.titles) == groups
    )


class IndexBuilder:
    """Collects files, reusing a previous index's work for files that did not change."""

    def __init__(self, previous: IndexData | None) -> None:
        self._previous = previous
        self._where: dict[str, int] = {}
        self._offsets: list[int] = []
        if previous is not None:
            self._where = {key[0]: i for i, key in enumerate(previous.files)}  # type: ignore[misc]
            self._offsets = previous.offsets()
        self.files: list[FileKey] = []
        self.problems: list[list[str]] = []
        self.payloads: list[str] = []
        self.counts: list[int] = []
        self.kinds: list[str] = []
        self.years: list[int | None] = []
        self.ids: list[dict[str, str]] = []
        self.keys: list[list[SearchKey]] = []

    def reuse(self, key: FileKey) -> bool:
        """Copy what the previous index holds for this file if its size and mtime match."""
        prev = self._previous
        where = self._where.get(key[0])  # type: ignore[arg-type]
        if prev is None or where is None or prev.files[where] != key:
            return False
        end = self._offsets[where]
        start = end - prev.counts[where]
        self._add_file(key, prev.problems[where], prev.payloads[where], end - start)
        self.kinds += prev.kinds[start:end]
        self.years += prev.years[start:end]
        self.ids += prev.ids[start:end]
        self.keys += prev.keys[start:end]
        return True

    def add(self, key: FileKey, outcome: FileOutcome) -> None:
        """Add a file just read; the caller reports an outcome that cannot be cached."""
        dicts = []
        for item in outcome.items:
            data = item.to_dict()
            del data["sources"]
            dicts.append(data)
            self.kinds.append(item.kind)
            self.years.append(item.year)
            self.ids.append(merge_ids(item))
            self.keys.append(search_keys(item))
        payload = orjson.dumps(dicts).decode()
        self._add_file(key, outcome.problems, payload, len(dicts))

    def _add_file(self, key: FileKey, problems: list[str], payload: str, count: int) -> None:
        self.files.append(key)
        self.problems.append(problems)
        self.payloads.append(payload)
        self.counts.append(count)

    def finish(self) -> IndexData:
        """Group the records into titles and build the matcher."""
        titles = [keys[0][2] if keys else "" for keys in self.keys]
        groups = group_records(self.kinds, self.years, self.ids, titles)
        group_keys = [
            self.keys[g[0]] if len(g) == 1 else [k for i in g for k in self.keys[i]] for g in groups
        ]
        years = [next((y for i in g if (y := self.years[i]) is not None), None) for g in groups]
        matcher = Matcher.build(group_keys, [self.kinds[g[0]] for g in groups], years)
        return IndexData(
            files=self.files,
            problems=self.problems,
            payloads=self.payloads,
            counts=self.counts,
            kinds=self.kinds,
            years=self.years,
            ids=self.ids,
            keys=self.keys,
            groups=groups,
            matcher=matcher,
        )
