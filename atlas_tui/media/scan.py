"""Find the metadata files under a folder, following symlinks but never a loop twice."""

from __future__ import annotations

import os
import stat as stat_mode

from atlas_tui.media.files import EXTENSIONS
from atlas_tui.media.models import MediaWarning

# [path relative to the search folder, size in bytes, mtime_ns]: what the cache is keyed by.
FileKey = list[str | int]


def find_files(root: str) -> tuple[list[FileKey], list[MediaWarning]]:
    """Every ``.json``/``.ndjson``/``.nfo`` file under ``root`` as a :data:`FileKey`,
    sorted by relative path, and a warning for each entry that could not be examined.

    Symlinked folders are followed; a folder already visited (same device and inode) is
    not entered again, so loops end, and a file reachable by two paths is listed once.
    """
    found: list[tuple[str, int, int, int, int]] = []
    warnings: list[MediaWarning] = []
    seen_dirs: set[tuple[int, int]] = set()
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen_dirs:
                continue
            seen_dirs.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError as exc:
            warnings.append(MediaWarning(folder, f"cannot list folder: {exc.strerror or exc}"))
            continue
        subfolders = []
        for entry in listed:
            try:
                if entry.is_dir():
                    subfolders.append(entry)
                    continue
                if not entry.name.lower().endswith(EXTENSIONS):
                    continue
                info = entry.stat()
            except OSError as exc:
                warnings.append(MediaWarning(entry.path, f"cannot read: {exc.strerror or exc}"))
                continue
            if not stat_mode.S_ISREG(info.st_mode):  # reading a FIFO would block forever
                warnings.append(MediaWarning(entry.path, "not a regular file"))
                continue
            rel = prefix + entry.name
            found.append((rel, info.st_size, info.st_mtime_ns, info.st_dev, info.st_ino))
        # Sorted, so which path of a folder reachable twice gets walked does not depend on
        # the order the file system lists entries in.
        subfolders.sort(key=lambda entry: entry.name, reverse=True)
        stack.extend((entry.path, prefix + entry.name + os.sep) for entry in subfolders)
    found.sort()
    seen_files: set[tuple[int, int]] = set()
    out: list[FileKey] = []
    for rel, size, mtime_ns, dev, ino in found:
        if (dev, ino) not in seen_files:
            seen_files.add((dev, ino))
            out.append([rel, size, mtime_ns])
    return out, warnings
