"""Read and parse many media files on every core.

Parsing JSON and XML is CPU work, so a first scan of a big library shares it between
this process and one worker process per other core. Workers start while the folder is
still being walked (as soon as there are enough files to be worth it) and are handed
chunks of paths as the walk finds them; once the walk is done this process parses files
too, a few at a time, collecting the workers' results in between. Results come back in
file order whoever read them. A worker's results cross the pipe as two flat byte strings
per chunk (the items as the cache stores them, and the records as JSON), which costs far
less than pickling an object per file. Small scans stay in this process.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections import deque
from collections.abc import Generator, Sequence
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any, Final

import orjson

from atlas_tui.media.data import Prepared, prepare
from atlas_tui.media.files import read_file

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

# Below this many files to read, one process: starting a worker, and the hand-over of
# results, are worth ~100 files (a fresh interpreter, where fork is unsafe, much more).
POOL_MIN_FILES: Final = 1000
# Files per task sent to a worker: enough that a message costs little per file, few
# enough that the last ones do not leave one process parsing while the others wait.
CHUNK_FILES: Final = 64
# Files this process parses between two looks at the workers' pipes.
_OWN_FILES: Final = 8
# Chunks a worker holds at once: one to parse while the next waits in its pipe.
_AHEAD: Final = 2

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


def read_files(
    paths: Sequence[str], limit: int, processes: int | None = None
) -> Generator[Read, None, None]:
    """Each file of `paths`, in order. `processes`: None picks one per core once there are
    POOL_MIN_FILES files; 1 reads here; 2 or more always shares with that many - 1 workers."""
    with Reader(limit, processes) as reader:
        reader.add(paths)
        yield from reader.results()


class _Worker:
    """A worker process, the pipes to and from it, and the chunks it holds (start, stop)."""

    def __init__(self, process: BaseProcess, tasks: Connection, results: Connection) -> None:
        self.process = process
        self.tasks = tasks
        self.results = results
        self.held: deque[tuple[int, int]] = deque()


class Reader:
    """Files queued with :meth:`add` (during a walk, say), read by this process and its
    workers; :meth:`results` gives them back in order once every file is queued."""

    def __init__(self, limit: int, processes: int | None = None) -> None:
        self._limit = limit
        self._processes = cores() if processes is None else max(1, processes)
        self._min_files = POOL_MIN_FILES if processes is None else 1
        self._paths: list[str] = []
        self._next = 0  # the first path not yet handed to anyone
        self._workers: list[_Worker] = []  # those still working
        self._processes_started: list[BaseProcess] = []
        self._started = False
        self._done: dict[int, list[Read]] = {}  # results by the start of their chunk
        self._chunks: deque[tuple[int, int]] = deque()  # handed out, in order
        self._redo: deque[tuple[int, int]] = deque()  # held by a worker that failed

    def add(self, paths: Sequence[str]) -> None:
        """Queue more files; full chunks go to the workers at once."""
        self._paths += paths
        if not self._started and len(self._paths) >= self._min_files:
            self._start()
        if self._workers:
            self._collect(wait=False)
            self._feed(whole_chunks=True)

    def results(self) -> Generator[Read, None, None]:
        """Every queued file's result, in order; call once all files are queued."""
        total = len(self._paths)
        if not self._started and total >= self._min_files:
            self._start()
        yielded = 0
        while yielded < total:
            self._collect(wait=False)
            self._feed(whole_chunks=False)
            if self._redo or self._next < total:
                if self._redo:
                    start, stop = self._redo.popleft()
                else:
                    start, stop = self._next, min(self._next + _OWN_FILES, total)
                    self._next = stop
                    self._chunks.append((start, stop))
                self._done[start] = [read_one(p, self._limit) for p in self._paths[start:stop]]
            else:
                self._collect(wait=True)
            while self._chunks and self._chunks[0][0] in self._done:
                start, stop = self._chunks.popleft()
                found = self._done.pop(start)
                yielded += stop - start
                yield from found

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Let the workers go (each stops after its current chunk) and wait for them."""
        workers, self._workers = self._workers, []
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.tasks.send_bytes(b"")  # stop
            worker.tasks.close()
            worker.results.close()
        processes, self._processes_started = self._processes_started, []
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():  # pragma: no cover - a worker stuck in a read
                process.kill()
                process.join()

    def _start(self) -> None:
        self._started = True
        if self._processes < 2:
            return
        import multiprocessing  # only a scan that needs workers pays for the import

        # fork is quick, but forking a process that runs other threads (the app) can copy
        # a lock some thread holds; there a fresh interpreter is started instead.
        fork = threading.active_count() == 1
        context: multiprocessing.context.DefaultContext = multiprocessing.get_context(
            "fork" if fork else "spawn"
        )  # type: ignore[assignment] # each kind of context has Process and Pipe
        ours: list[int] = []  # our pipe ends, which a forked worker must not keep open
        for _ in range(self._processes - 1):
            tasks_in, tasks = context.Pipe(duplex=False)
            results, results_out = context.Pipe(duplex=False)
            inherited = ours if fork else []
            process = context.Process(
                target=_serve, args=(tasks_in, results_out, self._limit, inherited), daemon=True
            )
            try:
                process.start()
            except OSError:  # no process to be had: parse here
                for pipe in (tasks_in, tasks, results, results_out):
                    pipe.close()
                break
            tasks_in.close()
            results_out.close()
            ours = [*ours, tasks.fileno(), results.fileno()]
            self._processes_started.append(process)
            self._workers.append(_Worker(process, tasks, results))

    def _feed(self, *, whole_chunks: bool) -> None:
        """Top up each worker to _AHEAD chunks, smaller ones near the end."""
        total = len(self._paths)
        for worker in list(self._workers):  # _lost may remove one
            while len(worker.held) < _AHEAD and self._next < total:
                left = total - self._next
                if whole_chunks:
                    if left < CHUNK_FILES:
                        break
                    size = CHUNK_FILES
                else:  # the last files: shares small enough to finish together
                    size = max(_OWN_FILES, min(CHUNK_FILES, left // (2 * self._processes)))
                start, stop = self._next, min(self._next + size, total)
                message = b"\0".join(map(os.fsencode, self._paths[start:stop]))
                try:
                    worker.tasks.send_bytes(message)  # never blocks long: see _serve
                except OSError:
                    self._lost(worker)
                    break
                self._next = stop
                worker.held.append((start, stop))
                self._chunks.append((start, stop))

    def _collect(self, *, wait: bool) -> None:
        """Take in the results the workers have sent (waiting for one, if ``wait``)."""
        busy = [w for w in self._workers if w.held]
        if not busy:
            return
        if wait:
            from multiprocessing.connection import wait as wait_for

            ready = set(wait_for([w.results for w in busy]))
            busy = [w for w in busy if w.results in ready]
        for worker in busy:
            try:
                while worker.held and worker.results.poll():
                    start, stop = worker.held[0]
                    self._done[start] = _decode(worker.results.recv_bytes(), stop - start)
                    worker.held.popleft()
            except (OSError, EOFError, ValueError):
                self._lost(worker)

    def _lost(self, worker: _Worker) -> None:
        """A worker died or broke its pipe: its chunks are parsed here instead."""
        self._redo.extend(worker.held)
        worker.held.clear()
        self._workers.remove(worker)
        worker.tasks.close()
        worker.results.close()


def _serve(tasks: Connection, results: Connection, limit: int, inherited: list[int]) -> None:
    """A worker: read each chunk of paths sent, send back what they gave, until told to
    stop (an empty message) or a pipe closes."""
    for fd in inherited:  # a forked worker's copies of the other workers' pipes
        with contextlib.suppress(OSError):
            os.close(fd)
    gc.disable()  # many small lists and dicts, none of them cyclic, each chunk freed
    # A thread takes tasks in as they come, so the parent never waits to send one while
    # this process waits for it to take a result: neither would ever go on.
    queue: SimpleQueue[bytes] = SimpleQueue()

    def receive() -> None:
        try:
            while message := tasks.recv_bytes():
                queue.put(message)
        except (EOFError, OSError):
            pass
        queue.put(b"")

    threading.Thread(target=receive, daemon=True).start()
    try:
        while message := queue.get():
            paths = [os.fsdecode(p) for p in message.split(b"\0")]
            results.send_bytes(_encode([read_one(path, limit) for path in paths]))
    except (Exception, KeyboardInterrupt):
        # A pipe closed, Ctrl-C, or a file that breaks the reader itself: the parent
        # reads what this worker held again (and meets the same error there, as a search
        # in one process would), so nothing is printed here.
        pass


def _encode(reads: list[Read]) -> bytes:
    """A chunk's results as bytes: a length line, the records, then the payloads."""
    files: list[Any] = []
    kinds: list[str] = []
    years: list[int | None] = []
    ids: list[dict[str, str]] = []
    keys: list[Any] = []
    payloads: list[bytes] = []
    for prepared, problems in reads:
        if prepared is None:
            files.append([-1, problems, 0])
            continue
        files.append([len(prepared.payload), prepared.problems, len(prepared.kinds)])
        payloads.append(prepared.payload)
        kinds += prepared.kinds
        years += prepared.years
        ids += prepared.ids
        keys += prepared.keys
    head = orjson.dumps([files, kinds, years, ids, keys])
    return b"%d\n%b%b" % (len(head), head, b"".join(payloads))


def _decode(message: bytes, expected: int) -> list[Read]:
    """The results :func:`_encode` made; ValueError if they are not ``expected`` files."""
    line = message.index(b"\n")
    end = line + 1 + int(message[:line])
    files, kinds, years, ids, keys = orjson.loads(message[line + 1 : end])
    if len(files) != expected:
        raise ValueError("a worker answered for the wrong files")
    reads: list[Read] = []
    at, record = end, 0
    for length, problems, count in files:
        if length < 0:
            reads.append((None, problems))
            continue
        stop = record + count
        reads.append(
            (
                Prepared(
                    message[at : at + length],
                    problems,
                    kinds[record:stop],
                    years[record:stop],
                    ids[record:stop],
                    keys[record:stop],
                ),
                [],
            )
        )
        at += length
        record = stop
    return reads
