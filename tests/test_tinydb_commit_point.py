"""The TinyDB commit point: a transaction counts once its closing line is in the journal.

A crash at any byte of an append leaves the old or the new state, never part of a
transaction; a writer cuts what a killed one left; readers without the lock never see half
a transaction; checkpoints (the data file rewritten) can be killed at any moment too.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import random
import signal
from pathlib import Path

import orjson
import pytest
from support import readable

from atlas_tui.domain.errors import StorageError
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from atlas_tui.storage import TinyDBRepository

FORK = multiprocessing.get_context("fork")
TOTAL = 10_000  # LEFT + RIGHT: every transaction moves one unit from RIGHT to LEFT


def journal_of(db: Path) -> Path:
    [journal] = db.parent.glob(f"{db.name}.history-*.ndjson")
    return journal


def pair_store(db: Path) -> InventoryService:
    service = make_service(db)
    service.add_many(
        [
            {"sku": "LEFT", "name": "left", "quantity": 0},
            {"sku": "RIGHT", "name": "right", "quantity": TOTAL},
            *({"sku": f"BULK-{n}", "name": "ballast " * 8} for n in range(300)),
        ]
    )
    return service


def shift(service: InventoryService, n: int) -> None:
    """One transaction: a unit from RIGHT to LEFT, and every third time a new item."""
    with service.batch():
        service.adjust("RIGHT", -1)
        service.adjust("LEFT", 1)
        if n % 3 == 0:
            service.add(f"NEW-{n}", "added in a transaction", quantity=1)


def state_of(db: Path) -> tuple[int, int, frozenset[str]]:
    """LEFT, RIGHT and the NEW- items, as a fresh reader (no lock) sees them."""
    reader = make_service(db)
    items = {item.sku: item for item in reader.list_items()}
    news = frozenset(sku for sku in items if sku.startswith("NEW-"))
    state = items["LEFT"].quantity, items["RIGHT"].quantity, news
    reader.repository.close()
    return state


def test_a_crash_at_any_byte_of_a_commit_leaves_the_old_or_the_new_state(json_db: Path) -> None:
    service = pair_store(json_db)
    shift(service, 1)
    journal = journal_of(json_db)
    before_bytes, data = journal.read_bytes(), json_db.read_bytes()
    old = state_of(json_db)
    shift(service, 3)
    new = state_of(json_db)
    appended = journal.read_bytes()[len(before_bytes) :]
    assert json_db.read_bytes() == data  # a commit appends; the data file is not rewritten
    assert old != new
    for cut in range(len(appended) + 1):
        journal.write_bytes(before_bytes + appended[:cut])
        assert state_of(json_db) == (new if cut == len(appended) else old), cut
    # A writer cuts the torn tail and commits after what was committed.
    journal.write_bytes(before_bytes + appended[: len(appended) // 2])
    writer = make_service(json_db)
    writer.adjust("LEFT", 5)
    assert state_of(json_db)[0] == old[0] + 5
    assert journal.read_bytes().startswith(before_bytes)
    assert appended[: len(appended) // 2] not in journal.read_bytes()[len(before_bytes) :]
    assert writer.verify()["ok"]


def test_a_damaged_transaction_is_reported_never_cut_away(json_db: Path) -> None:
    service = pair_store(json_db)
    for n in range(4):
        shift(service, n * 3 + 1)
    journal = journal_of(json_db)
    raw = bytearray(journal.read_bytes())
    # Flip a digit inside the second to last transaction: later ones are intact.
    marks = [n for n in range(len(raw)) if raw.startswith(b'{"~c":', n)]
    at = raw.rfind(b'"quantity":', marks[-3], marks[-2]) + len(b'"quantity":')
    raw[at] = ord("7") if raw[at] != ord("7") else ord("8")
    journal.write_bytes(bytes(raw))
    data = json_db.read_bytes()
    with pytest.raises(StorageError, match=r"history journal .* is damaged after byte"):
        make_service(json_db).adjust("LEFT", 1)
    with pytest.raises(StorageError, match=r"is damaged"):
        make_service(json_db).list_items()
    assert not make_service(json_db).verify()["ok"]
    assert journal.read_bytes() == bytes(raw) and json_db.read_bytes() == data


def _shifter(db: str, start: int, pipe: int, checkpoint_bytes: int) -> None:
    service = make_service(db)
    repo = service.repository
    assert isinstance(repo, TinyDBRepository)
    repo.checkpoint_bytes = checkpoint_bytes  # a checkpoint every few transactions
    os.write(pipe, b"ready\n")
    for n in range(start, start + 1_000_000):
        shift(service, n)
        os.write(pipe, f"{n}\n".encode())


def _read_all(fd: int) -> list[int]:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return [int(n) for n in b"".join(chunks).split()]


def _checkpoint_under_way(db: Path) -> bool:
    """A checkpoint's temp file that its writer still holds (a killed one's is let go)."""
    for temp in db.parent.glob(".*.tmp"):
        try:
            fd = os.open(temp, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
    return False


@pytest.mark.slow
@pytest.mark.usefixtures("patient_writers")
def test_sigkill_during_appends_and_checkpoints_never_loses_nor_halves_a_transaction(
    json_db: Path,
) -> None:
    pair_store(json_db).repository.close()
    rng = random.Random(11)
    kills, in_checkpoint, next_op, confirmed = 0, 0, 1, 0
    confirmed_news: set[int] = set()
    while kills < 150 or (in_checkpoint < 5 and kills < 600):
        read_end, write_end = os.pipe()
        worker = FORK.Process(target=_shifter, args=(str(json_db), next_op, write_end, 2048))
        worker.start()
        os.close(write_end)
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            assert pipe.readline() == b"ready\n"
            done = [int(pipe.readline()) for _ in range(rng.randint(0, 3))]
            how = rng.random()
            if how < 0.4:  # as soon as a checkpoint's temp file shows, or a write confirms
                while not _checkpoint_under_way(json_db):
                    if readable(pipe):
                        break
            elif how < 0.8:  # at a random moment of the next transaction
                busy = rng.randint(0, 20_000)
                while busy:
                    busy -= 1
            in_checkpoint += _checkpoint_under_way(json_db)
            os.kill(worker.pid, signal.SIGKILL)  # type: ignore[arg-type]
            worker.join()
            done += _read_all(pipe.fileno())
        kills += 1
        confirmed += len(done)
        confirmed_news.update(n for n in done if n % 3 == 0)
        left, right, news = state_of(json_db)
        assert left + right == TOTAL, "half a transaction is visible"
        # Every confirmed transaction is there; the one in flight may have landed.
        assert confirmed <= left <= confirmed + 1
        found = {int(sku.removeprefix("NEW-")) for sku in news}
        assert confirmed_news <= found
        assert len(found - confirmed_news) <= 1
        confirmed = left
        confirmed_news = found
        next_op = max([next_op, *done, *found]) + 1
        # The data file alone (what a plain TinyDB reader sees) is a whole checkpoint.
        plain = orjson.loads(json_db.read_bytes())["items"].values()
        quantities = {doc["sku"]: doc["quantity"] for doc in plain}
        assert quantities["LEFT"] + quantities["RIGHT"] == TOTAL
    print(f"{kills} kills, {in_checkpoint} during a checkpoint, {confirmed} transactions")
    assert in_checkpoint >= 5, f"only {in_checkpoint} of {kills} kills hit a checkpoint"
    final = make_service(json_db)
    final.adjust("LEFT", 1)
    assert final.verify()["ok"], final.verify()["problems"][:5]
    assert len(final.history("LEFT")) == final.get("LEFT").quantity + 1
    assert not [p for p in json_db.parent.iterdir() if p.name.endswith(".tmp")]


def _steady_shifter(db: str, rounds: int) -> None:
    service = make_service(db)
    repo = service.repository
    assert isinstance(repo, TinyDBRepository)
    repo.checkpoint_bytes = 4096
    for n in range(rounds):
        shift(service, n * 3 + 1)


@pytest.mark.slow
def test_readers_without_the_lock_never_see_half_a_transaction(json_db: Path) -> None:
    pair_store(json_db).repository.close()
    reader = make_service(json_db)
    rounds = 300
    writer = FORK.Process(target=_steady_shifter, args=(str(json_db), rounds))
    writer.start()
    seen = set()
    while writer.is_alive():
        items = {item.sku: item.quantity for item in reader.list_items()}
        assert items["LEFT"] + items["RIGHT"] == TOTAL
        seen.add(items["LEFT"])
        with contextlib.suppress(StorageError):  # the app's check: never blocks
            reader.version()
    writer.join()
    assert writer.exitcode == 0
    assert reader.get("LEFT").quantity == rounds
    assert len(seen) > 1, "the reader saw no commit while it ran"
