"""Crash-safe file writing and the cross-process lock (POSIX)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import os
import socket
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from atlas_tui.errors import BusyError, StorageError

_UMASK: int | None = None


def _umask() -> int:
    global _UMASK
    if _UMASK is None:
        # There is no os.getumask() before 3.13; set-and-restore happens once per process.
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


def temp_prefix(path: Path) -> str:
    """Temp files of `path` are hidden siblings with this prefix."""
    return f".{path.name}."


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file, never a mix.

    The new file keeps the mode and group of the file it replaces, so data shared
    by a group stays shared.
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    try:
        old = os.stat(path)
    except FileNotFoundError:
        old = None
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if old is not None:
                os.fchmod(handle.fileno(), old.st_mode & 0o7777)
                with contextlib.suppress(PermissionError):
                    os.fchown(handle.fileno(), -1, old.st_gid)
            else:
                os.fchmod(handle.fileno(), 0o666 & ~_umask())
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    fsync_dir(directory)


def remove_stale_temps(path: Path) -> int:
    """Delete temp files a killed writer left beside `path` (call only under the lock)."""
    removed = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(path.parent):
            if entry.name.startswith(temp_prefix(path)) and entry.name.endswith(".tmp"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def _whoami() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    stamp = datetime.now(UTC).strftime("%H:%M:%SZ")
    return f"{user}@{socket.gethostname()} pid {os.getpid()} since {stamp}"


class FileLock:
    """An exclusive flock on a sibling file; the kernel drops it when the holder dies."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self) -> None:
        """Wait up to `timeout` seconds, then raise BusyError naming the holder."""
        fd = self._open()
        deadline = time.monotonic() + self.timeout
        pause = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise StorageError(f"cannot lock {self.path}: {exc.strerror}") from None
            if time.monotonic() >= deadline:
                holder = self._read_holder(fd)
                os.close(fd)
                raise BusyError(
                    f"data is busy (held by {holder}) for more than {self.timeout:g}s, try again"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        self._fd = fd
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, _whoami().encode(), 0)

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT, self._mode())
        except PermissionError:
            # flock needs no write access: a colleague's lock file still serves as a lock.
            with contextlib.suppress(OSError):
                return os.open(self.path, os.O_RDONLY)
            raise StorageError(f"cannot open lock file {self.path}: permission denied") from None
        except OSError as exc:
            raise StorageError(
                f"cannot open lock file {self.path}: {exc.strerror or exc}"
            ) from None

    def _mode(self) -> int:
        """A new lock file is as shared as the data it guards."""
        data = self.path.with_suffix("") if self.path.suffix == ".lock" else self.path
        try:
            return os.stat(data).st_mode & 0o666
        except OSError:
            return 0o666

    @staticmethod
    def _read_holder(fd: int) -> str:
        try:
            text = os.pread(fd, 200, 0).decode(errors="replace").strip()
        except OSError:
            text = ""
        return text or "another ATLAS process"

    def release(self) -> None:
        """Let the next waiter in."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
