"""An import that meets another writer's commit between its plan and its own commit: only
the rows whose items changed are refused, whatever the backend finds out about what changed
(SQLite: the SKUs of the movements recorded since the plan; TinyDB: every item re-read)."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from support import poll

from atlas_tui.factory import make_service
from atlas_tui.services.exchange import import_file
from atlas_tui.services.imports import ImportResult
from atlas_tui.services.inventory import InventoryService
from atlas_tui.storage.files import QUEUE_NAME
from atlas_tui.storage.sqlite_repo import BULK_ROWS, SQLiteRepository
from atlas_tui.storage.tinydb_repo import TinyDBRepository

FORK = multiprocessing.get_context("fork")
Change = Callable[[InventoryService], object]


@pytest.fixture
def stocked(service: InventoryService) -> InventoryService:
    """A-1 (10), A-2 (20), A-3 (30) and OTHER (5), each with its `add` movement."""
    service.add_many(
        [
            {"sku": "A-1", "name": "one", "quantity": 10},
            {"sku": "A-2", "name": "two", "quantity": 20},
            {"sku": "A-3", "name": "three", "quantity": 30},
            {"sku": "OTHER", "name": "not in the file", "quantity": 5},
        ]
    )
    return service


def _tickets(folder: Path) -> int:
    queue = folder / QUEUE_NAME
    return int.from_bytes(queue.read_bytes()[:8], "little") if queue.exists() else 0


def _change_in_a_held_batch(db: Path, change: Change, talk: Connection) -> None:
    service = make_service(db)
    with service.batch():
        change(service)
        talk.send("holding")
        talk.recv()
    talk.send("committed")


def import_meeting(
    service: InventoryService, db: Path, source: Path, change: Change, *, strict: bool = False
) -> ImportResult:
    """Import `source` while another process makes `change`: after the import has planned
    (the change is not committed yet) and before it commits (it waits for the lock)."""
    ours, theirs = FORK.Pipe()
    holder = FORK.Process(target=_change_in_a_held_batch, args=(db, change, theirs), daemon=True)
    holder.start()
    try:
        assert ours.recv() == "holding"
        before = _tickets(db.parent)
        outcome: list[ImportResult] = []
        importer = threading.Thread(
            target=lambda: outcome.append(import_file(service, source, strict=strict))
        )
        importer.start()
        poll(lambda: _tickets(db.parent) > before, "the import to ask for the lock to commit")
        ours.send("go")
        assert ours.recv() == "committed"
        importer.join(timeout=60)
    finally:
        holder.join(timeout=60)
    [result] = outcome
    return result


def csv_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "stock.csv"
    path.write_text("sku,name,qty\n" + "".join(f"{line}\n" for line in lines))
    return path


def test_a_change_of_an_item_outside_the_file_lets_the_import_commit_in_full(
    stocked: InventoryService, db: Path, tmp_path: Path
) -> None:
    source = csv_file(tmp_path, "A-1,one,11", "A-2,two,21", "NEW-1,new,7")
    result = import_meeting(stocked, db, source, lambda s: s.adjust("OTHER", 3, "picked"))
    assert result.applied and result.counts == {
        "added": 1, "updated": 2, "unchanged": 0, "refused": 0
    }  # fmt: skip
    fresh = make_service(db)
    assert [fresh.get(sku).quantity for sku in ("A-1", "A-2", "NEW-1", "OTHER")] == [11, 21, 7, 8]
    assert fresh.verify()["ok"]


@pytest.mark.parametrize(
    ("change", "sku", "what"),
    [
        (lambda s: s.adjust("a-2", 1, "picked"), "A-2", "changed"),
        (lambda s: s.delete("A-2"), "A-2", "deleted"),
        (lambda s: s.add("new-1", "theirs", quantity=1), "NEW-1", "added"),
    ],
    ids=["adjusted", "deleted", "added"],
)
def test_only_the_row_whose_item_another_writer_touched_is_refused(
    stocked: InventoryService, db: Path, tmp_path: Path, change: Change, sku: str, what: str
) -> None:
    source = csv_file(tmp_path, "A-1,one,11", "A-2,two,22", "A-3,three,33", "NEW-1,new,7")
    result = import_meeting(stocked, db, source, change)
    [refused] = result.of("refuse")
    assert refused.sku == sku
    assert f"was {what} by another writer" in refused.reason
    fresh = make_service(db)
    applied = {o.sku for o in result.rows if o.action in ("add", "update")}
    assert applied == {"A-1", "A-2", "A-3", "NEW-1"} - {sku}
    planned = {"A-1": 11, "A-2": 22, "A-3": 33, "NEW-1": 7}
    assert {row: fresh.get(row).quantity for row in applied} == {
        row: planned[row] for row in applied
    }
    # Theirs is kept: A-2 picked (21), deleted (gone) or NEW-1 theirs (1 unit).
    if what == "changed":
        assert fresh.get("A-2").quantity == 21
    elif what == "deleted":
        assert fresh.repository.get("A-2") is None
    else:
        assert (fresh.get("NEW-1").name, fresh.get("NEW-1").quantity) == ("theirs", 1)
    # One movement per applied row, numbered on without gaps after the other writer's.
    history = fresh.repository.movements()
    assert [m.id for m in history] == list(range(1, len(history) + 1))
    imported = [m for m in history if m.reason.startswith("import of")]
    assert sorted(m.sku for m in imported) == sorted(applied)
    assert fresh.verify()["ok"]


def test_a_strict_import_meeting_a_change_of_its_item_leaves_the_data_as_it_was(
    stocked: InventoryService, db: Path, tmp_path: Path
) -> None:
    source = csv_file(tmp_path, "A-1,one,11", "A-2,two,22")
    result = import_meeting(stocked, db, source, lambda s: s.adjust("A-1", 1), strict=True)
    assert not result.applied and [o.sku for o in result.of("refuse")] == ["A-1"]
    fresh = make_service(db)
    assert [fresh.get(sku).quantity for sku in ("A-1", "A-2")] == [11, 20]
    assert not [m for m in fresh.repository.movements() if m.reason.startswith("import of")]


def test_sqlite_tells_the_items_changed_since_a_mark_and_when_it_cannot(tmp_path: Path) -> None:
    service = make_service(tmp_path / "store.sqlite")
    repo = service.repository
    assert isinstance(repo, SQLiteRepository)
    empty = repo.history_mark()
    service.add("A-1", "one", quantity=1)
    assert repo.changed_since(empty) is None  # no movement to recognise the history by
    mark = repo.history_mark()
    assert repo.changed_since(mark) == set()
    service.adjust("a-1", 2)
    service.add("B-1", "two")
    assert repo.changed_since(mark) == {"a-1", "b-1"}
    # A restore of another history: what changed since the mark can no longer be told.
    items, movements = repo.read_all()
    for history in (movements[1:], []):
        with repo.exclusive():
            repo.replace_all(items, history)
        assert repo.changed_since(mark) is None
    # The same history again (a backup taken after the mark): the movements after it tell.
    with repo.exclusive():
        repo.replace_all(items, movements)
    assert repo.changed_since(mark) == {"a-1", "b-1"}


def test_a_bulk_transaction_gives_back_its_page_cache(tmp_path: Path) -> None:
    service = make_service(tmp_path / "store.sqlite")
    rows = [{"sku": f"S-{n}", "name": f"item {n}"} for n in range(BULK_ROWS + 1)]
    service.add_many(rows)
    repo = service.repository
    assert isinstance(repo, SQLiteRepository) and repo.count() == BULK_ROWS + 1
    assert repo._read("PRAGMA cache_size")[0][0] == -2000  # SQLite's default again


def test_an_import_whose_every_row_another_writer_touched_changes_nothing(
    stocked: InventoryService, db: Path, tmp_path: Path
) -> None:
    source = csv_file(tmp_path, "A-1,one,11")
    result = import_meeting(stocked, db, source, lambda s: s.adjust("A-1", 4))
    assert result.counts["refused"] == 1 and result.counts["updated"] == 0
    fresh = make_service(db)
    assert fresh.get("A-1").quantity == 14
    assert [m.kind for m in fresh.history("A-1")] == ["adjust", "add"]
    assert len(fresh.repository.movements()) == 5 and fresh.verify()["ok"]


def test_tinydb_tells_the_items_changed_since_a_mark_and_when_it_cannot(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    service = make_service(path)
    repo = service.repository
    assert isinstance(repo, TinyDBRepository)
    assert repo.changed_since(repo.history_mark()) is None  # no journal yet
    service.add("A-1", "one", quantity=1)
    mark = repo.history_mark()
    assert repo.changed_since(mark) == set()
    service.adjust("a-1", 2)
    other = make_service(path)  # another process's changes count too
    other.add("B-1", "two")
    other.add_many([{"sku": f"M-{n}", "name": "many"} for n in range(3)])
    assert repo.changed_since(mark) == {"a-1", "b-1", "m-0", "m-1", "m-2"}
    repo.checkpoint()  # a checkpoint changes nothing of what can be told
    assert repo.changed_since(mark) == {"a-1", "b-1", "m-0", "m-1", "m-2"}
    # A restore starts a new journal: what changed since can no longer be told.
    items, movements = repo.read_all()
    with repo.exclusive():
        repo.replace_all(items, movements)
    assert repo.changed_since(mark) is None
