"""Read-modify-writes of the whole store under one lock, while other processes write:
count-session apply, restore (also of a damaged file), migrate and backup. Both backends
(the `db` fixture is parametrised).

Writers are forked processes that report every acknowledged change on a pipe, with the
monotonic times (shared by all processes) of the call and of its return. Each change
carries a unique reason, so it can be looked up in any store afterwards.
"""

from __future__ import annotations

import json
import linecache
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest
from support import poll, run_atlas

from atlas_tui.api import AtlasAPI
from atlas_tui.domain.errors import AtlasError, ConflictError
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from atlas_tui.storage.sessions import sessions_path

ALL_BACKENDS = True  # every `db` test here runs on PostgreSQL as well

FORK = multiprocessing.get_context("fork")


# On a loaded machine a writer may wait long for its turn: it must get it, not "busy".
pytestmark = pytest.mark.usefixtures("patient_writers")


# Acknowledgements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """One operation as its caller saw it: refused (0 movements) or done."""

    tag: str  # the reason on its movements, unique to it
    start: int  # time.monotonic_ns() before the call
    end: int  # ... and after it returned
    movements: int  # how many movements it made; 0 when refused or when it makes none
    note: str = ""  # what else the test needs to know, e.g. "session=3 counted=7"


def report(fd: int, tag: str, start: int, movements: int, note: str = "") -> None:
    """Tell the test about an operation just returned (one write: atomic on a pipe)."""
    os.write(fd, f"{tag} {start} {time.monotonic_ns()} {movements} {note}\n".encode())


class AckReader:
    """Collects the acks that writers send on their pipes, in a thread per pipe."""

    def __init__(self, fds: list[int]) -> None:
        self.acks: list[Ack] = []
        self._changed = threading.Condition(threading.RLock())
        self._threads = [threading.Thread(target=self._read, args=(fd,)) for fd in fds]
        for thread in self._threads:
            thread.start()

    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as pipe:
            for line in pipe:
                tag, start, end, movements, note = line.decode().split(" ", 4)
                ack = Ack(tag, int(start), int(end), int(movements), note.strip())
                with self._changed:
                    self.acks.append(ack)
                    self._changed.notify_all()

    def done(self, *, refused_too: bool = False) -> int:
        """How many operations were acknowledged (or also refused) so far."""
        with self._changed:
            return sum(1 for ack in self.acks if ack.movements or refused_too)

    def wait_for(self, done: int, *, refused_too: bool = False) -> None:
        """Block until `done` operations were acknowledged (or also refused)."""
        with self._changed:
            arrived = self._changed.wait_for(
                lambda: self.done(refused_too=refused_too) >= done, timeout=300
            )
        assert arrived, f"writers got {self.done(refused_too=refused_too)} of {done} answers"

    def wait_until(self, ready: Callable[[list[Ack]], bool], what: str) -> None:
        """Block until `ready(acks so far)` holds."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: ready(self.acks), timeout=300)
        assert arrived, f"writers never got to: {what}"

    def join(self) -> list[Ack]:
        """Every ack, once all writers closed their pipes."""
        for thread in self._threads:
            thread.join(timeout=300)
        return self.acks


Writer = Callable[[str, int, int, Event], None]


@contextmanager
def writers(db: Path, targets: list[Writer]) -> Iterator[tuple[AckReader, Event]]:
    """A forked process per target, run as `target(db, number, pipe, stop)`.

    `stop` is set when the block ends; the block ends when they all exited.
    """
    stop = FORK.Event()
    processes, fds = [], []
    for number, target in enumerate(targets):
        read_end, write_end = os.pipe()
        process = FORK.Process(target=target, args=(str(db), number, write_end, stop))
        process.start()
        os.close(write_end)
        processes.append(process)
        fds.append(read_end)
    reader = AckReader(fds)  # threads only after the forks
    try:
        yield reader, stop
    finally:
        stop.set()
        for process in processes:
            process.join(timeout=300)
        reader.join()
    assert [p.exitcode for p in processes] == [0] * len(targets)


# Where an acknowledged change must be --------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A restore as its caller saw it, and where it kept the data it replaced."""

    start: int
    end: int
    kept: Path


def possible_stores(ack: Ack, windows: list[Window]) -> list[int]:
    """The stores an operation can have landed in: kept copy k of restore k, or the last.

    Restore k holds the lock from some moment L_k to U_k within its window and keeps a
    copy of the data as at L_k; nothing commits in between. So a change that committed
    after U_(k-1) and before L_k is in kept copy k, one after the last restore is in the
    final store, and the commit lies between the call and its return.
    """
    stores = []
    for k in range(len(windows) + 1):
        after = windows[k - 1].start if k else -1
        before = windows[k].end if k < len(windows) else time.monotonic_ns()
        if ack.start < before and ack.end > after:
            stores.append(k)
    return stores


