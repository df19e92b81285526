"""Read and parse many media files on every core.

Parsing JSON and XML is CPU work, so a first scan of a big library runs it in a pool of
processes (one per core), in chunks, and takes the results back in file order. Small
scans stay in this process: starting workers costs more than parsing a few files.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Generator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import repeat
from typing import Final

from atlas_tui.media.data import Prepared, prepare
from atlas_tui.media.files import read_file

# Below this many files to read, one process: a worker's start-up is worth ~100 files.
POOL_MIN_FILES: Final = 1000
# Files per task: enough that the pickling and hand-over cost little per file.
CHUNK_FILES: Final = 128

# A file read and prepared (cacheable), or the problems that kept it from being read.
Read = tuple[Prepared | None, list[str]]


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def read_one(path: str, limit: int) -> Read:
    """One file, read and prepared, as a worker does it."""
    outcome = read_file(path, limit, "")
    if not outcome.cacheable:  # e.g. permission denied: read again next time
        return None, outcome.problems
    return prepare(outcome), []


def _read_chunk(paths: Sequence[str], limit: int) -> list[Read]:
    return [read_one(path, limit) for path in paths]


def read_files(
    paths: Sequence[str], limit: int, processes: int | None = None
) -> Generator[Read, None, None]:
    """Each file of `paths`, in order. `processes`: None picks one per core once there are
    POOL_MIN_FILES files; 1 reads here; 2 or more always uses a pool of that many."""
    count = cores() if processes is None else processes
    if count < 2 or (processes is None and len(paths) < POOL_MIN_FILES):
        for path in paths:
            yield read_one(path, limit)
        return
    chunks = [paths[start : start + CHUNK_FILES] for start in range(0, len(paths), CHUNK_FILES)]
    # fork is quick, but forking a process that runs other threads (the app) can copy a
    # lock some thread holds; there a fresh interpreter is started for each worker instead.
    method = "fork" if threading.active_count() == 1 else "spawn"
    done = 0
    try:
        with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context(method)) as pool:
            for results in pool.map(_read_chunk, chunks, repeat(limit)):
                yield from results
                done += 1
    except (BrokenProcessPool, OSError):  # no workers to be had: finish here
        for chunk in chunks[done:]:
            yield from _read_chunk(chunk, limit)
