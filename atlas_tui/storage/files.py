"""Crash-safe file writing, files opened without following links, and the writers' lock.

Every file ATLAS keeps beside the data (lock, journal, sessions, temps) is opened with
O_NOFOLLOW and O_NONBLOCK and checked to be a regular file: a symlink or a FIFO planted
at its name is refused, never followed or waited on. POSIX only.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
import struct
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from atlas_tui.domain.errors import BusyError, StorageError

_UMASK: int | None = None  # where /proc cannot tell

# O_NONBLOCK: opening a FIFO must not wait for its other end; it is refused right after.
_SAFE = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK

# ".<owner name>.<random>.tmp", plus what SQLite adds beside a database it writes. The
# random part has no dot, so the owner is the name up to the last dot before it.
_TEMP = re.compile(r"\.(?P<owner>.+)\.(?P<random>[A-Za-z0-9_-]+)\.tmp(?P<side>-journal|-wal|-shm)?")
_RANDOM = re.compile(r"[0-9a-f]{16}")  # what new_temp makes
SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")

# Told who holds the lock when a wait for it starts, and None when the wait ends.
LockWatcher = Callable[[str | None], None]


def _umask() -> int:
    global _UMASK
    # There is no os.getumask() before 3.13. Linux shows it in /proc without changing it
    # (a set-and-restore would briefly apply to files other threads create meanwhile).
    status = "/proc/self/status"
    with contextlib.suppress(OSError, ValueError), open(status, errors="replace") as lines:
        for line in lines:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


def open_regular(
    path: Path, flags: int, what: str, *, advice: str = "remove it", mode: int = 0o600
) -> int:
    """A descriptor of the regular file named `path` itself, never of a symlink's target.

    Something else at that name is refused with a StorageError naming `what`; a missing
    file raises FileNotFoundError, other failures their OSError.
    """
    try:
        fd = os.open(path, flags | _SAFE, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP and os.path.islink(path):
            raise StorageError(f"{what} {path} is a symbolic link; {advice}") from None
        if exc.errno in (errno.ENXIO, errno.EISDIR):  # a FIFO with no reader, a folder
            raise StorageError(f"{what} {path} is not a regular file; {advice}") from None
        raise
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        os.close(fd)
        raise
    if not regular:
        os.close(fd)
        raise StorageError(f"{what} {path} is not a regular file; {advice}")
    return fd


def open_or_create(
    path: Path, flags: int, what: str, *, like: Path | None, advice: str = "remove it"
) -> tuple[int, bool]:
    """open_regular, creating the file when it is missing; returns (fd, created).

    A file created here gets the mode and group of `like` (see share_like).
    """
    while True:
        with contextlib.suppress(FileNotFoundError):
            return open_regular(path, flags, what, advice=advice), False
        try:
            fd = open_regular(path, flags | os.O_CREAT | os.O_EXCL, what, advice=advice)
        except FileExistsError:
            continue  # another process created it meanwhile: open theirs
        try:
            share_like(fd, like)
        except OSError:
            os.close(fd)
            raise
        return fd, True


def share_like(fd: int, like: Path | None) -> None:
    """Give a file just created the mode and group of `like` (the data file), else what
    the umask allows, so every file of a group-shared store stays group-writable."""
    try:
        info = os.stat(like) if like is not None else None
    except OSError:
        info = None
    if info is None:
        os.fchmod(fd, 0o666 & ~_umask())
        return
    with contextlib.suppress(PermissionError):
        os.fchown(fd, -1, info.st_gid)
    os.fchmod(fd, info.st_mode & 0o666)


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Temp files ---------------------------------------------------------------------------------


def new_temp(path: Path) -> tuple[Path, int]:
    """A new, empty temp file beside `path` (".<name>.<random>.tmp") and its descriptor.

    The descriptor holds a flock until it is closed: that is how cleanup tells a temp
    whose writer is still at work from one a killed writer left.
    """
    while True:
        temp = path.with_name(f".{path.name}.{os.urandom(8).hex()}.tmp")
        try:
            fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | _SAFE, 0o600)
        except FileExistsError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            mine = _same_file(temp, os.fstat(fd))
        except OSError:
            mine = False  # a cleanup took it for a leftover before we locked it
        if mine:
            return temp, fd
        os.close(fd)


def check_still_ours(temp: Path, fd: int) -> None:
    """OSError unless `temp` still names the file open as `fd`: what a program opened by
    that name (SQLite) must be ours, not a symlink someone put in its place."""
    if not _same_file(temp, os.fstat(fd)):
        raise OSError(f"temp file {temp} was replaced while in use")


def _same_file(path: Path | str, info: os.stat_result) -> bool:
    try:
        now = os.lstat(path)
    except FileNotFoundError:
        return False
    return (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino)


def _owned_by(owner: str, name: str) -> bool:
    """Temps of `owner` are cleaned with those of `name`: the same file, or a backup of
    the same series (each backup has a new name, so a killed one is found this way)."""
    if owner == name:
        return True
    from atlas_tui.storage.backups import same_series  # when cleaning up only

    return same_series(owner, name)


def remove_stale_temps(path: Path, *, legacy: bool = False) -> int:
    """Delete the temp files a killed writer left for `path`; returns how many.

    Only names made for `path` (see new_temp, and SQLite's files beside them) are
    touched, and only when no live writer holds them. `legacy` also takes the names
    older versions made (any random part): only in ATLAS's own folders, since in a
    user's folder ".report.csv.old.tmp" may well be the user's.
    """
    try:
        entries = [entry.name for entry in os.scandir(path.parent)]
    except FileNotFoundError:
        return 0
    removed = 0
    sides: list[tuple[str, str]] = []
    for name in entries:
        match = _TEMP.fullmatch(name)
        if (
            match is None
            or not (legacy or _RANDOM.fullmatch(match["random"]))
            or not _owned_by(match["owner"], path.name)
        ):
            continue
        full = str(path.parent / name)
        if match["side"]:
            sides.append((full, full[: -len(match["side"])]))
        else:
            removed += _remove_if_abandoned(full)
    for side, main in sides:
        # SQLite removes these before its database is closed; without it, they are left over.
        if not os.path.lexists(main):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(side)
                removed += 1
    return removed


def _remove_if_abandoned(name: str) -> int:
    try:
        fd = os.open(name, os.O_RDONLY | _SAFE)
    except OSError:
        return 0  # gone already, not a plain file, or not ours to read
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return 0
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return 0  # its writer is at work
        # Locked, but perhaps after its writer renamed it into place: only unlink that name
        # if it still is the file we hold.
        if not _same_file(name, info):
            return 0
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
            return 1
        return 0
    finally:
        os.close(fd)


def remove_temp(temp: Path) -> None:
    """Remove a temp file of ours and whatever SQLite left beside it."""
    for side in ("", *SQLITE_SIDE_FILES):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{temp}{side}")


def atomic_write(path: Path, data: bytes, *, like: Path | None = None, clean: bool = True) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file, never a mix.

    The new file keeps the mode and group of the file it replaces, so data shared by a
    group stays shared; a first version takes those of `like` (else the umask).
    With `clean`, temps a killed writer left for `path` are removed first (a caller that
    cleans once per process, as the data file's repository does, passes False).
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    if clean:
        remove_stale_temps(path)
    try:
        old = os.stat(path)
    except FileNotFoundError:
        old = None
    temp, fd = new_temp(path)
    try:
        if old is not None:
            with contextlib.suppress(PermissionError):
                os.fchown(fd, -1, old.st_gid)
            os.fchmod(fd, old.st_mode & 0o7777)
        else:
            share_like(fd, like)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    finally:
        os.close(fd)
    fsync_dir(directory)


# The writers' lock --------------------------------------------------------------------------


def login_name() -> str:
    """The OS login name, as getpass.getuser() finds it (without importing termios)."""
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        user = os.environ.get(variable)
        if user:
            return user
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):
        return "unknown"


def _whoami() -> str:
    user = login_name()
    stamp = datetime.now(UTC).strftime("%H:%M:%SZ")
    return f"{user}@{os.uname().nodename} pid {os.getpid()} since {stamp}"


# Waiters queue up in one small file per folder (the folder's flock is what every lock there
# shares): a ticket counter at its start, and one byte per ticket, locked by its holder (OFD
# locks: per open file, not per process, so threads and kill -9 behave as with flock). A
# waiter waits for the byte of the ticket before its own, which its owner unlocks when it is
# done, dies or gives up: arrival order, with no polling. Where OFD locks are missing (not
# Linux) the queue is skipped and the kernel's flock alone decides, which wakes every waiter
# at once.
_OFD_SETLK: int | None = getattr(fcntl, "F_OFD_SETLK", None)
_OFD_SETLKW: int | None = getattr(fcntl, "F_OFD_SETLKW", None)
QUEUE_NAME = ".atlas-queue"
_COUNTER = 8  # bytes at offset 0: the last ticket handed out, little-endian
_SLOTS = 4096  # offset of ticket 0's byte
_TICKETS = 1 << 40  # tickets wrap around here (years of writes)


def _range_lock(fd: int, kind: int, start: int, length: int, *, block: bool) -> bool:
    """An OFD lock (or unlock) of bytes [start, start + length); False if `block` is off and
    another open file holds a conflicting one."""
    command = _OFD_SETLKW if block else _OFD_SETLK
    assert command is not None
    request = struct.pack("hhqqi4x", kind, os.SEEK_SET, start, length, 0)
    try:
        fcntl.fcntl(fd, command, request)
    except OSError as exc:
        if not block and exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _slot(ticket: int) -> int:
    return _SLOTS + ticket % _TICKETS


class _FolderHold:
    """This process's flock on one folder, shared by the locks it holds there.

    Every thread of the process waits for it on the same open folder (`fd`), so when the
    kernel grants it, it is granted to all of them: several locks of one folder held by one
    process never wait for each other there.
    """

    # A plain class, not a dataclass: making one costs every command half a millisecond.
    __slots__ = ("fd", "held", "names", "waiting")

    def __init__(self, fd: int | None) -> None:
        self.fd = fd  # None where folders cannot be locked: the lock file alone serves
        self.names: set[str] = set()
        self.waiting = 0  # threads in flock() on fd
        self.held = False


_folders: dict[tuple[int, int], _FolderHold] = {}
# One thread of this process at a time per lock (folder, name); the others wait here.
_names: dict[tuple[tuple[int, int], str], threading.Lock] = {}
_folders_mutex = threading.Lock()
# Attempts holding or waiting for a lock: a forked child closes its copies of their files.
_attempts: weakref.WeakSet[_Attempt] = weakref.WeakSet()


def _forget_folders() -> None:
    """In a forked child: the parent's holds are not the child's."""
    global _folders_mutex
    _folders_mutex = threading.Lock()
    for hold in _folders.values():
        if hold.fd is not None:
            with contextlib.suppress(OSError):
                os.close(hold.fd)  # the parent keeps its lock: the flock is on its open file
    _folders.clear()
    _names.clear()
    for attempt in list(_attempts):
        attempt.forget()
    _attempts.clear()


os.register_at_fork(after_in_child=_forget_folders)


def _folder_key(folder: Path) -> tuple[int, int]:
    try:
        info = os.stat(folder)
    except OSError as exc:
        raise StorageError(f"cannot lock {folder}: {exc.strerror or exc}") from None
    return (info.st_dev, info.st_ino)


def _name_lock(key: tuple[int, int], name: str) -> threading.Lock:
    with _folders_mutex:
        return _names.setdefault((key, name), threading.Lock())


def _open_folder(folder: Path, key: tuple[int, int]) -> int | None:
    """The folder open for flock; -1 if it was renamed meanwhile, None where folders cannot
    be opened (not readable)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        return None
    if (info.st_dev, info.st_ino) != key:
        os.close(fd)
        return -1
    return fd


def _enter_folder(folder: Path, name: str, *, block: bool) -> tuple[int, int] | None:
    """Take the folder's lock for lock `name`; its key, or None if busy (only when not
    `block`). The caller holds the name (see _name_lock)."""
    while True:
        key = _folder_key(folder)
        with _folders_mutex:
            hold = _folders.get(key)
            if hold is None:
                fd = _open_folder(folder, key)
                if fd == -1:
                    continue  # renamed meanwhile: look again
                hold = _folders[key] = _FolderHold(fd)
            if hold.held or hold.fd is None:
                hold.held = True
                hold.names.add(name)
                return key
            hold.waiting += 1
            fd = hold.fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
            got = True
        except OSError as exc:
            got = exc.errno != errno.EWOULDBLOCK  # elsewhere (NFS) the lock file alone serves
        with _folders_mutex:
            hold.waiting -= 1
            if got:
                hold.held = True
                hold.names.add(name)
                return key
            _settle(key, hold)
            return None


def _settle(key: tuple[int, int], hold: _FolderHold) -> None:
    """Under _folders_mutex: let the folder go once no lock of ours holds or waits for it."""
    if hold.names or hold.waiting:
        return
    if hold.fd is not None:
        if hold.held:
            with contextlib.suppress(OSError):
                fcntl.flock(hold.fd, fcntl.LOCK_UN)
        os.close(hold.fd)
    hold.held = False
    if _folders.get(key) is hold:
        del _folders[key]


def _leave_folder(key: tuple[int, int], name: str) -> None:
    with _folders_mutex:
        hold = _folders.get(key)
        if hold is not None:
            hold.names.discard(name)
            _settle(key, hold)


class _Attempt:
    """One acquisition of a FileLock, step by step in arrival order: this process's turn
    for the name, a ticket in the queue, the turn of that ticket, the folder, the lock file.

    Each step is tried without waiting first; when one would wait, a helper thread takes
    the remaining steps with blocking calls (woken by the kernel, never by a timer) while
    the caller waits for it up to its deadline. A caller that gives up abandons the
    attempt: its thread keeps its place and lets the lock go the moment it gets it.
    """

    def __init__(self, lock: FileLock) -> None:
        self.lock = lock
        self.key = _folder_key(lock.path.parent)
        self.name = lock.path.name
        self.local = _name_lock(self.key, self.name)
        self.named = False
        self.queue: int | None = None
        self.ticket = 0
        self.folder: tuple[int, int] | None = None
        self.fd: int | None = None
        self.done_steps = 0
        self.state = threading.Lock()
        self.abandoned = False
        self.finished = False
        self.error: BaseException | None = None
        self.granted = threading.Lock()
        self.granted.acquire()
        _attempts.add(self)

    def run(self, *, block: bool) -> bool:
        """Take the steps still to take; False when one would wait (and `block` is off)."""
        steps = (
            self._take_name,
            self._take_ticket,
            self._await_turn,
            self._take_folder,
            self._take_file,
        )
        try:
            while self.done_steps < len(steps):
                if not steps[self.done_steps](block):
                    return False
                self.done_steps += 1
        except BaseException:
            self.undo()
            raise
        return True

    def finish(self) -> None:
        """The helper thread: wait for every remaining step, then hand over or let go."""
        try:
            self.run(block=True)
        except BaseException as exc:  # handed to the waiting caller
            self.error = exc
        with self.state:
            self.finished = True
            if self.abandoned:
                self.undo()
        self.granted.release()

    def wait(self, deadline: float) -> bool:
        """Whether the helper thread got the lock before `deadline`; else it is abandoned."""
        if self.granted.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return True
        with self.state:
            if self.finished:
                return True
            self.abandoned = True
            return False

    def _take_name(self, block: bool) -> bool:
        self.named = self.local.acquire(blocking=block)
        return self.named

    def _take_ticket(self, block: bool) -> bool:
        if _OFD_SETLK is None:
            return True
        with _folders_mutex:
            hold = _folders.get(self.key)
            if hold is not None and hold.held:
                # A lock taken inside another of this process (the sessions' around the
                # data's): queueing could mean waiting for a waiter who waits for us.
                return True
        path = self.lock.path.parent / QUEUE_NAME
        try:
            fd, _ = open_or_create(path, os.O_RDWR, "lock queue file", like=self.lock._like)
        except OSError:
            return True  # a colleague's read-only queue: the flock queue alone decides
        try:
            if os.fstat(fd).st_nlink > 1:
                raise StorageError(
                    f"lock queue file {path} has other names (hard links); remove it"
                )
            if not _range_lock(fd, fcntl.F_WRLCK, 0, _COUNTER, block=block):
                os.close(fd)
                return False
            try:
                raw = os.pread(fd, _COUNTER, 0)
                last = int.from_bytes(raw, "little") if len(raw) == _COUNTER else 0
                ticket = (last + 1) % _TICKETS
                os.pwrite(fd, ticket.to_bytes(_COUNTER, "little"), 0)
                # Ours until we are done; nobody else has this ticket, so it is free.
                _range_lock(fd, fcntl.F_WRLCK, _slot(ticket), 1, block=False)
            finally:
                _range_lock(fd, fcntl.F_UNLCK, 0, _COUNTER, block=False)
        except BaseException:
            os.close(fd)
            raise
        self.queue, self.ticket = fd, ticket
        return True

    def _await_turn(self, block: bool) -> bool:
        if self.queue is None:
            return True
        before = _slot(self.ticket - 1)
        if not _range_lock(self.queue, fcntl.F_RDLCK, before, 1, block=block):
            return False
        _range_lock(self.queue, fcntl.F_UNLCK, before, 1, block=False)
        return True

    def _take_folder(self, block: bool) -> bool:
        self.folder = _enter_folder(self.lock.path.parent, self.name, block=block)
        return self.folder is not None

    def _take_file(self, block: bool) -> bool:
        while True:
            fd = self.lock._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    return False
                raise StorageError(f"cannot lock {self.lock.path}: {exc.strerror}") from None
            # Opened, then deleted or replaced before we locked it: that lock guards nothing.
            if _same_file(self.lock.path, os.fstat(fd)):
                self.fd = fd
                return True
            os.close(fd)

    def forget(self) -> None:
        """In a forked child: close our copies of the files, never unlocking them (the locks
        belong to the open files the parent shares; an unlock here would be the parent's)."""
        for fd in (self.fd, self.queue):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.fd = self.queue = self.folder = None
        self.named = False

    def undo(self) -> None:
        """Let go of whatever the attempt holds, the lock file first and its turn last."""
        fd, self.fd = self.fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        folder, self.folder = self.folder, None
        if folder is not None:
            _leave_folder(folder, self.name)
        queue, self.queue = self.queue, None
        if queue is not None:
            os.close(queue)  # drops its ticket's byte: the next in line goes
        if self.named:
            self.named = False
            self.local.release()
        _attempts.discard(self)


class FileLock:
    """An exclusive lock named by a sibling file; the kernel drops it when the holder dies.

    The holder has a flock on the lock file and one on its folder. The file names the
    holder and keeps older ATLAS versions out; the folder, which cannot be deleted
    while it holds the data, keeps a second writer out even when someone deletes or
    replaces the lock file while it is held (a new file would lock nothing). Waiters are
    served in arrival order (see _Attempt), and woken by the kernel, not by polling.
    """

    def __init__(self, path: Path, timeout: float, *, like: Path | None = None) -> None:
        self.path = path
        self.timeout = timeout
        # A new lock file is as shared as the data it guards.
        self._like = like if like is not None else path.with_suffix("")
        self._held: _Attempt | None = None
        # Told when a wait starts (with the holder) and ends: a screen says who it waits for.
        self.on_wait: LockWatcher | None = None

    def acquire(self) -> None:
        """Wait up to `timeout` seconds, then raise BusyError naming the holder."""
        deadline = time.monotonic() + self.timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        attempt = _Attempt(self)
        if not attempt.run(block=False):
            threading.Thread(target=attempt.finish, name="atlas-lock", daemon=True).start()
            watcher = self.on_wait
            if watcher is not None:
                watcher(self._holder())
            try:
                got = attempt.wait(deadline)
            finally:
                if watcher is not None:
                    watcher(None)
            if not got:
                raise BusyError(
                    f"data is busy (held by {self._holder()}) for more than "
                    f"{self.timeout:g}s, try again"
                )
            if attempt.error is not None:
                raise attempt.error
        self._held = attempt
        assert attempt.fd is not None
        with contextlib.suppress(OSError):
            os.ftruncate(attempt.fd, 0)
            os.pwrite(attempt.fd, _whoami().encode(), 0)

    def _open(self) -> int:
        what = "lock file"
        try:
            fd, _ = open_or_create(self.path, os.O_RDWR, what, like=self._like)
        except PermissionError:
            # flock needs no write access: a colleague's lock file still serves as a lock.
            try:
                fd = open_regular(self.path, os.O_RDONLY, what)
            except OSError:
                raise StorageError(
                    f"cannot open lock file {self.path}: permission denied"
                ) from None
        except OSError as exc:
            raise StorageError(
                f"cannot open lock file {self.path}: {exc.strerror or exc}"
            ) from None
        if os.fstat(fd).st_nlink > 1:
            # A hard link to someone's file: locking truncates, so never touch it.
            os.close(fd)
            raise StorageError(f"lock file {self.path} has other names (hard links); remove it")
        return fd

    def _holder(self) -> str:
        text = ""
        with contextlib.suppress(OSError, StorageError):
            fd = open_regular(self.path, os.O_RDONLY, "lock file")
            try:
                text = os.pread(fd, 200, 0).decode(errors="replace").strip()
            finally:
                os.close(fd)
        return text or "another ATLAS process"

    def release(self) -> None:
        """Let the next waiter in."""
        attempt, self._held = self._held, None
        if attempt is not None:
            attempt.undo()
