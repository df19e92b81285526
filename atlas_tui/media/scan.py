"""Find the metadata files under a folder, following symlinks but never a loop twice."""

from __future__ import annotations

import os
import stat as stat_mode
from dataclasses import dataclass

from atlas_tui.media.files import EXTENSIONS
from atlas_tui.media.models import MediaWarning


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A candidate file: its path, its path relative to the search folder, size, mtime."""

    path: str
    rel: str
    size: int
    mtime_ns: int


def find_files(root: str) -> tuple[list[FoundFile], list[MediaWarning]]:
    """Every ``.json``/``.ndjson``/``.nfo`` file under ``root``, sorted by path.

    Symlinked folders are followed; a folder already visited (by device and inode) is
    not entered again, so loops end and a file reachable twice is read once.
    """
    found: list[FoundFile] = []
    warnings: list[MediaWarning] = []
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    stack = [(root, "")]
    while stack:
        folder, rel_folder = stack.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen_dirs:
                continue
            seen_dirs.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda entry: entry.name)
        except OSError as exc:
            warnings.append(MediaWarning(folder, f"cannot list folder: {exc.strerror or exc}"))
            continue
        subfolders = []
        for entry in entries:
            rel = f"{rel_folder}{entry.name}"
            try:
                if entry.is_dir():
                    subfolders.append((entry.path, rel + os.sep))
                    continue
                if not entry.name.lower().endswith(EXTENSIONS):
                    continue
                stat = entry.stat()
            except OSError as exc:
                if entry.name.lower().endswith(EXTENSIONS):
                    warnings.append(MediaWarning(entry.path, f"cannot read: {exc.strerror}"))
                continue
            if not stat_mode.S_ISREG(stat.st_mode):  # a FIFO would block the read forever
                warnings.append(MediaWarning(entry.path, "not a regular file"))
                continue
            key = (stat.st_dev, stat.st_ino)
            if key not in seen_files:
                seen_files.add(key)
                found.append(FoundFile(entry.path, rel, stat.st_size, stat.st_mtime_ns))
        stack.extend(reversed(subfolders))
    found.sort(key=lambda f: f.rel)
    return found, warnings
