"""Find the metadata files under a folder, following symlinks but never a loop twice."""

from __future__ import annotations

import os
import stat as stat_mode
from operator import attrgetter

from atlas_tui.media.files import EXTENSIONS
from atlas_tui.media.models import MediaWarning

# [path relative to the search folder, size in bytes, mtime_ns]: what the cache is keyed by.
FileKey = list[str | int]

_by_name = attrgetter("name")


def find_files(root: str) -> tuple[list[FileKey], list[MediaWarning]]:
    """Every ``.json``/``.ndjson``/``.nfo`` file under ``root`` as a :data:`FileKey`, in
    a stable order (each folder's files by name, then its subfolders by name), and a
    warning for each entry that could not be examined.

    Symlinked folders are followed; a folder already visited (same device and inode) is
    not entered again, so symlink loops end.
    """
    found: list[FileKey] = []
    warnings: list[MediaWarning] = []
    seen: set[tuple[int, int]] = set()
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=_by_name)
        except OSError as exc:
            warnings.append(MediaWarning(folder, f"cannot list folder: {exc.strerror or exc}"))
            continue
        subfolders = []
        for entry in listed:
            name = entry.name
            try:
                if not name.lower().endswith(EXTENSIONS):
                    if entry.is_dir():
                        subfolders.append(entry)
                    continue
                info = entry.stat()
            except OSError as exc:
                warnings.append(MediaWarning(entry.path, f"cannot read: {exc.strerror or exc}"))
                continue
            if stat_mode.S_ISREG(info.st_mode):
                found.append([prefix + name, info.st_size, info.st_mtime_ns])
            elif stat_mode.S_ISDIR(info.st_mode):
                subfolders.append(entry)
            else:  # a FIFO or device: reading it could block forever
                warnings.append(MediaWarning(entry.path, "not a regular file"))
        subfolders.reverse()  # the stack pops the last pushed first
        stack.extend((entry.path, f"{prefix}{entry.name}{os.sep}") for entry in subfolders)
    return found, warnings
