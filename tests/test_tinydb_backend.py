"""What only the TinyDB backend has: the JSON file, its journal, and file hygiene."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import orjson
import pytest
from tinydb import TinyDB

from atlas_tui.domain.errors import StorageError
from atlas_tui.domain.models import InventoryItem
from atlas_tui.factory import make_service
from atlas_tui.storage import TinyDBRepository
from atlas_tui.storage.tinydb_storage import FORMAT_MARK


def journals(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f"{db.name}.history-*.ndjson"))


def movement_lines(journal: Path) -> list[dict[str, object]]:
    """The journal's movements (its other lines are item changes and commit marks)."""
    return [
        orjson.loads(line)
        for line in journal.read_bytes().splitlines()
        if not line.startswith(b'{"~')
    ]


def test_items_in_plain_tinydb_json_and_history_in_a_journal(json_db: Path) -> None:
    service = make_service(json_db)
    service.add("ITEM-001", "Widget", quantity=100)
    service.adjust("ITEM-001", -5, "picked")
    repo = service.repository
    assert isinstance(repo, TinyDBRepository)
    with TinyDB(json_db) as plain:  # a plain reader sees the last checkpoint...
        assert set(plain.tables()) == {"_meta", "items", FORMAT_MARK}
        [doc] = plain.table("items").all()
        assert (doc["sku"], doc["quantity"]) == ("ITEM-001", 100)
    assert repo.checkpoint()  # ... and every change once one is asked for
    assert not repo.checkpoint()
    with TinyDB(json_db) as plain:
        [doc] = plain.table("items").all()
        assert (doc["sku"], doc["quantity"]) == ("ITEM-001", 95)
    [journal] = journals(json_db)
    lines = movement_lines(journal)
    assert [(r["id"], r["kind"], r["delta"]) for r in lines] == [(1, "add", 100), (2, "adjust", -5)]
    meta = orjson.loads(json_db.read_bytes())["_meta"]["1"]
    assert meta["journal_bytes"] == journal.stat().st_size and meta["movements"] == 2


def test_a_file_written_by_plain_tinydb_is_read_and_its_history_moved(json_db: Path) -> None:
    json_db.parent.mkdir(parents=True)
    with TinyDB(json_db) as plain:
        plain.table("items").insert(InventoryItem("P-1", "From plain TinyDB", quantity=3).to_dict())
        plain.table("movements").insert(
            {"sku": "P-1", "kind": "add", "delta": 3, "quantity_before": 0, "quantity_after": 3,
             "reason": "", "user": "old", "timestamp": "2025-01-01T00:00:00+00:00", "details": {}}
        )  # fmt: skip
    service = make_service(json_db)
    assert [m.user for m in service.history("p-1")] == ["old"]
    assert service.adjust("p-1", 2).quantity == 5
    assert [(m.id, m.kind) for m in service.history("P-1")] == [(2, "adjust"), (1, "add")]
    with TinyDB(json_db) as plain:
        assert "movements" not in plain.tables()
    assert service.verify()["ok"]


def test_reads_reuse_the_parsed_file_until_it_changes(json_db: Path) -> None:
    service = make_service(json_db)
    service.add("ITEM-001", "Widget", quantity=100)
    repo = service.repository
    assert isinstance(repo, TinyDBRepository)
    service.list_items()
    reloads = repo.reloads
    for _ in range(20):
        service.get("ITEM-001")
        service.list_items()
    assert repo.reloads == reloads
    other = make_service(json_db)
    other.adjust("ITEM-001", 1)
    assert service.get("ITEM-001").quantity == 101
    assert service.list_items()[0].quantity == 101
    # Another process's change is read from the journal, not by parsing the file again;
    # nor is the file parsed again when another process rewrites it as a checkpoint.
    other.repository.close()
    other.adjust("ITEM-001", 1)
    assert service.list_items()[0].quantity == 102
    assert repo.reloads == reloads


def test_a_batch_is_one_append_to_the_journal(json_db: Path) -> None:
    service = make_service(json_db)
    service.add("A", "a", quantity=10)
    data = json_db.read_bytes()
    [journal] = journals(json_db)
    size = journal.stat().st_size
    with service.batch():
        for _ in range(5):
            service.adjust("A", 1)
        service.add("B", "b")
        assert journal.stat().st_size == size  # nothing reached the disk yet
        assert json_db.read_bytes() == data
    assert journal.stat().st_size > size
    commits = [line for line in journal.read_bytes().splitlines() if line.startswith(b'{"~c":')]
    assert len(commits) == 1
    assert make_service(json_db).get("A").quantity == 15


def test_leftovers_of_killed_writers_are_cleaned_at_the_first_write(json_db: Path) -> None:
    service = make_service(json_db)
    service.add("A", "a")
    [journal] = journals(json_db)
    committed = journal.stat().st_size
    with open(journal, "ab") as handle:
        handle.write(b'{"id": 2, "sku": "A", "kind": "adj')  # a commit that never finished
    temp = json_db.parent / f".{json_db.name}.abc123.tmp"
    temp.write_bytes(b'{"half": ')
    orphan = json_db.with_name(f"{json_db.name}.history-000000000000.ndjson")
    orphan.write_text("{}\n")
    unrelated = json_db.parent / "notes.tmp"
    unrelated.write_text("keep me")
    fresh = make_service(json_db)
    assert len(fresh.history("A")) == 1  # readers ignore the uncommitted tail
    fresh.adjust("A", 1)
    assert not temp.exists() and not orphan.exists() and unrelated.exists()
    assert [r["kind"] for r in movement_lines(journal)] == ["add", "adjust"]
    assert journal.stat().st_size > committed


