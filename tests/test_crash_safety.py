"""Many processes on one store: killing writers at random moments never leaves a file that
fails to load nor loses a confirmed operation; concurrent writers never lose an update.
Both backends (the `db` fixture is parametrised)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import signal
from pathlib import Path

import pytest
from support import readable

from atlas_tui.domain.errors import ConflictError
from atlas_tui.factory import make_service

# Forked workers start in milliseconds, so hundreds of kills stay cheap. Each creates its own
# repository: nothing opened by the test process is used across the fork.
FORK = multiprocessing.get_context("fork")


def _writer(db: str, start: int, pipe: int) -> None:
    service = make_service(db)
    os.write(pipe, b"ready\n")
    for n in range(start, start + 1_000_000):
        if n % 2:
            # ConflictError: it landed just before the previous writer was killed.
            with contextlib.suppress(ConflictError):
                service.add(f"K-{n}", "kill test item", quantity=n)
        else:
            service.adjust("COUNTER", 1)
        os.write(pipe, f"{n}\n".encode())


def _write_evidence(db: Path) -> object:
    """What changes on disk when a write is under way: TinyDB appends to its journal (or
    writes a temp file beside the data for a checkpoint), SQLite appends to its WAL."""
    if db.suffix == ".json":
        journals = sorted(db.parent.glob(f"{db.name}.history-*.ndjson"))
        sizes = []
        for journal in journals:
            with contextlib.suppress(FileNotFoundError):
                sizes.append(journal.stat().st_size)
        return sizes, any(p.name.endswith(".tmp") for p in db.parent.iterdir())
    with contextlib.suppress(FileNotFoundError):
        return Path(f"{db}-wal").stat().st_mtime_ns
    return None


def _next_write_started(db: Path, pipe: int) -> bool:
    """Wait until the writer's next write shows on disk (True), or until it confirms one
    more write first (False: it is starting yet another then)."""
    before = _write_evidence(db)
    while not readable(pipe):
        if _write_evidence(db) != before:
            return True
    return False


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks).decode()


# On a loaded machine a writer may wait long for its turn: it must get it, not "busy".
pytestmark = pytest.mark.usefixtures("patient_writers")


@pytest.mark.slow
def test_sigkill_loop_never_tears_the_file_nor_loses_a_confirmed_write(db: Path) -> None:
    setup = make_service(db)
    setup.add_many(
        [{"sku": f"BULK-{n}", "name": "ballast " * 8, "quantity": n} for n in range(2000)]
    )
    setup.add("COUNTER", "counter")
    setup.repository.close()
    rng = random.Random(2026)
    # Counted in operations, not time: each round lets the writer confirm 1-4 writes, then
    # kills it: at once (it is starting its next write), or, every other round on average,
    # as soon as that next write is seen on disk (TinyDB: its journal grew; SQLite: the
    # WAL changed) and before it is confirmed, so kills land mid-write on any machine.
    least, most, wanted_mid_write = 200, 1000, 5
    kills, confirmed_adds, confirmed_adjusts, next_op, mid_write = 0, set(), 0, 1, 0
    while kills < least or (mid_write < wanted_mid_write and kills < most):
        read_end, write_end = os.pipe()
        worker = FORK.Process(target=_writer, args=(str(db), next_op, write_end))
        worker.start()
        os.close(write_end)
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            assert pipe.readline() == b"ready\n"
            confirmed = [pipe.readline() for _ in range(rng.randint(1, 4))]
            landed = rng.random() < 0.5 and _next_write_started(db, pipe.fileno())
            os.kill(worker.pid, signal.SIGKILL)  # type: ignore[arg-type]
            worker.join()
            assert all(confirmed), "the writer died before confirming its writes"
            done = [int(line) for line in confirmed + _read_all(pipe.fileno()).split()]
        kills += 1
        mid_write += landed
        confirmed_adds.update(op for op in done if op % 2)
        confirmed_adjusts += sum(1 for op in done if op % 2 == 0)
        next_op = max([next_op, *done]) + 1
        next_op += next_op % 2 == 0  # restart on an add, so op numbers never repeat

        fresh = make_service(db)  # a new reader: the file must load every single time
        items = {item.sku: item for item in fresh.list_items()}
        missing = sorted(op for op in confirmed_adds if f"K-{op}" not in items)
        assert not missing, missing[:10]
        counter = items["COUNTER"].quantity
        # The adjust in flight at the kill may have landed unconfirmed, never half of it.
        assert confirmed_adjusts <= counter <= confirmed_adjusts + 1
        confirmed_adjusts = counter
        assert len(fresh.history("COUNTER")) == counter + 1
        fresh.repository.close()
    # Shown with -s, and on failure: what the loop did.
    print(
        f"{db.suffix}: {kills} kills, {mid_write} mid-write, {len(confirmed_adds)} confirmed adds,"
    )
    print(f"{confirmed_adjusts} adjusts landed, every one present after every kill")
    assert len(confirmed_adds) + confirmed_adjusts >= kills, "every round confirms a write"
    assert mid_write >= wanted_mid_write, f"only {mid_write} of {kills} kills hit a write"
    final = make_service(db)
    final.adjust("COUNTER", 1)
    assert final.verify()["ok"], final.verify()["problems"][:5]
    assert not [p for p in db.parent.iterdir() if p.name.endswith(".tmp")]


def _worker(db: str, worker: int, rounds: int) -> None:
    service = make_service(db)
    for n in range(rounds):
        service.adjust("SHARED", 1 if n % 3 else 2)
        service.adjust(f"OWN-{worker}", 1)
        if n % 10 == 0:
            service.add(f"NEW-{worker}-{n}", "inserted concurrently")


@pytest.mark.slow
def test_concurrent_processes_never_lose_an_update(db: Path) -> None:
    workers, rounds = 8, 200
    setup = make_service(db)
    setup.add("SHARED", "shared")
    setup.add_many([{"sku": f"OWN-{w}", "name": "own"} for w in range(workers)])
    setup.repository.close()
    processes = [FORK.Process(target=_worker, args=(str(db), w, rounds)) for w in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * workers
    service = make_service(db)
    per_worker = sum(1 if n % 3 else 2 for n in range(rounds))
    assert service.get("SHARED").quantity == workers * per_worker
    assert all(service.get(f"OWN-{w}").quantity == rounds for w in range(workers))
    inserted = [item.sku for item in service.list_items(search="NEW-")]
    assert sorted(inserted) == sorted(
        f"NEW-{w}-{n}" for w in range(workers) for n in range(0, rounds, 10)
    )
    movements = service.repository.movements()
    operations = 1 + workers + workers * rounds * 2 + len(inserted)
    assert len(movements) == operations
    assert [m.id for m in movements] == list(range(1, operations + 1))
    assert len(service.history("SHARED")) == 1 + workers * rounds
    assert service.verify()["ok"]
