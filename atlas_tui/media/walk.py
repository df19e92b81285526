"""Find the metadata files under a folder, following symlinks but never a loop twice.

A walk produces a :class:`Tree`: every folder visited and the size and mtime_ns of each
metadata file in it. Two trees with the same files mean the index is still current. The
per-file ``stat()`` is what notices a file edited in place, so every walk does it for
every file; it is most of the cost of a warm search (about 2 µs a file on a small VM).

What a walk may skip is listing a folder again. A folder's mtime and ctime change
whenever an entry is added, removed or renamed in it, so a folder whose
(device, inode, mtime_ns, ctime_ns) is what it was last time still holds the same names,
provided that:

* its filesystem is a local one known to keep those times (read from
  /proc/self/mountinfo; rclone and other FUSE mounts, NFS and SMB are not trusted, and
  where mountinfo is missing nothing is), and
* it was listed at least :data:`SETTLE_NS` after its last change: filesystems stamp
  times from a coarse clock (a tick, or 1-2 s on ext3 and FAT), so a change made in the
  same tick as the listing could leave the times as they were ("racy git").

A folder with a symlink in it whose name is not a metadata file is always listed again:
whether it leads to a folder can change without the folder itself changing. Folders that
gave a warning are listed again too, so the warning is reported afresh.
"""

from __future__ import annotations

import os
import stat as stat_mode
import time
from array import array
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate, chain
from operator import attrgetter

from atlas_tui.media.files import EXTENSIONS
from atlas_tui.media.models import MediaWarning

# [path relative to the search folder, size in bytes, mtime_ns]: what a file is cached by.
FileKey = tuple[str, int, int]

# A folder's listing is reused only if it was listed this long after it last changed.
SETTLE_NS = 2_000_000_000

# Filesystems that update a folder's mtime and ctime on every create, unlink and rename.
TRUSTED_FILESYSTEMS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "zfs", "f2fs", "jfs", "bcachefs"}
)
MOUNTINFO = "/proc/self/mountinfo"

# Folders with this many files are opened to stat them by name (see _stat_all).
_BY_FD_FROM = 8 if os.stat in os.supports_dir_fd and hasattr(os, "O_DIRECTORY") else 1 << 62
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)

_by_name = attrgetter("name")
_mode = attrgetter("st_mode")
_size = attrgetter("st_size")
_mtime = attrgetter("st_mtime_ns")

# The wall clock a listing is compared with; tests move it forward instead of sleeping.
clock: Callable[[], int] = time.time_ns


def _ints() -> array[int]:
    return array("q")


@dataclass(slots=True, eq=False)
class Tree:
    """The folders a walk visited, in visiting order, and their metadata files.

    Column-wise (one list or array per field) rather than one object per folder or file:
    it is compared, stored and loaded as a handful of big sequences, and arrays of ints
    are compared with ``memcmp`` and never traced by the garbage collector.
    """

    prefixes: list[str] = field(default_factory=list)  # "" for the root, else "a/b/"
    stamps: array[int] = field(default_factory=_ints)  # dev, ino, mtime_ns, ctime_ns each
    settled: bytearray = field(default_factory=bytearray)  # 1: its listing may be reused
    counts: array[int] = field(default_factory=_ints)  # files per folder
    subcounts: array[int] = field(default_factory=_ints)  # subfolders per folder
    subfolders: list[str] = field(default_factory=list)  # names, folder by folder
    names: list[str] = field(default_factory=list)  # file names, folder by folder
    sizes: array[int] = field(default_factory=_ints)
    mtimes: array[int] = field(default_factory=_ints)
    _starts: list[int] | None = None  # first file of each folder, built on first use

    def __len__(self) -> int:
        """The number of metadata files."""
        return len(self.names)

    def same_files(self, other: Tree) -> bool:
        """Whether both walks found the same files with the same sizes and mtimes."""
        return (
            self.sizes == other.sizes
            and self.mtimes == other.mtimes
            and self.counts == other.counts
            and self.names == other.names
            and self.prefixes == other.prefixes
        )

    def relpath(self, file: int) -> str:
        """The path of file number ``file`` relative to the searched folder."""
        if self._starts is None:
            self._starts = [0, *accumulate(self.counts)]
        return self.prefixes[bisect_right(self._starts, file) - 1] + self.names[file]

    def keys(self) -> list[FileKey]:
        """Every file as (relative path, size, mtime_ns), in order."""
        paths: list[str] = []
        start = 0
        for prefix, count in zip(self.prefixes, self.counts, strict=True):
            paths += [prefix + name for name in self.names[start : start + count]]
            start += count
        return list(zip(paths, self.sizes, self.mtimes, strict=True))

    def larger_than(self, limit: int) -> list[int]:
        """The files over ``limit`` bytes."""
        if not self.sizes or max(self.sizes) <= limit:
            return []
        return [i for i, size in enumerate(self.sizes) if size > limit]

    def reusable(self) -> int:
        """How many folders a later walk could skip listing (if they stay unchanged)."""
        return self.settled.count(1)

    def reusable_after(self, later: Tree) -> int:
        """How many of this tree's listings ``later`` (same folders) could still reuse."""
        if self.stamps == later.stamps:
            return self.reusable()
        stamps, now = self.stamps, later.stamps
        return sum(
            1
            for f, settled in enumerate(self.settled)
            if settled and stamps[4 * f : 4 * f + 4] == now[4 * f : 4 * f + 4]
        )

    def listing(self) -> _Listings:
        """Where to find each folder's names, for a later walk to reuse."""
        return _Listings(self)


