"""The contents of an index, how they are built, and how they are cached.

An index is kept column-wise: lists of strings, arrays of ints and a few long strings,
aligned with the files of the :class:`~atlas_tui.media.walk.Tree` it was built from
(file ``i`` of the tree is file ``i`` everywhere). That is what makes a warm start
cheap: the cache file is a short JSON header followed by raw sections (UTF-8 text,
int64 arrays) that load with a handful of C calls, building a few big objects instead
of hundreds of thousands of small ones, so the garbage collector has almost nothing to
trace afterwards either.

What a search never needs stays encoded, and in the cache file, until it is used: each
file's items (JSON, decoded when a result is shown) and the per-record facts (decoded
only when some file changed and the index is rebuilt).
"""

from __future__ import annotations

import os
import sys
import zlib
from array import array
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import orjson

from atlas_tui.media.cache import CacheReader, Deferred
from atlas_tui.media.files import FileOutcome
from atlas_tui.media.matching import Matcher, SearchKey, search_keys
from atlas_tui.media.merge import group_records, merge_ids
from atlas_tui.media.models import SERIES, MediaItem
from atlas_tui.media.walk import FileKey, Tree

# Bump whenever adapters or this layout change, so caches written before are rebuilt.
CACHE_VERSION = 6

Bytes = bytes | memoryview


@dataclass(slots=True)
class Records:
    """Per record (one item read from one file): kind, year, merge ids, search keys."""

    kinds: list[str]
    years: list[int | None]
    ids: list[dict[str, str]]
    keys: list[list[SearchKey]]

    def to_bytes(self) -> bytes:
        return orjson.dumps([self.kinds, self.years, self.ids, self.keys])

    @classmethod
    def from_bytes(cls, data: Bytes, expected: int) -> Records:
        """Decode :meth:`to_bytes`; raises ValueError unless it holds ``expected`` records."""
        try:
            kinds, years, ids, keys = orjson.loads(data)
        except (orjson.JSONDecodeError, TypeError, ValueError):
            raise ValueError("malformed records") from None
        if not all(isinstance(x, list) and len(x) == expected for x in (kinds, years, ids, keys)):
            raise ValueError("malformed records")
        return cls(kinds, years, ids, keys)


