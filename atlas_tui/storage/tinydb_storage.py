"""The TinyDB data file as a checkpoint: written whole now and then, read whole or one item
at a time.

A checkpoint is plain TinyDB JSON laid out one item per line, sorted by SKU key:

    {"_meta":{"1":{"write_id":...,"layout":1,"size":"000000000004711",...}},<other tables>,
    "items":{
    "7":{"sku":"A-1",...},
    "3":{"sku":"b-2",...}
    }}

so one item is found by a binary search over the lines (no parse of the whole file) and
the first screenful is the first lines. A file in any other shape (written by plain TinyDB,
an older ATLAS, or edited by hand) is simply read whole.
"""

from __future__ import annotations

import mmap
import os
import re
import secrets
import stat
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from atlas_tui.domain.errors import StorageError
from atlas_tui.domain.models import sku_key
from atlas_tui.storage.files import atomic_write

Tables = dict[str, dict[str, Any]]
Stamp = tuple[int, int, int, int]

META_TABLE = "_meta"
ITEMS = "items"
LOCATIONS = "locations"
# 2: stock lines. A checkpoint of layout 1 (an older ATLAS's) is read whole, as any file
# not in this layout is.
LAYOUT = 2
# The store's format, as a table no older ATLAS accepts: its check of the file's shape
# refuses a table that is not an object, and prints the table's name, which says why.
FORMAT = 2
FORMAT_MARK = f"ATLAS store format {FORMAT} (stock lines): upgrade ATLAS to read it"
_FORMAT_MARK = re.compile(r"ATLAS store format (\d+)\b")
_ITEMS_LINE = b'"items":{\n'
_END = b"}}\n"
_HEAD_LIMIT = 1 << 16
# The journal a data file belongs to, from its first bytes (what version() needs).
_JOURNAL = re.compile(rb'^\{"_meta":\{"1":\{[^{}]*?"journal":"([0-9a-f]+)"')


def store_format(path: Path, tables: dict[str, Any]) -> int:
    """The format a file's marker table names (1: none, an older ATLAS's file); a newer
    format than this ATLAS reads is refused."""
    found = 1
    for name, value in tables.items():
        match = _FORMAT_MARK.match(name)
        if match and type(value) is int:
            found = max(found, value)
    if found > FORMAT:
        raise StorageError(
            f"data file {path} was written by a newer ATLAS (store format {found}; this ATLAS "
            f"reads formats up to {FORMAT}): upgrade ATLAS to open it; the file was left "
            "untouched"
        )
    return found


def _is_mark(name: str, value: object) -> bool:
    return type(value) is int and _FORMAT_MARK.match(name) is not None


def _check_shape(path: Path, data: object) -> Tables:
    if not isinstance(data, dict):
        raise StorageError(
            f"data file {path} is not ATLAS data: expected a JSON object of tables, "
            f"found {type(data).__name__}; the file was left untouched"
        )
    store_format(path, data)
    data = {name: table for name, table in data.items() if not _is_mark(name, table)}
    for table_name, table in data.items():
        if not isinstance(table, dict):
            raise StorageError(
                f"data file {path} is not ATLAS data: table {table_name!r} is "
                f"{type(table).__name__}, not an object; the file was left untouched"
            )
        for doc_id, doc in table.items():
            if not doc_id.isdigit() or not isinstance(doc, dict):
                raise StorageError(
                    f"data file {path} is not ATLAS data: table {table_name!r} entry "
                    f"{doc_id!r} is not a document; the file was left untouched"
                )
    return data


def _stamp(info: os.stat_result) -> Stamp:
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def file_stamp(path: Path) -> Stamp | None:
    """Identity of the data file on disk now (None when it does not exist): one stat."""
    try:
        return _stamp(os.stat(path))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"cannot read data file {path}: {exc.strerror}") from None


def journal_id_of(path: Path) -> str | None:
    """The journal the data file names, read from its first bytes (None if none)."""
    try:
        # O_NONBLOCK: a FIFO at the data file's name must not be waited on.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        head = os.pread(fd, 4096, 0) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
    except OSError:
        return None
    finally:
        os.close(fd)
    match = _JOURNAL.match(head)
    return match[1].decode() if match else None


def doc_key(doc: dict[str, Any]) -> str:
    """The SKU key of a stored document (however damaged)."""
    return sku_key(str(doc.get("sku", "")))


