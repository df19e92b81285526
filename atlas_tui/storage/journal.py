"""The append-only journal beside the TinyDB data file: history, and the changes since the
last checkpoint of the data file.

Each commit appends one transaction: its movement lines (the history, one JSON line per
movement, kept forever), one line per changed item (`{"~i":id,"k":key,"d":doc|null}`), and
a commit line (`{"~c":txn,...,"len":bytes,"crc":crc32}`) that closes it. A transaction
counts once its commit line is complete and matches the bytes before it; anything after
the last such line is the remains of a commit that never finished: readers ignore it and
the next writer cuts it off. The journal's first bytes, up to the count the data file
records (`journal_bytes`), are committed by the data file itself (a checkpoint, or a
whole-file commit, which writes movement lines with no commit line).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import secrets
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from atlas_tui.domain.errors import StorageError
from atlas_tui.domain.models import sku_key
from atlas_tui.storage.files import fsync_dir, open_or_create, open_regular

# A journal is ATLAS's own file: anything else at its name is refused, never written through.
_ADVICE = "nothing was changed; move it aside and restore a backup"
ITEM = b'{"~i":'
COMMIT = b'{"~c":'
_META_LINE = b'{"~'


# Bytes of journal searched per call (well under a millisecond of the interpreter's time).
_SCAN_WINDOW = 1 << 16


def new_journal_id() -> str:
    """A fresh journal identity (a restore or a migration starts a new journal)."""
    return secrets.token_hex(6)


def lines(records: list[dict[str, Any]]) -> bytes:
    """Movement records as NDJSON."""
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def item_line(doc_id: int, key: str, doc: dict[str, Any] | None) -> bytes:
    """The line that sets (or, with None, removes) one item document."""
    return b'{"~i":%d,"k":%s,"d":%s}\n' % (doc_id, orjson.dumps(key), orjson.dumps(doc))


def _totals_crc(body: bytes | memoryview, totals: dict[str, int]) -> int:
    fixed = b"%d,%d,%d,%d" % (totals["~c"], totals["movements"], totals["count"], totals["next"])
    return zlib.crc32(fixed, zlib.crc32(body))


def transaction(body: bytes, totals: dict[str, int]) -> bytes:
    """A transaction's bytes: the body, then the commit line that closes it.

    `totals` holds the store's bookkeeping after it: "~c" (transaction number),
    "movements", "count" (items) and "next" (next item id).
    """
    marker = {**totals, "len": len(body), "crc": _totals_crc(body, totals)}
    return body + orjson.dumps(marker) + b"\n"


def transactions(
    data: bytes | bytearray, start: int = 0
) -> Iterator[tuple[int, int, dict[str, int]]]:
    """The complete, intact transactions of `data` from `start` (a transaction boundary):
    (body start, end, totals) each; stops at the first one that is not."""
    view = memoryview(data)
    begin = start
    while True:
        newline = data.find(b"\n" + COMMIT, begin)
        if newline < 0:
            return
        mark = newline + 1
        end = data.find(b"\n", mark)
        if end < 0:
            return
        try:
            totals = orjson.loads(view[mark:end])
            if not isinstance(totals, dict):
                return
            body = view[begin:mark]
            if totals.get("len") != len(body) or totals.get("crc") != _totals_crc(body, totals):
                return
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return
        yield begin, end + 1, totals
        begin = end + 1


def has_commit_line(data: bytes) -> bool:
    """Whether `data` holds a complete commit line (a torn commit never does)."""
    at = data.find(COMMIT)
    while at >= 0:
        if (at == 0 or data[at - 1] == 0x0A) and data.find(b"\n", at) >= 0:
            return True
        at = data.find(COMMIT, at + 1)
    return False


def item_records(data: bytes | bytearray, start: int, end: int) -> Iterator[dict[str, Any]]:
    """The item lines of a transaction body [start, end), parsed (they follow its movements)."""
    if data.startswith(ITEM, start):
        at = start
    else:
        found = data.find(b"\n" + ITEM, start, end)
        if found < 0:
            return
        at = found + 1
    view = memoryview(data)
    while at < end:
        stop = data.find(b"\n", at, end)
        if stop < 0:
            return
        if data.startswith(ITEM, at):
            yield orjson.loads(view[at:stop])
        at = stop + 1


def find_item(tail: bytearray, key: str) -> tuple[int, dict[str, Any] | None] | None:
    """The latest item line for `key` in committed tail bytes: (id, doc or None if removed)."""
    needle = b',"k":' + orjson.dumps(key) + b',"d":'
    at = len(tail)
    while True:
        at = tail.rfind(needle, 0, at)
        if at < 0:
            return None
        start = tail.rfind(b"\n", 0, at) + 1
        if tail.startswith(ITEM, start) and tail[start + len(ITEM) : at].isdigit():
            record = orjson.loads(memoryview(tail)[start : tail.find(b"\n", at)])
            return int(record["~i"]), record["d"]


def _sku_pattern(key: str) -> re.Pattern[bytes] | None:
    """Lines that may be movements of `key`: a cheap scan instead of parsing every line.

    Movement lines start {"id":N,"sku":"..." (or {"sku":... from older files). Matched:
    those whose SKU equals the key in any ASCII case, those whose SKU has escapes or
    non-ASCII bytes, and lines in any other shape; each is then parsed and compared
    exactly. None when the key itself is not plain ASCII (then every line is parsed).
    """
    if not key.isascii():
        return None
    text = orjson.dumps(key)[1:-1]
    return re.compile(
        rb'\n(?:\{(?:"id":\d+,)?"sku":"(?:(?i:'
        + re.escape(text)
        + rb')"|[^"\n]*[\x80-\xff\\])|\{(?!"id":\d+,"sku":"|"sku":"|"~))'
    )


# Every movement line, its SKU taken when it is plain (no escape): the others, and lines of any
# other shape except item and commit lines ({"~...), are parsed to learn theirs.
_ANY_MOVEMENT = re.compile(
    rb'\n(?:\{(?:"id":\d+,)?"sku":"([^"\\\n]*)"|\{(?!(?:"id":\d+,)?"sku":"[^"\\\n]*"|"~))'
)


class Journal:
    """Reads and appends journal lines; finds one SKU's movements with a byte scan."""

    def __init__(self, data_path: Path) -> None:
        self.data_path = data_path
        self._scanned_id: str | None = None
        # sku key -> (line offsets of its movements, bytes scanned so far)
        self._found: dict[str, tuple[list[int], int]] = {}
        # Bytes of the journal every key's offsets cover (index_all): a key not in _found
        # has no movement before it.
        self._all = 0

    def path(self, journal_id: str) -> Path:
        """e.g. atlas.json.history-3f9a1c2b7d10.ndjson beside atlas.json."""
        return self.data_path.with_name(f"{self.data_path.name}.history-{journal_id}.ndjson")

    def others(self, journal_id: str | None) -> list[Path]:
        """Journal files of this data file other than the current one (orphans).

        Only names new_journal_id() makes, and only files or symlinks (removing a link
        leaves what it points to alone).
        """
        own = re.compile(re.escape(f"{self.data_path.name}.history-") + r"[0-9a-f]+\.ndjson")
        keep = None if journal_id is None else self.path(journal_id).name
        with contextlib.suppress(FileNotFoundError):
            return [
                Path(entry.path)
                for entry in os.scandir(self.data_path.parent)
                if own.fullmatch(entry.name)
                and entry.name != keep
                and (entry.is_symlink() or entry.is_file(follow_symlinks=False))
            ]
        return []

    # Reading raw bytes ----------------------------------------------------------------------

    def size(self, journal_id: str) -> int | None:
        """The journal's size now (None when it does not exist)."""
        try:
            fd = open_regular(self.path(journal_id), os.O_RDONLY, "history journal", advice=_ADVICE)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(
                f"cannot read history journal {self.path(journal_id)}: {exc.strerror}"
            ) from None
        try:
            return os.fstat(fd).st_size
        finally:
            os.close(fd)

    def read(self, journal_id: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of the journal (fewer if it is shorter now)."""
        chunks = []
        with self._open(journal_id) as handle:
            handle.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = handle.read(remaining)
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        return b"".join(chunks)

    # Writing (under the lock) ---------------------------------------------------------------

    def check_length(self, journal_id: str | None, committed: int, size: int | None) -> None:
        """Refuse a journal that is missing or shorter than the data file records."""
        if journal_id is None or committed == 0:
            return
        path = self.path(journal_id)
        if size is None:
            raise StorageError(
                f"history journal {path} is missing ({committed} bytes expected); restore a backup"
            )
        if size < committed:
            raise StorageError(
                f"history journal {path} is shorter ({size} bytes) than the data file "
                f"records ({committed}); restore a backup"
            )

    def cut(self, journal_id: str, size: int) -> None:
        """Cut off what a commit that never finished appended after `size` bytes."""
        path = self.path(journal_id)
        try:
            # Only ever our own regular file, never a symlink's target.
            fd = open_regular(path, os.O_WRONLY, "history journal", advice=_ADVICE)
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StorageError(
                f"cannot write history journal {path}: {exc.strerror or exc}"
            ) from None

    def append(self, journal_id: str, committed: int, payload: bytes) -> int:
        """Durably write `payload` after `committed` bytes; returns the new end."""
        if not payload:
            return committed
        path = self.path(journal_id)
        try:
            fd, created = open_or_create(
                path, os.O_WRONLY, "history journal", like=self.data_path, advice=_ADVICE
            )
            try:
                os.lseek(fd, committed, os.SEEK_SET)
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                fsync_dir(path.parent)
        except OSError as exc:
            raise StorageError(
                f"cannot write history journal {path}: {exc.strerror or exc}; nothing was changed"
            ) from None
        return committed + len(payload)

    def write_new(self, journal_id: str, payload: bytes) -> int:
        """Write a whole new journal (restore, migration); returns its size."""
        path = self.path(journal_id)
        path.unlink(missing_ok=True)
        return self.append(journal_id, 0, payload)

    # Reading movements ----------------------------------------------------------------------

    def records(self, journal_id: str | None, committed: int) -> Iterator[dict[str, Any]]:
        """Every committed movement record, oldest first."""
        if journal_id is None or committed == 0:
            return
        with self._open(journal_id) as handle:
            remaining = committed
            for line in handle:
                if remaining <= 0:
                    break
                remaining -= len(line)
                if not line.startswith(_META_LINE):
                    yield self._parse(journal_id, line)

    def latest(self, journal_id: str | None, committed: int, limit: int) -> list[dict[str, Any]]:
        """The last `limit` committed movement records, newest first: read backwards from
        the committed end a window at a time, so a long journal costs no more than a short
        one."""
        found: list[dict[str, Any]] = []
        if journal_id is None or committed == 0 or limit <= 0:
            return found
        with self._open(journal_id) as handle:
            end, rest = committed, b""
            while end > 0 and len(found) < limit:
                start = max(0, end - _SCAN_WINDOW)
                handle.seek(start)
                chunk = handle.read(end - start) + rest
                end = start
                parts = chunk.split(b"\n")
                # The first part may be the end of a line that began further back.
                rest = parts.pop(0) if start > 0 else b""
                for line in reversed(parts):
                    if line and not line.startswith(_META_LINE):
                        found.append(self._parse(journal_id, line))
                        if len(found) == limit:
                            break
        return found

    def records_for(self, journal_id: str | None, committed: int, key: str) -> list[dict[str, Any]]:
        """The committed movement records of one SKU key, oldest first.

        The first request for a key scans the journal's bytes for lines that may be its
        movements (a regular expression, no JSON parse per line); later ones scan only
        what was appended since.
        """
        if journal_id is None or committed == 0:
            return []
        if self._scanned_id != journal_id:
            self._scanned_id, self._found, self._all = journal_id, {}, 0
        offsets, scanned = self._found.get(key, ([], self._all))
        found: list[dict[str, Any]] = []
        with self._open(journal_id) as handle:
            if scanned < committed:
                offsets = [*offsets, *self._scan(journal_id, handle, key, scanned, committed)]
                self._found[key] = (offsets, committed)
            for offset in offsets:
                if offset >= committed:
                    break
                handle.seek(offset)
                record = self._parse(journal_id, handle.readline())
                if sku_key(str(record.get("sku", ""))) == key:
                    found.append(record)
        return found

    def indexed(self, journal_id: str | None) -> int:
        """How many bytes of this journal every key's offsets cover (see `index_all`)."""
        return self._all if journal_id is not None and journal_id == self._scanned_id else 0

    def index_all(self, journal_id: str, start: int, committed: int) -> dict[str, list[int]]:
        """Where every SKU's movements are in [start, committed), in one pass.

        Touches nothing shared (the caller need not hold a lock: committed bytes never
        change); `adopt` takes the result. About a second per million lines.
        """
        found: dict[str, list[int]] = {}
        if start >= committed:
            return found
        with (
            self._open(journal_id) as handle,
            mmap.mmap(handle.fileno(), committed, access=mmap.ACCESS_READ) as data,
        ):
            if start == 0 and data[:3] != _META_LINE:  # the first line has no newline before
                first = self._parse(journal_id, data[: data.find(b"\n")])
                found.setdefault(sku_key(str(first.get("sku", ""))), []).append(0)
            for match in self._windows(_ANY_MOVEMENT, data, max(start - 1, 0), committed):
                offset = match.start() + 1
                plain = match[1]
                if plain is not None:
                    try:
                        key = sku_key(plain.decode())
                    except UnicodeDecodeError:
                        continue  # not a line ATLAS wrote: `atlas verify` reports it
                else:
                    line = data[offset : data.find(b"\n", offset, committed)]
                    key = sku_key(str(self._parse(journal_id, line).get("sku", "")))
                found.setdefault(key, []).append(offset)
        return found

    def adopt(
        self, journal_id: str, start: int, committed: int, found: dict[str, list[int]]
    ) -> None:
        """Take `index_all`'s result (under the caller's lock): every key's lookups then
        read only its own lines, and a key not found has no movements before `committed`."""
        if journal_id != self._scanned_id:
            self._scanned_id, self._found, self._all = journal_id, {}, 0
        if self._all != start:
            return  # another index got there first
        known = self._found
        for key, offsets in found.items():
            had, scanned = known.get(key, ([], start))
            known[key] = ([*had, *(o for o in offsets if o >= scanned)], max(scanned, committed))
        for key, (had, scanned) in known.items():
            if key not in found and scanned < committed:
                known[key] = (had, committed)
        self._all = committed

    def _scan(self, journal_id: str, handle: Any, key: str, start: int, end: int) -> list[int]:
        """Line offsets in [start, end) that hold movements of `key`."""
        pattern = _sku_pattern(key)
        with mmap.mmap(handle.fileno(), end, access=mmap.ACCESS_READ) as data:
            if pattern is None:
                candidates: Iterator[int] = self._line_starts(data, start, end)
            else:
                # A line is found by the newline before it: the first line has none.
                first = [start] if start == 0 else []
                matched = self._matches(pattern, data, max(start - 1, 0), end)
                candidates = iter([*first, *matched])
            offsets = []
            for offset in candidates:
                if offset >= end or data[offset : offset + 3] == _META_LINE:
                    continue
                line = data[offset : data.find(b"\n", offset, end)]
                record = self._parse(journal_id, line)
                if sku_key(str(record.get("sku", ""))) == key:
                    offsets.append(offset)
        return offsets

    @staticmethod
    def _windows(
        pattern: re.Pattern[bytes], data: mmap.mmap, start: int, end: int
    ) -> Iterator[re.Match[bytes]]:
        """Where `pattern` matches, 64 KiB at a time: one search call over a big journal
        would hold the interpreter (and the app's screen) for its whole length. Windows end
        at a newline, and a match never crosses one."""
        while start < end:
            stop = data.find(b"\n", start + _SCAN_WINDOW, end)
            stop = end if stop < 0 else stop
            yield from pattern.finditer(data, start, stop)
            start = stop

    @classmethod
    def _matches(
        cls, pattern: re.Pattern[bytes], data: mmap.mmap, start: int, end: int
    ) -> Iterator[int]:
        return (match.start() + 1 for match in cls._windows(pattern, data, start, end))

    @staticmethod
    def _line_starts(data: mmap.mmap, start: int, end: int) -> Iterator[int]:
        offset = start
        while offset < end:
            yield offset
            newline = data.find(b"\n", offset, end)
            if newline < 0:
                return
            offset = newline + 1

    def _open(self, journal_id: str) -> Any:
        path = self.path(journal_id)
        try:
            return os.fdopen(
                open_regular(path, os.O_RDONLY, "history journal", advice=_ADVICE), "rb"
            )
        except FileNotFoundError:
            raise StorageError(f"history journal {path} is missing; restore a backup") from None
        except OSError as exc:
            raise StorageError(f"cannot read history journal {path}: {exc.strerror}") from None

    def _parse(self, journal_id: str, line: bytes) -> dict[str, Any]:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise StorageError(
                f"history journal {self.path(journal_id)} has a damaged line ({exc}); "
                "run `atlas verify`"
            ) from None
        if not isinstance(record, dict):
            raise StorageError(
                f"history journal {self.path(journal_id)} has a line that is not a movement"
            )
        return record