@dataclass(slots=True, eq=False)
class IndexData:
    """Everything an index knows. Per file, aligned with ``tree``: how many records it
    gave, its items as JSON (``payload[ends[i-1]:ends[i]]``), its problems and whether
    it was left unread. Per record: :class:`Records`. Per group (one title): its records
    (``members[starts[g]:starts[g+1]]``). And the :class:`Matcher`."""

    tree: Tree
    limit: int  # the size limit in force when it was built
    counts: array[int]
    payload: Bytes | Deferred
    ends: array[int]
    problems: dict[int, list[str]]
    unread: list[int]  # files not read: over the limit, or unreadable
    retry: bool  # some file was unreadable: read it again next time, even if unchanged
    records: Records | Bytes | Deferred
    members: array[int]
    starts: array[int]
    matcher: Matcher
    saved: Tree | None = field(default=None)  # the tree as the cache file holds it

    def record_data(self) -> Records:
        """The per-record facts, decoded on first use; ValueError if the cache mangled them."""
        records = self.records
        if isinstance(records, Deferred):
            try:
                records = records.load()
            except OSError:
                raise ValueError("unreadable records") from None
        if not isinstance(records, Records):
            self.records = records = Records.from_bytes(records, sum(self.counts))
        return records

    def payload_bytes(self) -> Bytes:
        """Every file's items, read from the cache file now if they were left there."""
        if isinstance(self.payload, Deferred):
            self.payload = self.payload.load()
        return self.payload

    def current(self, tree: Tree, limit: int) -> bool:
        """Whether this index is still right for a folder that now walks as ``tree``."""
        return not self.retry and self.limit == limit and self.tree.same_files(tree)

    def file_items(self, file: int) -> Bytes:
        """The JSON array of the items read from one file; OSError if it is in a cache
        file that can no longer be read."""
        start, stop = self.ends[file - 1] if file else 0, self.ends[file]
        payload = self.payload
        return payload.load(start, stop) if isinstance(payload, Deferred) else payload[start:stop]

    def to_chunks(self, folder: str) -> list[Bytes]:
        """The cache file's bytes, in pieces (the payload is written without a copy).

        A JSON header line, kept short, then raw sections: arrays of int64, texts in
        UTF-8. All but the last two sections are covered by a CRC-32 in the header, so
        loading checks them in one C pass instead of bounds-checking every value. The
        last two, the records and the payload (most of the file), are read and checked
        only when decoded, which most searches never do for more than a few files.
        """
        tree, matcher = self.tree, self.matcher
        records = self.records
        if isinstance(records, Deferred):
            records = records.load()
        problems = [[file, messages] for file, messages in self.problems.items()]
        checked: list[tuple[str, Bytes]] = [
            ("folder", _text(folder)),
            ("prefixes", _joined(tree.prefixes)),
            ("subfolders", _joined(tree.subfolders)),
            ("names", _joined(tree.names)),
            ("stamps", tree.stamps.tobytes()),
            ("settled", bytes(tree.settled)),
            ("counts", tree.counts.tobytes()),
            ("subcounts", tree.subcounts.tobytes()),
            ("sizes", tree.sizes.tobytes()),
            ("mtimes", tree.mtimes.tobytes()),
            ("record_counts", self.counts.tobytes()),
            ("ends", self.ends.tobytes()),
            ("members", self.members.tobytes()),
            ("starts", self.starts.tobytes()),
            ("exact_text", _text(matcher.exact_text)),
            ("exact_at", matcher.exact_at.tobytes()),
            ("exact_owners", matcher.exact_owners.tobytes()),
            ("firsts", matcher.firsts.tobytes()),
            ("normal_text", _text(matcher.normal_text)),
            ("normal_at", matcher.normal_at.tobytes()),
            ("normal_owners", matcher.normal_owners.tobytes()),
            ("kinds", matcher.kinds),
            ("years", matcher.years.tobytes()),
            ("problems", orjson.dumps(problems)),
            ("unread", array("q", self.unread).tobytes()),
        ]
        sections = [
            *checked,
            ("records", records.to_bytes() if isinstance(records, Records) else records),
            ("payload", self.payload_bytes()),
        ]
        offset, spans, crc = 0, {}, 0
        for name, chunk in sections:
            spans[name] = [offset, len(chunk)]
            offset += len(chunk)
        for _name, chunk in checked:
            crc = zlib.crc32(chunk, crc)
        header = {
            "version": CACHE_VERSION,
            "byteorder": sys.byteorder,
            "limit": self.limit,
            "retry": self.retry,
            "counts": [len(tree.prefixes), len(tree.subfolders), len(tree.names)],
            "sections": spans,
            "checked": spans["records"][0],
            "crc": crc,
        }
        return [orjson.dumps(header), b"\n", *(chunk for _name, chunk in sections)]

    @classmethod
    def from_bytes(
        cls, head: bytes, folder: str, rest: CacheReader | None = None
    ) -> IndexData | None:
        """The cached index for ``folder``, or None if it is stale or malformed. ``head``
        is the start of the cache file and ``rest`` reads the remainder, or, without
        ``rest``, ``head`` is the whole file."""
        try:
            return _decode(head, folder, rest)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError, OSError):
            return None


def _text(text: str) -> bytes:
    # surrogatepass: file names that are not valid UTF-8 reach Python with lone
    # surrogates (surrogateescape), and must come back exactly as they were.
    return text.encode("utf-8", "surrogatepass")


def _joined(strings: list[str]) -> bytes:
    # NUL never occurs in a path, so it can separate file and folder names.
    return _text("\0".join(strings))


def _split(data: Bytes, count: int) -> list[str]:
    found = str(data, "utf-8", "surrogatepass").split("\0") if count else []
    if len(found) != count:
        raise ValueError("wrong number of names")
    return found