def check_writable(path: Path) -> None:
    """Refuse to change a data file nobody may write (no write bit in its mode).

    Replacing it would succeed (a rename needs only the folder), so the mode is
    checked rather than left to the system, which also lets root through.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StorageError(f"cannot read data file {path}: {exc.strerror}") from None
    if not mode & 0o222:
        raise StorageError(
            f"data file {path} is read-only (mode {mode & 0o777:03o}); nothing was "
            "changed (make it writable, e.g. chmod u+w, to allow changes)"
        )


class Checkpoint:
    """One version of the data file, held open: its bookkeeping, and its items read whole
    (`load`) or, when it has the checkpoint layout, one at a time (`lookup`, `first`)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        info = os.fstat(fd)
        self.stamp = _stamp(info)
        self.size = info.st_size
        self._fd: int | None = fd
        # A repository dropped without close() (an API caller's) must not keep the file open.
        self._release = weakref.finalize(self, os.close, fd)
        self._map: mmap.mmap | None = None
        # Set when the file has the checkpoint layout: its meta record and other tables.
        self.meta: dict[str, Any] | None = None
        self.others: Tables = {}
        self.format = 1  # set by the marker table (read with the head, or with the whole)
        self._start = self._end = 0
        self._read_head()

    @classmethod
    def open(cls, path: Path) -> Checkpoint | None:
        """The data file as it is now (a symlink to it is followed); None if missing."""
        try:
            # O_NONBLOCK: a FIFO at the data file's name must be refused, not waited on.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read data file {path}: {exc.strerror}") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise StorageError(
                    f"data file {path} is not a regular file; the file was left untouched"
                )
            return cls(path, fd)
        except BaseException:
            os.close(fd)
            raise

    def _read_head(self) -> None:
        assert self._fd is not None
        head = os.pread(self._fd, _HEAD_LIMIT, 0)
        newline = head.find(b"\n")
        if newline < 1 or head[newline - 1 : newline] != b",":
            return
        start = newline + 1
        if head[start : start + len(_ITEMS_LINE)] != _ITEMS_LINE:
            return
        if os.pread(self._fd, len(_END), self.size - len(_END)) != _END:
            return
        try:
            tables = orjson.loads(head[: newline - 1] + b"}")
            meta = tables[META_TABLE]["1"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return
        if (
            not isinstance(meta, dict)
            or meta.get("layout") != LAYOUT
            or meta.get("size") != f"{self.size:015d}"
            or ITEMS in tables
        ):
            return
        self.format = store_format(self.path, tables)
        self.meta = meta
        self.others = {
            name: table
            for name, table in tables.items()
            if name != META_TABLE and not _is_mark(name, table)
        }
        self._start = start + len(_ITEMS_LINE)
        self._end = self.size - len(_END)

    def close(self) -> None:
        if self._fd is not None:
            self._release()
            self._fd = None
        if self._map is not None:
            self._map.close()
            self._map = None

    # Reading whole ---------------------------------------------------------------------------

    def load(self) -> Tables:
        """Every table, parsed."""
        if self._fd is None:
            raise StorageError(f"data file {self.path} was closed")
        chunks = []
        offset = 0
        while chunk := os.pread(self._fd, max(self.size - offset, 1 << 20), offset):
            chunks.append(chunk)
            offset += len(chunk)
        raw = b"".join(chunks)
        if not raw.strip():
            raise StorageError(
                f"data file {self.path} is empty ({len(raw)} bytes), not ATLAS data; "
                "the file was left untouched"
            )
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StorageError(
                f"data file {self.path} is not valid JSON ({exc}); the file was left untouched"
            ) from None
        if isinstance(data, dict):
            self.format = store_format(self.path, data)
        return _check_shape(self.path, data)

    # Reading one item at a time (checkpoint layout only) -------------------------------------

    def _data(self) -> mmap.mmap:
        if self._map is None:
            assert self._fd is not None
            self._map = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
        return self._map

    def _line(self, data: mmap.mmap, start: int, end: int) -> tuple[int, dict[str, Any]]:
        line = data[start:end]
        colon = line.find(b'":')
        try:
            doc = orjson.loads(line[colon + 2 :].rstrip(b",\n"))
            doc_id = int(line[1:colon])
        except (orjson.JSONDecodeError, ValueError):
            raise StorageError(
                f"data file {self.path} has a damaged line at byte {start}; run `atlas verify`"
            ) from None
        if not isinstance(doc, dict):
            raise StorageError(f"data file {self.path} has a damaged line at byte {start}")
        return doc_id, doc

    def lookup(self, key: str) -> tuple[int, dict[str, Any]] | None:
        """The item whose SKU key is `key`: a binary search over the sorted item lines."""
        data = self._data()
        low, high = self._start, self._end
        while low < high:
            middle = (low + high) // 2
            start = data.rfind(b"\n", low, middle) + 1 or low
            start = max(start, low)
            end = data.find(b"\n", start, high) + 1 or high
            doc_id, doc = self._line(data, start, end)
            found = doc_key(doc)
            if found == key:
                return doc_id, doc
            if found < key:
                low = end
            else:
                high = start
        return None

    def each(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Every item line in SKU order, parsed one at a time (checkpoint layout only)."""
        data = self._data()
        start = self._start
        while start < self._end:
            end = data.find(b"\n", start, self._end) + 1 or self._end
            yield self._line(data, start, end)
            start = end

    def first(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """The first `limit` items by SKU key."""
        data = self._data()
        found: list[tuple[int, dict[str, Any]]] = []
        start = self._start
        while start < self._end and len(found) < limit:
            end = data.find(b"\n", start, self._end) + 1 or self._end
            found.append(self._line(data, start, end))
            start = end
        return found


def write_checkpoint(
    path: Path, meta: dict[str, Any], others: Tables, items: list[tuple[int, dict[str, Any]]]
) -> str:
    """Atomically replace the data file with a checkpoint of these items (already sorted by
    SKU key) and tables; returns its write id. The caller holds the lock."""
    write_id = secrets.token_hex(16)
    body = b",\n".join(b'"%d":%s' % (doc_id, orjson.dumps(doc)) for doc_id, doc in items)
    body = _ITEMS_LINE + body + (b"\n" if items else b"") + _END

    def head(size: int) -> bytes:
        record = {"write_id": write_id, **meta, "layout": LAYOUT, "size": f"{size:015d}"}
        tables = {META_TABLE: {"1": record}, FORMAT_MARK: FORMAT, **others}
        return orjson.dumps(tables)[:-1] + b",\n"

    size = len(head(0)) + len(body)
    try:
        # The repository removes stale temps at its first transaction: no scan per write.
        atomic_write(path, head(size) + body, clean=False)
    except OSError as exc:
        raise StorageError(
            f"cannot write data file {path}: {exc.strerror or exc}; the previous file was kept"
        ) from None
    return write_id