def tagged(path: Path) -> Counter[str]:
    """How many movements carry each reason, in the store or backup at `path`."""
    service = make_service(path)
    found = Counter(m.reason for m in service.repository.movements())
    service.repository.close()
    return found


def unaccounted(acks: list[Ack], windows: list[Window], final: Path) -> list[str]:
    """Every ack whose movements are not where the lock says they must be.

    A done operation has all its movements in one of its possible stores; a refused one
    has none anywhere. (A store may hold a change again later if a restore brings back a
    copy with it: that is allowed, half of one is not.)
    """
    stores = [tagged(window.kept) for window in windows] + [tagged(final)]
    problems = []
    for ack in acks:
        found = [store[ack.tag] for store in stores]
        if any(n not in (0, ack.movements) for n in found):
            problems.append(f"{ack.tag}: {found} movements, expected 0 or {ack.movements}")
        elif ack.movements and not any(found[k] for k in possible_stores(ack, windows)):
            where = possible_stores(ack, windows)
            problems.append(f"{ack.tag} acknowledged, but in none of stores {where}: {found}")
    return problems


# 4. Count-session apply --------------------------------------------------------------------


def _hold_with_pending_adjust(db: str, delta: int, ready: int, go: int) -> None:
    service = make_service(db)
    with service.batch():
        service.adjust("A", delta, "changed while the count is applied")
        os.write(ready, b"holding\n")
        os.read(go, 1)


def _waiting_for_a_lock(thread: threading.Thread) -> bool:
    """Whether the thread waits for a lock: the line it is on in our storage code is the
    lock's wait for its turn, SQLite's BEGIN IMMEDIATE (whose busy handler waits), or the
    statement taking PostgreSQL's advisory write lock (waiting in psycopg, called there).

    With the data lock held elsewhere, that is where an apply stops: past its plan if it
    plans outside the data transaction (the bug), before it if it plans inside.
    """
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None and f"{os.sep}psycopg{os.sep}" in frame.f_code.co_filename:
        frame = frame.f_back
    if frame is None or f"{os.sep}storage{os.sep}" not in frame.f_code.co_filename:
        return False
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
    return any(
        wait in line
        for wait in ("granted.acquire(", "BEGIN IMMEDIATE", "SELECT pg_advisory_xact_lock(")
    )


def _apply_while_a_change_waits(db: Path, pending: int, counted: int) -> object:
    """A=10 counted as `counted`; another process holds the data lock with `adjust A
    pending` not committed yet; the apply starts and waits for a lock; then that change
    commits and the apply goes on. Returns the apply's changes or its refusal."""
    service = make_service(db)
    service.add("A", "Alpha", quantity=10, location="A1")
    service.stocktake.start(location="A1", reason="spring count")
    service.stocktake.record(1, "A", counted)
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    holder = FORK.Process(target=_hold_with_pending_adjust, args=(str(db), pending, ready_w, go_r))
    holder.start()
    with os.fdopen(ready_r, "rb") as ready:
        assert ready.readline() == b"holding\n"
    outcome: list[object] = []
    applier = make_service(db)
    thread = threading.Thread(target=lambda: outcome.append(_apply(applier)))
    thread.start()
    try:
        poll(lambda: _waiting_for_a_lock(thread), "the apply to wait for a lock")
    finally:
        os.write(go_w, b"x")
        holder.join(timeout=60)
        thread.join(timeout=60)
    assert holder.exitcode == 0 and len(outcome) == 1
    return outcome[0]


def _apply(service: InventoryService) -> object:
    try:
        return service.stocktake.apply(1)["changes"]
    except AtlasError as exc:
        return exc


def test_apply_adds_the_difference_to_the_stock_as_it_is_at_commit(db: Path) -> None:
    changes = _apply_while_a_change_waits(db, pending=+1, counted=15)
    service = make_service(db)
    assert service.get("A").quantity == 16, "the +1 committed meanwhile is kept"
    last = service.history("A")[0]
    assert (last.kind, last.reason, last.delta) == ("count", "spring count", 5)
    assert (last.quantity_before, last.quantity_after) == (11, 16)
    assert changes == [{"sku": "A", "location": "A1", "lot": "", "expected": 10, "counted": 15,
                        "before": 11, "after": 16,
                        "difference": 5}]  # fmt: skip
    recorded = {"session": 1, **changes[0], "lines": [["A1", "", "", 11, 16]]}  # type: ignore[dict-item]
    assert last.details == recorded
    assert service.stocktake.sessions(include_closed=True)[0]["status"] == "applied"
    assert service.verify()["ok"]