def _decode(head: bytes, folder: str, rest: CacheReader | None) -> IndexData | None:
    end = head.find(b"\n")
    while end < 0 and rest is not None:  # a header longer than the first read
        searched = len(head)
        more = rest.read(searched, searched + 1, exact=False)
        if not more:
            return None
        head += more
        end = head.find(b"\n", searched)
    if end < 0:
        return None
    header = orjson.loads(memoryview(head)[:end])
    if not isinstance(header, dict) or header.get("version") != CACHE_VERSION:
        return None
    if header.get("byteorder") != sys.byteorder:
        return None
    checked = header["checked"]
    if not isinstance(checked, int) or checked < 0:
        return None
    body_at = end + 1
    if rest is not None and len(head) < body_at + checked:
        head = rest.read(0, body_at + checked)  # one read, rather than a copy to append
    body = memoryview(head)[body_at:]
    if len(body) < checked or zlib.crc32(body[:checked]) != header["crc"]:
        return None
    sections: dict[str, Bytes] = {}
    deferred: dict[str, Bytes | Deferred] = {}
    for name, (start, length) in header["sections"].items():
        if start < 0 or length < 0:
            return None
        if start + length <= len(body):
            sections[name] = deferred[name] = body[start : start + length]
        elif start >= checked and rest is not None:
            # Left in the file until needed; if the file is cut short, that shows then.
            deferred[name] = Deferred(rest, body_at + start, length)
        else:
            return None
    if str(sections["folder"], "utf-8", "surrogatepass") != folder:
        return None

    def ints(name: str) -> array[int]:
        values = array("q")
        values.frombytes(sections[name])  # ValueError if not a whole number of items
        return values

    folders, subfolders, files = header["counts"]
    tree = Tree(
        _split(sections["prefixes"], folders),
        ints("stamps"),
        bytearray(sections["settled"]),
        ints("counts"),
        ints("subcounts"),
        _split(sections["subfolders"], subfolders),
        _split(sections["names"], files),
        ints("sizes"),
        ints("mtimes"),
    )
    matcher = Matcher(
        str(sections["exact_text"], "utf-8", "surrogatepass"),
        ints("exact_at"),
        ints("exact_owners"),
        ints("firsts"),
        str(sections["normal_text"], "utf-8", "surrogatepass"),
        ints("normal_at"),
        ints("normal_owners"),
        bytes(sections["kinds"]),
        ints("years"),
    )
    counts, ends = ints("record_counts"), ints("ends")
    members, starts = ints("members"), ints("starts")
    # The values were checksummed; a wrong size means a cache this code did not write.
    if not (
        len(tree.stamps) == 4 * folders
        and len(tree.settled) == len(tree.counts) == len(tree.subcounts) == folders
        and len(tree.sizes) == len(tree.mtimes) == len(counts) == len(ends) == files
        and matcher.valid()
        and len(starts) == len(matcher) + 1
        and starts[-1] == len(members)
    ):
        return None
    problems = {file: messages for file, messages in orjson.loads(sections["problems"])}
    return IndexData(
        tree,
        int(header["limit"]),
        counts,
        deferred["payload"],
        ends,
        problems,
        ints("unread").tolist(),
        bool(header["retry"]),
        deferred["records"],
        members,
        starts,
        matcher,
        saved=tree,
    )


@dataclass(slots=True)
class Prepared:
    """One file's contribution to an index: its items as the cache stores them and their
    records. Small and picklable, so files can be parsed in other processes."""

    payload: bytes
    problems: list[str]
    kinds: list[str]
    years: list[int | None]
    ids: list[dict[str, str]]
    keys: list[list[SearchKey]]


def prepare(outcome: FileOutcome) -> Prepared:
    """What `IndexBuilder` keeps of a file just read."""
    file = Prepared(b"", outcome.problems, [], [], [], [])
    for item in outcome.items:
        file.kinds.append(item.kind)
        file.years.append(item.year)
        file.ids.append(merge_ids(item))
        file.keys.append(search_keys(item))
    file.payload = orjson.dumps([_stored(item) for item in outcome.items])
    return file


def _stored(item: MediaItem) -> dict[str, Any]:
    """``item.to_dict()`` without its empty fields (from_dict restores them: a smaller
    cache loads faster) and without sources (the index knows the file's path), built
    directly: this runs for every item of every file read."""
    data: dict[str, Any] = {"kind": item.kind, "title": item.title}
    if item.original_title:
        data["original_title"] = item.original_title
    if item.aliases:
        data["aliases"] = item.aliases
    if item.year is not None:
        data["year"] = item.year
    if item.directors:
        data["directors"] = item.directors
    if item.seasons is not None:
        data["seasons"] = item.seasons
    if item.episodes is not None:
        data["episodes"] = item.episodes
    if item.episode_list:
        data["episode_list"] = item.episode_list  # orjson writes them as to_dict does
    if item.network:
        data["network"] = item.network
    if item.genres:
        data["genres"] = item.genres
    if item.runtime is not None:
        data["runtime"] = item.runtime
    if item.ids:
        data["ids"] = dict(item.ids)
    return data


