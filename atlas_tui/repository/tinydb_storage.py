"""A TinyDB storage that writes atomically and re-parses only when the file changed."""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from tinydb.storages import Storage

from atlas_tui.errors import StorageError
from atlas_tui.repository.files import atomic_write

Tables = dict[str, dict[str, Any]]

META_TABLE = "_meta"
# Every write stamps a random id at the head of the file: a cheap, certain change
# marker even when a replaced file reuses an inode with the same size and mtime.
_WRITE_ID = re.compile(rb'^\{"_meta":\{"1":\{"write_id":"([0-9a-f]{32})"')
_HEAD_BYTES = 64

Stamp = tuple[int, int, int, int, bytes]


def _check_shape(path: Path, data: object) -> Tables:
    if not isinstance(data, dict):
        raise StorageError(
            f"data file {path} is not ATLAS data: expected a JSON object of tables, "
            f"found {type(data).__name__}; the file was left untouched"
        )
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


class AtomicJSONStorage(Storage):
    """TinyDB storage whose writes are buffered by a transaction and committed atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: Tables | None = None
        self._stamp: Stamp | None = None
        self._in_transaction = False
        self._dirty = False
        self.reloads = 0

    def _open(self) -> BinaryIO:
        """The data file for reading (a symlink to it is followed: it may live elsewhere)."""
        # O_NONBLOCK: a FIFO at the data file's name must be refused, not waited on.
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise StorageError(
                f"data file {self.path} is not a regular file; the file was left untouched"
            )
        return open(fd, "rb")

    def stamp(self) -> Stamp | None:
        """Identity of the file on disk now (None when it does not exist)."""
        try:
            with self._open() as handle:
                return self._stamp_of(handle)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read data file {self.path}: {exc.strerror}") from None

    @staticmethod
    def _stamp_of(handle: Any) -> Stamp:
        st = os.fstat(handle.fileno())
        match = _WRITE_ID.match(handle.read(_HEAD_BYTES))
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, match[1] if match else b"")

    def refresh(self) -> bool:
        """Re-read the file if it changed since last seen; True when it was re-read."""
        try:
            handle = self._open()  # stamp and data come from one open file
        except FileNotFoundError:
            changed = self._data is None or self._stamp is not None
            self._data, self._stamp = {}, None
            return changed
        except OSError as exc:
            raise StorageError(f"cannot read data file {self.path}: {exc.strerror}") from None
        with handle:
            stamp = self._stamp_of(handle)
            if stamp == self._stamp and self._data is not None:
                return False
            handle.seek(0)
            raw = handle.read()
        self._data, self._stamp = self._parse(raw), stamp
        self.reloads += 1
        return True

    def _parse(self, raw: bytes) -> Tables:
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
        return _check_shape(self.path, data)

    def current(self) -> Tables:
        """The data as last read or written, without looking at the file."""
        if self._data is None:
            self.refresh()
        assert self._data is not None
        return self._data

    # TinyDB's Storage interface -------------------------------------------------------------

    def read(self) -> Tables:
        if not self._in_transaction:
            self.refresh()
        assert self._data is not None
        return self._data

    def write(self, data: Tables) -> None:
        if not self._in_transaction:
            raise RuntimeError("writes to the data file must happen inside a transaction")
        if not self._dirty:
            self.check_writable()
        self._data = data
        self._dirty = True

    def close(self) -> None:
        self._data, self._stamp = None, None

    # Transactions (the caller holds the cross-process lock) ---------------------------------

    def begin(self) -> bool:
        """Start buffering writes on fresh data; True when the file had changed."""
        changed = self.refresh()
        self._in_transaction = True
        self._dirty = False
        return changed

    @property
    def dirty(self) -> bool:
        """Whether the open transaction changed anything."""
        return self._dirty

    def meta(self) -> dict[str, Any]:
        """The bookkeeping record of the data as last read or written."""
        record = self.current().get(META_TABLE, {}).get("1", {})
        return record if isinstance(record, dict) else {}

    def mark_dirty(self) -> None:
        """Make the commit write the file even if no table changed (e.g. new bookkeeping)."""
        if not self._dirty:
            self.check_writable()
        self._dirty = True

    def check_writable(self) -> None:
        """Refuse to change a data file nobody may write (no write bit in its mode).

        Replacing it would succeed (a rename needs only the folder), so the mode is
        checked rather than left to the system, which also lets root through.
        """
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"cannot read data file {self.path}: {exc.strerror}") from None
        if not mode & 0o222:
            raise StorageError(
                f"data file {self.path} is read-only (mode {mode & 0o777:03o}); nothing was "
                "changed (make it writable, e.g. chmod u+w, to allow changes)"
            )

    def commit(self, meta: dict[str, Any] | None = None) -> None:
        """Write the buffered data in one atomic replace (nothing when unchanged)."""
        try:
            if self._dirty and self._data is not None:
                self._data = self.overwrite(self._data, meta)
                self._stamp = self.stamp()
        except BaseException:
            self.rollback()
            raise
        finally:
            self._in_transaction = False
            self._dirty = False

    def overwrite(self, tables: Tables, meta: dict[str, Any] | None = None) -> Tables:
        """Atomically replace the file with these tables (the caller holds the lock)."""
        if not self._in_transaction:  # a transaction checked when it first changed anything
            self.check_writable()
        body = {key: value for key, value in tables.items() if key != META_TABLE}
        record = {"write_id": secrets.token_hex(16), **(meta or {})}
        payload = {META_TABLE: {"1": record}, **body}
        try:
            # The repository removes stale temps at its first transaction: no scan per write.
            atomic_write(self.path, orjson.dumps(payload), clean=False)
        except OSError as exc:
            raise StorageError(
                f"cannot write data file {self.path}: {exc.strerror or exc}; "
                "the previous file was kept"
            ) from None
        return payload

    def rollback(self) -> None:
        """Forget buffered writes; the next read re-parses the file."""
        self._data, self._stamp = None, None
        self._in_transaction = False
        self._dirty = False