# Called with each folder's prefix, file names and their stats as the walk finds them.
FilesHook = Callable[[str, list[str], list[os.stat_result]], object]


def walk(
    root: str, previous: Tree | None = None, on_files: FilesHook | None = None
) -> tuple[Tree, list[MediaWarning]]:
    """Every ``.json``/``.ndjson``/``.nfo`` file under ``root`` in a stable order (each
    folder's files by name, then its subfolders by name), and a warning for each entry
    that could not be examined.

    Symlinked folders are followed; a folder already visited (same device and inode) is
    not entered again, so symlink loops end. Listings of ``previous`` are reused where
    that is safe (see the module docstring); every file is stat()ed regardless.
    ``on_files`` sees the files folder by folder, in the tree's order, so their reading
    can start before the walk ends.
    """
    # The columns of the Tree; the per-folder ones are plain lists until the end.
    prefixes: list[str] = []
    stamps: list[tuple[int, int, int, int]] = []
    settles = bytearray()
    counts: list[int] = []
    subcounts: list[int] = []
    all_subfolders: list[str] = []
    all_names: list[str] = []
    # Sizes and mtimes are taken folder by folder so each folder's stat results can be
    # freed: holding 10,000 of them costs a new process ~2 ms of page faults.
    sizes: array[int] = array("q")
    mtimes: array[int] = array("q")
    warnings: list[MediaWarning] = []
    seen: set[tuple[int, int]] = set()
    known = previous.listing() if previous is not None else None
    trusted = _TrustedDevices()
    base_root = root if root.endswith(os.sep) else root + os.sep
    stack = [""]
    while stack:
        prefix = stack.pop()
        path = base_root + prefix[:-1] if prefix else root
        try:
            info = os.stat(path)
        except OSError as exc:
            warnings.append(MediaWarning(path, f"cannot list folder: {exc.strerror or exc}"))
            continue
        ident = (info.st_dev, info.st_ino)
        if ident in seen:
            continue
        seen.add(ident)
        stamp = (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns)
        base = base_root + prefix
        old = known.get(prefix, stamp) if known is not None else None
        stats = _restat(path, base, old[0]) if old is not None else None
        if old is not None and stats is not None:
            names, subfolders, settled = old[0], old[1], True
        else:
            listed = _list(path, base, warnings)
            if listed is None:
                continue
            names, stats, subfolders, clean = listed
            settled = (
                clean
                and max(info.st_mtime_ns, info.st_ctime_ns) + SETTLE_NS < clock()
                and trusted(info.st_dev)
            )
        prefixes.append(prefix)
        stamps.append(stamp)
        settles.append(settled)
        counts.append(len(names))
        subcounts.append(len(subfolders))
        all_names += names
        sizes.extend(map(_size, stats))
        mtimes.extend(map(_mtime, stats))
        if on_files is not None and names:
            on_files(prefix, names, stats)
        if subfolders:
            all_subfolders += subfolders
            stack += [f"{prefix}{name}{os.sep}" for name in reversed(subfolders)]
    tree = Tree(
        prefixes,
        array("q", chain.from_iterable(stamps)),
        settles,
        array("q", counts),
        array("q", subcounts),
        all_subfolders,
        all_names,
        sizes,
        mtimes,
    )
    return tree, warnings


class _Listings:
    """A previous walk's settled folders, looked up by prefix and stamp."""

    def __init__(self, tree: Tree) -> None:
        # Built in C (zip, accumulate): a walk of 10,000 folders should not start by
        # slicing every one of them.
        self._tree = tree
        self._folders = dict(zip(tree.prefixes, range(len(tree.prefixes)), strict=True))
        self._files = list(accumulate(tree.counts, initial=0))
        self._subfolders = list(accumulate(tree.subcounts, initial=0))

    def get(
        self, prefix: str, stamp: tuple[int, int, int, int]
    ) -> tuple[list[str], list[str]] | None:
        """The folder's file and subfolder names, if settled and its stamp is unchanged."""
        tree = self._tree
        folder = self._folders.get(prefix)
        if folder is None or not tree.settled[folder]:
            return None
        at = 4 * folder
        stamps = tree.stamps
        if (stamps[at], stamps[at + 1], stamps[at + 2], stamps[at + 3]) != stamp:
            return None
        files, subfolders = self._files, self._subfolders
        return (
            tree.names[files[folder] : files[folder + 1]],
            tree.subfolders[subfolders[folder] : subfolders[folder + 1]],
        )


