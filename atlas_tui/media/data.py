"""The contents of an index as plain lists, and how they are built and cached.

The same structure is kept in memory and written to the cache, so a warm start is one
``orjson.loads``. What a search never needs stays JSON text until it is used: each
file's items (decoded when a result is shown) and the per-record facts (decoded only
when some file changed and the index is rebuilt).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import orjson

from atlas_tui.media.files import FileOutcome
from atlas_tui.media.matching import Matcher, SearchKey, search_keys
from atlas_tui.media.merge import group_records, merge_ids
from atlas_tui.media.walk import FileKey

# Bump whenever adapters or this layout change, so caches written before are rebuilt.
CACHE_VERSION = 4

_PER_FILE = ("files", "problems", "payloads", "counts")


@dataclass(slots=True)
class Records:
    """Per record (one item read from one file): kind, year, merge ids, search keys."""

    kinds: list[str]
    years: list[int | None]
    ids: list[dict[str, str]]
    keys: list[list[SearchKey]]

    def to_text(self) -> str:
        return orjson.dumps([self.kinds, self.years, self.ids, self.keys]).decode()

    @classmethod
    def from_text(cls, text: str, expected: int) -> Records:
        """Decode :meth:`to_text`; raises ValueError unless it holds ``expected`` records."""
        try:
            kinds, years, ids, keys = orjson.loads(text)
        except (orjson.JSONDecodeError, TypeError, ValueError):
            raise ValueError("malformed records") from None
        if not all(isinstance(x, list) and len(x) == expected for x in (kinds, years, ids, keys)):
            raise ValueError("malformed records")
        return cls(kinds, years, ids, keys)


@dataclass(slots=True)
class IndexData:
    """Per file, in scan order: its cache key, problems, items as JSON text and record
    count. The records, the groups of records that are one title, and the matcher."""

    files: list[FileKey]
    problems: list[list[str]]
    payloads: list[str]
    counts: list[int]
    records: Records | str
    groups: list[list[int]]
    matcher: Matcher

    def record_data(self) -> Records:
        """The per-record facts, decoded on first use; ValueError if the cache mangled them."""
        if isinstance(self.records, str):
            self.records = Records.from_text(self.records, sum(self.counts))
        return self.records

    def offsets(self) -> list[int]:
        """Cumulative record counts: file ``f`` holds records offsets[f-1] .. offsets[f]-1."""
        return list(itertools.accumulate(self.counts))

    def to_json(self, folder: str) -> dict[str, Any]:
        records = self.records
        return {
            "version": CACHE_VERSION,
            "folder": folder,
            **{name: getattr(self, name) for name in _PER_FILE},
            "records": records if isinstance(records, str) else records.to_text(),
            "groups": self.groups,
            "matcher": self.matcher.state(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], folder: str) -> IndexData | None:
        """The cached index for ``folder``, or None if it is stale or malformed."""
        if data.get("version") != CACHE_VERSION or data.get("folder") != folder:
            return None
        try:
            per_file = {name: data[name] for name in _PER_FILE}
            records, groups, matcher = data["records"], data["groups"], Matcher(data["matcher"])
        except (KeyError, TypeError):
            return None
        if not (
            all(isinstance(v, list) and len(v) == len(per_file["files"]) for v in per_file.values())
            and isinstance(records, str)
            and isinstance(groups, list)
            and _valid_matcher(matcher, len(groups))
        ):
            return None
        return cls(**per_file, records=records, groups=groups, matcher=matcher)


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
        self._previous: Records | None = None
        self._where: dict[Any, int] = {}
        self._offsets: list[int] = []
        self._old = previous
        if previous is not None:
            try:
                self._previous = previous.record_data()
            except ValueError:
                self._old = None  # a mangled cache is only a cache: read everything again
            else:
                self._where = {key[0]: i for i, key in enumerate(previous.files)}
                self._offsets = previous.offsets()
        self.files: list[FileKey] = []
        self.problems: list[list[str]] = []
        self.payloads: list[str] = []
        self.counts: list[int] = []
        self.records = Records([], [], [], [])

    def reuse(self, key: FileKey) -> bool:
        """Copy what the previous index holds for this file if its size and mtime match."""
        old, prev = self._old, self._previous
        where = self._where.get(key[0])
        if old is None or prev is None or where is None or old.files[where] != key:
            return False
        end = self._offsets[where]
        start = end - old.counts[where]
        self._add_file(key, old.problems[where], old.payloads[where], end - start)
        self.records.kinds += prev.kinds[start:end]
        self.records.years += prev.years[start:end]
        self.records.ids += prev.ids[start:end]
        self.records.keys += prev.keys[start:end]
        return True

    def add(self, key: FileKey, outcome: FileOutcome) -> None:
        """Add a file just read."""
        dicts = []
        for item in outcome.items:
            # Empty fields are left out (from_dict restores them): a smaller cache loads
            # faster. Sources are the file's path, which the index knows already.
            data = item.to_dict()
            del data["sources"]
            dicts.append({key: value for key, value in data.items() if value or value == 0})
            self.records.kinds.append(item.kind)
            self.records.years.append(item.year)
            self.records.ids.append(merge_ids(item))
            self.records.keys.append(search_keys(item))
        self._add_file(key, outcome.problems, orjson.dumps(dicts).decode(), len(dicts))

    def _add_file(self, key: FileKey, problems: list[str], payload: str, count: int) -> None:
        self.files.append(key)
        self.problems.append(problems)
        self.payloads.append(payload)
        self.counts.append(count)

    def finish(self) -> IndexData:
        """Group the records into titles and build the matcher."""
        rec = self.records
        titles = [keys[0][2] if keys else "" for keys in rec.keys]
        groups = group_records(rec.kinds, rec.years, rec.ids, titles)
        group_keys = [
            rec.keys[g[0]] if len(g) == 1 else [k for i in g for k in rec.keys[i]] for g in groups
        ]
        years = [next((y for i in g if (y := rec.years[i]) is not None), None) for g in groups]
        matcher = Matcher.build(group_keys, [rec.kinds[g[0]] for g in groups], years)
        return IndexData(
            self.files, self.problems, self.payloads, self.counts, rec, groups, matcher
        )
