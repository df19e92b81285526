"""Where the index cache lives, and reading and writing it safely.

One file per searched folder, under ``<cache dir>/media/``. It is only ever an
optimisation: anything wrong with it means "no cache". Writes go to a temp file that
replaces the old one atomically, so a crash never leaves a half-written cache in use.

Reading keeps the file open (on POSIX) so that the parts most searches never need, the
items of every file and the facts used to rebuild, are read only when they are: a
replaced cache stays readable through an open handle, so those parts always match the
part read first. Windows refuses to replace a file that is open, so there the whole
file is read at once.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

KEEP_OPEN = os.name == "posix"
HEAD_READ = 1 << 16  # the first read; it holds the header line, which is kept small


def cache_file(cache_root: Path, real_folder: str) -> Path:
    """The cache file for a folder (given by its real path) under ``cache_root``."""
    digest = hashlib.sha256(real_folder.encode("utf-8", "surrogatepass"))
    return cache_root / "media" / f"index-{digest.hexdigest()[:24]}.bin"


class CacheReader:
    """An open cache file, read from by offset; closed when no longer referenced."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._lock = threading.Lock()  # seek + read must not interleave between threads
        weakref.finalize(self, handle.close)

    def read(self, start: int, length: int, *, exact: bool = True) -> bytes:
        """``length`` bytes from ``start``: OSError if the file is shorter than that, or
        with ``exact=False`` as many as there are."""
        with self._lock:
            self._handle.seek(start)
            data = self._handle.read(length)
        if exact and len(data) != length:
            raise OSError(f"cache file ends before byte {start + length}")
        return data


@dataclass(frozen=True, slots=True)
class Deferred:
    """A part of an open cache file, read when it is first needed."""

    source: CacheReader
    start: int
    length: int

    def load(self, start: int = 0, stop: int | None = None) -> bytes:
        """The part's bytes, or ``[start:stop]`` of them; OSError if unreadable."""
        stop = self.length if stop is None else min(stop, self.length)
        return self.source.read(self.start + start, max(0, stop - start))


def read_cache(path: Path) -> tuple[bytes, CacheReader | None] | None:
    """The start of the cache file and a reader for the rest (None: ``bytes`` is all
    of it), or None when it cannot be opened."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - kept open by the reader, on purpose
    except OSError:
        return None
    try:
        if not KEEP_OPEN:
            with handle:
                return handle.read(), None
        return handle.read(HEAD_READ), CacheReader(handle)
    except OSError:
        handle.close()
        return None


def write_cache(path: Path, chunks: Iterable[bytes | memoryview]) -> None:
    """Write atomically; raises OSError when the cache folder is not writable."""
    import tempfile  # only a scan that changed something writes

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines(chunks)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    # Versions before the binary layout wrote index-*.json: nothing reads those any more.
    path.with_suffix(".json").unlink(missing_ok=True)
