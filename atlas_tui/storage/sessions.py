"""Count sessions kept in a small JSON file beside the data, changed under a lock."""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from atlas_tui.domain.errors import StorageError
from atlas_tui.storage.files import FileLock, atomic_write, open_regular

T = TypeVar("T")


_SUFFIX = ".counts.json"
_ADVICE = "move it aside"


def sessions_path(data_path: Path) -> Path:
    """Where the count sessions of a data file live."""
    return data_path.with_name(data_path.name + _SUFFIX)


class SessionFile:
    """The count sessions of one store: every change is a locked read-modify-atomic-write.

    Several operators may count into one session at once; the lock makes their
    tallies add up, and the atomic replace means a crash leaves the old or new file.
    """

    def __init__(
        self,
        path: Path,
        *,
        lock_timeout: float = 10.0,
        what: str = "count sessions file",
        empty: Callable[[], dict[str, Any]] | None = None,
        key: str = "sessions",
    ) -> None:
        self.path = path
        self._what, self._key = what, key
        self._empty = empty or (lambda: {"next_id": 1, "sessions": {}})
        # New files here take the data file's mode and group, like the data's own files.
        name = path.name.removesuffix(_SUFFIX).removesuffix(f".{key}.json")
        self._data = path.with_name(name) if name != path.name else None
        self._lock = FileLock(path.with_name(path.name + ".lock"), lock_timeout, like=self._data)

    def read(self) -> dict[str, Any]:
        """The stored document ({"next_id": n, "sessions": {...}}), empty when none yet."""
        try:
            fd = open_regular(self.path, os.O_RDONLY, self._what, advice=_ADVICE)
            with open(fd, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return self._empty()
        except OSError as exc:
            raise StorageError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        import orjson  # not on the way of commands that never count

        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StorageError(
                f"{self._what} {self.path} is damaged ({exc}); move it aside to start over"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get(self._key), dict):
            raise StorageError(f"{self._what} {self.path} is not ATLAS's; move it aside")
        return data

    def version(self) -> Hashable:
        """Changes whenever the file is replaced (each change writes a new file)."""
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def change(self, edit: Callable[[dict[str, Any]], T]) -> T:
        """Apply `edit` to the document under the lock and store it; nothing on an error."""
        self._lock.acquire()
        try:
            data = self.read()
            result = edit(data)
            import orjson

            try:
                atomic_write(self.path, orjson.dumps(data), like=self._data)
            except OSError as exc:
                raise StorageError(
                    f"cannot write {self.path}: {exc.strerror or exc}; nothing was changed"
                ) from None
            return result
        finally:
            self._lock.release()