def test_a_missing_or_shortened_journal_is_reported(json_db: Path) -> None:
    service = make_service(json_db)
    service.add("A", "a")
    service.adjust("A", 1)
    [journal] = journals(json_db)
    before = json_db.read_bytes()
    journal.write_bytes(journal.read_bytes()[:10])
    with pytest.raises(StorageError, match=r"history journal .* is shorter"):
        make_service(json_db).adjust("A", 1)
    journal.unlink()
    with pytest.raises(StorageError, match=r"history journal .* is missing"):
        make_service(json_db).history("A")
    assert json_db.read_bytes() == before


def test_adjust_cost_does_not_depend_on_history_size(json_db: Path) -> None:
    """The data file holds no history, so a long history never makes a write bigger."""
    service = make_service(json_db)
    service.add("A", "a")
    size = json_db.stat().st_size
    for _ in range(200):
        service.adjust("A", 1)
    assert abs(json_db.stat().st_size - size) < 64
    assert len(service.history("A")) == 201


def test_history_of_one_sku_is_indexed(json_db: Path) -> None:
    service = make_service(json_db)
    service.add_many([{"sku": f"S-{n}", "name": "n"} for n in range(50)])
    for n in range(50):
        service.adjust(f"S-{n % 5}", 1)
    assert [m.kind for m in service.history("s-3")] == ["adjust"] * 10 + ["add"]
    make_service(json_db).adjust("S-3", 1)  # another process appends; the index extends
    assert len(service.history("S-3")) == 12


def test_lock_file_names_the_holder_while_held(json_db: Path) -> None:
    service = make_service(json_db)
    with service.batch():
        service.add("A", "a")
        holder = json_db.with_name(json_db.name + ".lock").read_text()
        assert f"pid {os.getpid()}" in holder


def test_other_threads_read_while_a_transaction_is_open(json_db: Path) -> None:
    """The app's change check and reads never wait for a writer thread, nor see its
    uncommitted changes."""
    service = make_service(json_db)
    service.add("A", "a", quantity=1)
    inside, release = threading.Event(), threading.Event()

    def writer() -> None:
        with service.batch():
            service.adjust("A", 10)
            inside.set()
            release.wait()

    thread = threading.Thread(target=writer)
    thread.start()
    inside.wait()
    try:
        version = service.version()
        assert service.get("A").quantity == 1
        assert [item.quantity for item in service.list_items()] == [1]
        assert service.version() == version
    finally:
        release.set()
        thread.join()
    assert service.get("A").quantity == 11
    assert service.version() != version


def test_history_of_one_item_is_whole_across_a_journal_of_many_megabytes(tmp_path: Path) -> None:
    """The journal is searched a window at a time: movements on either side of every window
    edge are found, in order, and no other item's."""
    service = make_service(tmp_path / "atlas.json")
    service.add("TARGET", "The one", quantity=1)
    for round_ in range(3):
        service.add_many(
            [{"sku": f"R{round_}-{n:05d}", "name": "x" * 120, "quantity": 1} for n in range(4000)]
        )
        service.adjust("target", 2, reason=f"round {round_}")
    journal = next(tmp_path.glob("atlas.json.history-*.ndjson"))
    assert journal.stat().st_size > 2 * 1024 * 1024  # several search windows
    fresh = make_service(tmp_path / "atlas.json")  # a first lookup: the whole journal searched
    history = fresh.history("Target")
    assert [m.reason for m in history[:3]] == ["round 2", "round 1", "round 0"]
    assert [m.quantity_after for m in history] == [7, 5, 3, 1]
    assert {m.sku for m in history} == {"TARGET"}


def test_warmed_history_gives_every_item_the_same_movements(tmp_path: Path) -> None:
    """The one-pass index of every SKU (built while the app shows the first items) finds what
    a lookup of each SKU alone finds: odd SKUs, case variants, later changes included."""
    path = tmp_path / "atlas.json"
    service = make_service(path)
    odd = ['Q"uote', "Back\\slash", "Ünï-cødé", "slash/in", "A-1"]
    service.add_many([{"sku": sku, "name": "odd", "quantity": 1} for sku in odd])
    service.add_many([{"sku": f"P-{n}", "name": "plain", "quantity": n} for n in range(300)])
    for sku in ["a-1", "ünï-CØDÉ", 'q"UOTE', "P-7"]:
        service.adjust(sku, 2)
    every = odd + [f"P-{n}" for n in range(300)]
    alone = {sku: make_service(path).history(sku) for sku in every}
    warmed = make_service(path)
    warmed.history("P-1")  # a key looked up before the index is built
    warmed.warm_history()
    service.adjust("P-299", 1)  # and a change after it
    service.delete("slash/in")
    for sku in every:
        expected = make_service(path).history(sku)
        assert warmed.history(sku) == expected, sku
        assert len(expected) >= len(alone[sku])
    assert [m.kind for m in warmed.history("A-1")] == ["adjust", "add"]
    assert warmed.history("NO-SUCH") == []