def _restat(path: str, base: str, names: list[str]) -> list[os.stat_result] | None:
    """The stats of a reused listing's files, or None if one vanished or is no longer a
    regular file (then the folder is listed afresh, which reports it properly)."""
    try:
        stats = _stat_all(path, base, names)
    except OSError:
        return None
    return stats if all(map(stat_mode.S_ISREG, map(_mode, stats))) else None


def _stat_all(path: str, base: str, names: list[str]) -> list[os.stat_result]:
    """stat() (following symlinks) of each name in the folder; OSError if one fails."""
    if len(names) < _BY_FD_FROM:
        return list(map(os.stat, [base + name for name in names]))
    # Relative to the open folder, the kernel resolves one path component per file
    # instead of the whole path: 10-20% faster once the open() has paid for itself.
    folder = os.open(path, _FOLDER_FLAGS)
    try:
        stat = os.stat
        return [stat(name, dir_fd=folder) for name in names]
    finally:
        os.close(folder)


def _list(
    path: str, base: str, warnings: list[MediaWarning]
) -> tuple[list[str], list[os.stat_result], list[str], bool] | None:
    """A folder's metadata files (names and stats), its subfolders, and whether the
    listing may be reused (no symlink to re-resolve, nothing to warn about)."""
    try:
        with os.scandir(path) as entries:
            listed = sorted(entries, key=_by_name)
    except OSError as exc:
        warnings.append(MediaWarning(path, f"cannot list folder: {exc.strerror or exc}"))
        return None
    clean = True
    candidates: list[str] = []
    subfolders: list[str] = []
    for entry in listed:
        name = entry.name
        if name.lower().endswith(EXTENSIONS):
            candidates.append(name)
            continue
        try:
            if entry.is_symlink():
                clean = False
            if entry.is_dir():
                subfolders.append(name)
        except OSError as exc:
            warnings.append(MediaWarning(entry.path, f"cannot read: {exc.strerror or exc}"))
            clean = False
    try:
        stats = _stat_all(path, base, candidates)  # the common case: nothing fails
    except OSError:
        stats = None
    if stats is not None and all(map(stat_mode.S_ISREG, map(_mode, stats))):
        return candidates, stats, subfolders, clean
    names: list[str] = []
    regular: list[os.stat_result] = []
    more_folders = False
    for name in candidates:
        try:
            info = os.stat(base + name)
        except OSError as exc:
            warnings.append(MediaWarning(base + name, f"cannot read: {exc.strerror or exc}"))
            clean = False
            continue
        if stat_mode.S_ISREG(info.st_mode):
            names.append(name)
            regular.append(info)
        elif stat_mode.S_ISDIR(info.st_mode):
            subfolders.append(name)
            more_folders = True
        else:  # a FIFO or device: reading it could block forever
            warnings.append(MediaWarning(base + name, "not a regular file"))
            clean = False
    if more_folders:
        subfolders.sort()  # a folder named like a metadata file takes its place by name
    return names, regular, subfolders, clean


class _TrustedDevices:
    """Devices whose filesystem is in :data:`TRUSTED_FILESYSTEMS`; mountinfo is read
    once per walk, and only if some folder had to be listed."""

    def __init__(self) -> None:
        self._devices: frozenset[int] | None = None

    def __call__(self, device: int) -> bool:
        if self._devices is None:
            self._devices = trusted_devices()
        return device in self._devices


def trusted_devices(mountinfo: str = MOUNTINFO) -> frozenset[int]:
    """st_dev of every mount whose filesystem type is trusted; empty if unknown."""
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return frozenset()
    found = set()
    for line in lines:
        # "36 35 98:0 /root /mnt opts [optional fields] - ext4 /dev/sda1 rw": spaces in
        # paths are escaped as \040, so " - " only ever separates the two halves.
        left, dash, right = line.partition(" - ")
        fields, fstype = left.split(), right.split(maxsplit=1)
        if not dash or len(fields) < 3 or not fstype or fstype[0] not in TRUSTED_FILESYSTEMS:
            continue
        major, _, minor = fields[2].partition(":")
        if major.isdigit() and minor.isdigit():
            found.add(os.makedev(int(major), int(minor)))
    return frozenset(found)