def test_apply_is_refused_whole_when_the_stock_at_commit_is_too_low(db: Path) -> None:
    refused = _apply_while_a_change_waits(db, pending=-5, counted=4)
    assert isinstance(refused, ConflictError)
    assert "A: 5 on hand now, a difference of -6 would go below zero" in str(refused)
    service = make_service(db)
    assert service.get("A").quantity == 5, "the pick is kept, nothing of the apply landed"
    assert [m.kind for m in service.history("A")] == ["adjust", "add"]
    assert service.stocktake.sessions()[0]["status"] == "open"


def _apply_where_big_files_cannot_be_written(db: str, limit: int, pipe: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    os.write(pipe, json.dumps(AtlasAPI(db).count_session_apply(1)).encode())


@pytest.mark.files_only("a file size limit is what stops the sessions file being written")
def test_an_apply_whose_session_cannot_be_closed_says_the_stock_changed(db: Path) -> None:
    service = make_service(db)
    service.add_many(
        [{"sku": f"B-{n}", "name": "ballast " * 4, "location": "Z"} for n in range(300)]
    )
    service.add("A", "Alpha", quantity=10, location="A1")
    service.add("0", "Zero", quantity=3, location="A1")
    service.stocktake.start(location="A1")
    service.stocktake.record(1, "A", 15)
    sessions = sessions_path(db)
    while True:  # sessions of the whole store make the sessions file the biggest by far
        others = max(p.stat().st_size for p in db.parent.iterdir() if p != sessions)
        if sessions.stat().st_size > others + 2 * 65536:
            break
        service.stocktake.start(location="Z")
    service.repository.close()  # SQLite: its WAL folds back into the file
    read_end, write_end = os.pipe()
    child = FORK.Process(
        target=_apply_where_big_files_cannot_be_written, args=(str(db), others + 65536, write_end)
    )
    child.start()
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        refused = json.loads(pipe.read())
    child.join(timeout=60)
    assert refused["success"] is False, refused
    assert refused["error"].startswith("count #1: the stock changes were saved, but the session")
    assert refused["error"].endswith("apply it again to close it")
    assert "nothing was changed" not in refused["error"]
    service = make_service(db)
    assert service.get("A").quantity == 15
    assert service.stocktake.get(1)["status"] == "open"
    # A count recorded meanwhile, on an item that sorts first, must not make the session
    # look unapplied: applying again only closes it, nothing is applied twice.
    service.stocktake.record(1, "0", 7)
    again = service.stocktake.apply(1)
    assert again["changes"] == [
        {
            "sku": "A",
            "location": "A1",
            "lot": "",
            "expected": 10,
            "counted": 15,
            "before": 10,
            "after": 15,
            "difference": 5,
        }
    ]
    assert service.get("A").quantity == 15
    assert [m.kind for m in service.history("A")] == ["count", "add"]
    assert service.get("0").quantity == 3
    assert service.stocktake.get(1)["status"] == "applied"


# 5. Restore --------------------------------------------------------------------------------

WRITERS = 3
STEP = 20  # acknowledged writes before each restore and after the last


Write = Callable[[InventoryService, int, int, str], None]
Read = Callable[[InventoryService, int], object]


def _writer(write: Write, read: Read, db: str, number: int, pipe: int, stop: Event) -> None:
    """Writes until stopped, reporting each one (acknowledged or refused) with its time span;
    `read` runs between writes, as a client reads."""
    service = make_service(db)
    for n in range(1, 1_000_000):
        if stop.is_set():
            break
        tag, start = f"w{number}-{n}", time.monotonic_ns()
        try:
            write(service, number, n, tag)
            made = 1
        except AtlasError:
            made = 0
        report(pipe, tag, start, made)
        read(service, number)


def _adjust(service: InventoryService, number: int, n: int, tag: str) -> None:
    service.adjust(f"C-{number}", 1, tag)


def _add(service: InventoryService, number: int, n: int, tag: str) -> None:
    service.add(f"N-{number}-{n}", "added while restoring", reason=tag)


def _adjust_or_add(service: InventoryService, number: int, n: int, tag: str) -> None:
    if n % 3:
        service.adjust(f"C-{number}", 1, tag)
    else:
        service.add(f"N-{number}-{n}", "added while copying", quantity=n, reason=tag)


# Like a client showing its list: writers that never pause for a read would keep SQLite's
# lock so busy that a restore waits seconds for it (its retries back off).
_adjuster = partial(_writer, _adjust, lambda service, _number: service.list_items())
_adder = partial(_writer, _add, lambda _service, _number: None)
_mixed = partial(_writer, _adjust_or_add, lambda service, number: service.get(f"C-{number}"))


def _backup_to(db: Path, folder: Path) -> Path:
    made = run_atlas("--json", "backup", "--to", str(folder), db=db)
    assert made.code == 0, made.err
    return Path(json.loads(made.out)["backup"]["path"])


def _counters_and_ballast(db: Path, ballast: int) -> None:
    """A counter C-n per writer, and ballast items: reading them takes a while, as in a real
    store."""
    setup = make_service(db)
    setup.add_many([{"sku": f"C-{n}", "name": "counter"} for n in range(WRITERS)])
    setup.add_many(
        [{"sku": f"B-{n}", "name": "ballast " * 8, "quantity": n} for n in range(ballast)]
    )
    setup.repository.close()


@pytest.mark.slow
def test_restore_keeps_every_write_acknowledged_while_it_runs(db: Path, tmp_path: Path) -> None:
    _counters_and_ballast(db, 300)
    source = _backup_to(db, tmp_path / "source")
    restores, windows = 6, []
    with writers(db, [_adjuster] * WRITERS) as (acks, _stop):
        for _ in range(restores):
            acks.wait_for(acks.done() + STEP)
            start = time.monotonic_ns()
            result = run_atlas("--json", "restore", "--yes", str(source), db=db)
            end = time.monotonic_ns()
            assert result.code == 0, result.err
            kept = json.loads(result.out)["restore"]["previous_data_kept_in"]
            windows.append(Window(start, end, Path(kept)))
        acks.wait_for(acks.done() + STEP)
    every = acks.join()
    problems = unaccounted(every, windows, db)
    assert not problems, f"{len(problems)} unaccounted, e.g. {problems[:3]}"
    for store in [db, *(window.kept for window in windows)]:
        checked = make_service(store).verify()
        assert checked["ok"], (store, checked["problems"][:3])
    done = [ack for ack in every if ack.movements]
    meanwhile = [a for a in done if any(a.start < w.end and a.end > w.start for w in windows)]
    print(
        f"{db.suffix}: {restores} restores, {len(done)} acknowledged adjusts accounted for, "
        f"{len(meanwhile)} of them while a restore command ran"
    )


@pytest.mark.slow
@pytest.mark.files_only("a data file overwritten with garbage")
def test_restoring_a_damaged_file_loses_no_write_acknowledged_meanwhile(
    db: Path, tmp_path: Path
) -> None:
    setup = make_service(db)
    setup.add("A", "Alpha", quantity=3)
    setup.repository.close()
    source = _backup_to(db, tmp_path / "source")
    rounds, refused, done = 3, 0, 0
    for _ in range(rounds):
        for side in ("-wal", "-shm"):
            Path(f"{db}{side}").unlink(missing_ok=True)
        db.write_bytes(b"\x00 this is not data \xff" * 100)
        with writers(db, [_adder] * WRITERS) as (acks, _stop):
            acks.wait_for(2 * WRITERS, refused_too=True)  # refused: nobody can write it
            start = time.monotonic_ns()
            result = run_atlas("--json", "restore", "--yes", str(source), db=db)
            end = time.monotonic_ns()
            assert result.code == 0, result.err
            acks.wait_for(STEP)
        kept = Path(json.loads(result.out)["restore"]["previous_data_kept_in"])
        assert kept.read_bytes() == b"\x00 this is not data \xff" * 100
        every = acks.join()
        assert not [a.tag for a in every if a.movements and a.end < start]
        problems = unaccounted(every, [], db)
        assert not problems, f"{len(problems)} unaccounted, e.g. {problems[:3]}"
        assert make_service(db).verify()["ok"]
        assert not [p.name for p in db.parent.iterdir() if p.name.endswith(".tmp")]
        refused += sum(1 for ack in every if not ack.movements)
        done += sum(1 for ack in every if ack.movements and ack.start < end)
    print(
        f"{db.suffix}: {rounds} restores of a damaged file, {refused} writes refused before, "
        f"{done} acknowledged while the restore command ran, all kept"
    )


# 6. Migrate and backup ---------------------------------------------------------------------


@pytest.mark.slow
def test_migrate_and_backup_copy_one_moment_while_writers_run(db: Path, tmp_path: Path) -> None:
    _counters_and_ballast(db, 1000)
    copies, backups = [], []
    with writers(db, [_mixed] * WRITERS) as (acks, _stop):
        for k in range(4):
            acks.wait_for(acks.done() + STEP)
            target = tmp_path / "copies" / f"copy-{k}{'.json' if k % 2 else '.sqlite'}"
            result = run_atlas("migrate", "--to", str(target), db=db)
            assert result.code == 0, result.err
            assert "counts and checksums match" in result.out
            copies.append(target)
            backups.append(_backup_to(db, tmp_path / "backups"))
        acks.wait_for(acks.done() + STEP)
    every = acks.join()
    for copy in copies + backups:
        checked = make_service(copy).verify()
        assert checked["ok"], (copy.name, checked["problems"][:3])
    assert not unaccounted(every, [], db)
    print(
        f"{db.suffix}: {len(copies)} migrations and {len(backups)} backups while "
        f"{sum(1 for ack in every if ack.movements)} writes were acknowledged; every copy verifies"
    )
