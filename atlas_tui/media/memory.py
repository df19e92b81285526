"""Indexes kept in memory between scans of the same folder, so a repeat search only
has to check that no file changed."""

from __future__ import annotations

import threading
from collections import OrderedDict

from atlas_tui.media.index import MediaIndex

_SLOTS = 4  # folders remembered; the least recently scanned is forgotten first

_memory: OrderedDict[tuple[str, str], MediaIndex] = OrderedDict()
_lock = threading.Lock()  # the app scans in a worker thread while the UI thread may too


def clear_index_memory() -> None:
    """Forget the indexes kept in memory, so the next scan starts from the disk cache."""
    with _lock:
        _memory.clear()


def recall(key: tuple[str, str]) -> MediaIndex | None:
    with _lock:
        found = _memory.get(key)
        if found is not None:
            _memory.move_to_end(key)
        return found


def remember(key: tuple[str, str], index: MediaIndex) -> None:
    with _lock:
        _memory[key] = index
        _memory.move_to_end(key)
        while len(_memory) > _SLOTS:
            _memory.popitem(last=False)
