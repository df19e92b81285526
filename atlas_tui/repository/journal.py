"""The append-only movement journal that sits beside the TinyDB data file.

History grows forever, so it is kept out of the JSON file that every write rewrites: each
commit appends its movements as NDJSON lines and fsyncs them *before* the data file is
replaced. The data file records which journal it belongs to and how many of its bytes are
committed; bytes beyond that are the remains of a commit that never finished and are
ignored by readers and cut off by the next writer.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from atlas_tui.errors import StorageError
from atlas_tui.models import sku_key
from atlas_tui.repository.files import fsync_dir, open_or_create, open_regular

# A journal is ATLAS's own file: anything else at its name is refused, never written through.
_ADVICE = "nothing was changed; move it aside and restore a backup"


def new_journal_id() -> str:
    """A fresh journal identity (a restore or a migration starts a new journal)."""
    return secrets.token_hex(6)


class Journal:
    """Reads and appends movement lines; indexes them per SKU as they are first read."""

    def __init__(self, data_path: Path) -> None:
        self.data_path = data_path
        self._indexed_id: str | None = None
        self._indexed_bytes = 0
        self._offsets = array("q")  # line start offsets, in movement id order
        self._by_sku: dict[str, list[int]] = {}  # sku key -> positions in _offsets

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

    # Writing (under the lock) ---------------------------------------------------------------

    def prepare(self, journal_id: str, committed: int) -> None:
        """Cut off what a failed commit appended; refuse a journal shorter than committed."""
        path = self.path(journal_id)
        try:
            fd = open_regular(path, os.O_RDONLY, "history journal", advice=_ADVICE)
        except FileNotFoundError:
            if committed:
                raise StorageError(
                    f"history journal {path} is missing ({committed} bytes expected); "
                    "restore a backup"
                ) from None
            return
        except OSError as exc:
            raise StorageError(
                f"cannot write history journal {path}: {exc.strerror or exc}"
            ) from None
        try:
            size = os.fstat(fd).st_size
            if size < committed:
                raise StorageError(
                    f"history journal {path} is shorter ({size} bytes) than the data file "
                    f"records ({committed}); restore a backup"
                )
            if size > committed:
                self._cut(path, committed)
        except OSError as exc:
            raise StorageError(
                f"cannot write history journal {path}: {exc.strerror or exc}"
            ) from None
        finally:
            os.close(fd)

    @staticmethod
    def _cut(path: Path, size: int) -> None:
        # Only ever our own regular file, never a symlink's target.
        fd = open_regular(path, os.O_WRONLY, "history journal", advice=_ADVICE)
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, journal_id: str, committed: int, records: list[dict[str, Any]]) -> int:
        """Durably append records after `committed` bytes; returns the new committed size."""
        if not records:
            return committed
        payload = b"".join(orjson.dumps(record) + b"\n" for record in records)
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

    def write_new(self, journal_id: str, records: list[dict[str, Any]]) -> int:
        """Write a whole new journal (restore, migration); returns its size."""
        path = self.path(journal_id)
        path.unlink(missing_ok=True)
        return self.append(journal_id, 0, records)

    # Reading ------------------------------------------------------------------------------

    def records(self, journal_id: str | None, committed: int) -> Iterator[dict[str, Any]]:
        """Every committed record, oldest first."""
        if journal_id is None or committed == 0:
            return
        with self._open(journal_id) as handle:
            remaining = committed
            for line in handle:
                if remaining <= 0:
                    break
                remaining -= len(line)
                yield self._parse(journal_id, line)

    def records_for(self, journal_id: str | None, committed: int, key: str) -> list[dict[str, Any]]:
        """The committed records of one SKU key, oldest first, via the per-SKU index."""
        if journal_id is None or committed == 0:
            return []
        self._index(journal_id, committed)
        positions = self._by_sku.get(key, [])
        found = []
        with self._open(journal_id) as handle:
            for position in positions:
                offset = self._offsets[position]
                if offset >= committed:
                    break
                handle.seek(offset)
                found.append(self._parse(journal_id, handle.readline()))
        return found

    def _index(self, journal_id: str, committed: int) -> None:
        """Extend the per-SKU index over bytes not indexed yet (the journal only grows)."""
        if self._indexed_id != journal_id:
            self._indexed_id, self._indexed_bytes = journal_id, 0
            self._offsets, self._by_sku = array("q"), {}
        if self._indexed_bytes >= committed:
            return
        with self._open(journal_id) as handle:
            handle.seek(self._indexed_bytes)
            offset = self._indexed_bytes
            while offset < committed:
                line = handle.readline()
                if not line:
                    break
                record = self._parse(journal_id, line)
                self._by_sku.setdefault(sku_key(str(record.get("sku", ""))), []).append(
                    len(self._offsets)
                )
                self._offsets.append(offset)
                offset += len(line)
        self._indexed_bytes = offset

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