class IndexBuilder:
    """Collects files, reusing a previous index's work for files that did not change."""

    def __init__(self, previous: IndexData | None) -> None:
        self._old: IndexData | None = None
        self._old_records = Records([], [], [], [])
        self._where: dict[FileKey, int] = {}
        self._record_ends: list[int] = []
        if previous is not None:
            try:
                self._old_records = previous.record_data()
                previous.payload_bytes()  # once, rather than a read per reused file
            except (ValueError, OSError):
                pass  # a mangled cache is only a cache: read everything again
            else:
                self._old = previous
                unread = set(previous.unread)
                keys = previous.tree.keys()
                self._where = {key: i for i, key in enumerate(keys) if i not in unread}
                self._record_ends = list(accumulate(previous.counts))
        self.counts: list[int] = []
        self.payloads: list[Bytes] = []
        self.problems: dict[int, list[str]] = {}
        self.unread: list[int] = []
        self.retry = False
        self.records = Records([], [], [], [])

    @property
    def reusing(self) -> bool:
        """Whether there is a previous index to reuse files from."""
        return self._old is not None

    def reuse(self, key: FileKey) -> bool:
        """Copy what the previous index holds for this file if its size and mtime match."""
        old, where = self._old, self._where.get(key)
        if old is None or where is None:
            return False
        end = self._record_ends[where]
        start = end - old.counts[where]
        problems = old.problems.get(where)
        self._add_file(bytes(old.file_items(where)), end - start, problems)
        prev, rec = self._old_records, self.records
        rec.kinds += prev.kinds[start:end]
        rec.years += prev.years[start:end]
        rec.ids += prev.ids[start:end]
        rec.keys += prev.keys[start:end]
        return True

    def reusable(self, key: FileKey) -> bool:
        """Whether `reuse` would take this file from the previous index."""
        return self._old is not None and key in self._where

    def add(self, outcome: FileOutcome) -> None:
        """Add the next file, just read."""
        self.add_prepared(prepare(outcome))

    def add_prepared(self, file: Prepared) -> None:
        """Add the next file, read and prepared (perhaps by another process)."""
        self.records.kinds += file.kinds
        self.records.years += file.years
        self.records.ids += file.ids
        self.records.keys += file.keys
        self._add_file(file.payload, len(file.kinds), file.problems)

    def skip(self, *, unreadable: bool) -> None:
        """Add the next file as not read: too large, or unreadable (so read it next time)."""
        self.unread.append(len(self.counts))
        self.retry = self.retry or unreadable
        self._add_file(b"", 0, None)

    def _add_file(self, payload: Bytes, count: int, problems: list[str] | None) -> None:
        if problems:
            self.problems[len(self.counts)] = problems
        self.counts.append(count)
        self.payloads.append(payload)

    def finish(self, tree: Tree, limit: int) -> IndexData:
        """Group the records into titles and build the matcher."""
        rec = self.records
        titles = [keys[0][2] if keys else "" for keys in rec.keys]
        years, ids = _attach_parts(tree, self.counts, rec, titles)
        groups = group_records(rec.kinds, years, ids, titles)
        # A season or episode whose series is nowhere in the tree is not a title itself.
        groups = [g for g in groups if any(rec.keys[i] for i in g)]
        group_keys = [
            rec.keys[g[0]] if len(g) == 1 else [k for i in g for k in rec.keys[i]] for g in groups
        ]
        years = [
            rec.years[g[0]]
            if len(g) == 1
            else next((y for i in g if (y := rec.years[i]) is not None), None)
            for g in groups
        ]
        matcher = Matcher.build(group_keys, [rec.kinds[g[0]] for g in groups], years)
        return IndexData(
            tree,
            limit,
            array("q", self.counts),
            b"".join(self.payloads),
            array("q", accumulate(map(len, self.payloads))),
            self.problems,
            self.unread,
            self.retry,
            rec,
            array("q", [record for group in groups for record in group]),
            array("q", [0, *accumulate(map(len, groups))]),
            matcher,
        )


def _attach_parts(
    tree: Tree, counts: list[int], rec: Records, titles: list[str]
) -> tuple[list[int | None], list[dict[str, str]]]:
    """Years and ids to group by, with each part of a series (a title-less record: TMDb
    season or episode details) given its series' title, year and ids when the series is
    read from the part's own folder or the nearest folder above it that holds one series.
    ``titles`` is updated in place; a part whose series is not found keeps its own ids
    (the show's TMDb id, if the file had it)."""
    years, ids = list(rec.years), list(rec.ids)
    parts = [i for i, keys in enumerate(rec.keys) if not keys and rec.kinds[i] == SERIES]
    if not parts:
        return years, ids
    file_of = [file for file, n in enumerate(counts) for _ in range(n)]
    series: dict[str, set[int]] = {}
    for i, keys in enumerate(rec.keys):
        if keys and rec.kinds[i] == SERIES:
            series.setdefault(os.path.dirname(tree.relpath(file_of[i])), set()).add(i)
    for part in parts:
        folder = os.path.dirname(tree.relpath(file_of[part]))
        while True:
            here = series.get(folder)
            if here:
                if len({titles[i] for i in here}) == 1:  # two series here: whose is it?
                    owner = min(here)
                    titles[part], years[part] = titles[owner], years[owner]
                    ids[part] = {**ids[part], **ids[owner]}
                break
            if not folder:
                break
            folder = os.path.dirname(folder)
    return years, ids
