"""The row scan the items screen lists a big store from: the same items, figures and order as
`list_items`, whatever mix of checkpoint and journal a TinyDB store is in, while writers go on."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from atlas_tui.storage.tinydb_repo import TinyDBRepository


def rows_of(service: InventoryService, batch: int = 7) -> list[tuple[object, ...]]:
    return [tuple(row) for chunk in service.item_rows(batch) for row in chunk]


def listed(service: InventoryService) -> list[tuple[object, ...]]:
    return [(i.sku, i.name, i.category, i.quantity, i.location, i.min_stock, i.max_stock,
             i.earliest_expiry) for i in service.list_items()]  # fmt: skip


def seed(service: InventoryService) -> None:
    service.add_many(
        [{"sku": f"S-{n:03d}", "name": f"Item {n}", "category": f"C{n % 3}",
          "quantity": n, "location": f"L{n % 4}", "min_stock": 5, "max_stock": 40}
         for n in range(0, 60, 2)]
    )  # fmt: skip


@pytest.mark.parametrize("suffix", [".json", ".db"])
def test_scan_matches_the_items_after_every_kind_of_change(tmp_path: Path, suffix: str) -> None:
    service = make_service(tmp_path / f"atlas{suffix}")
    seed(service)
    repo = service.repository
    if isinstance(repo, TinyDBRepository):
        repo.checkpoint()  # a sorted checkpoint: the scan reads it line by line
    assert rows_of(service) == listed(service)
    # Changes after the checkpoint live only in the journal: each kind must show.
    service.adjust("S-004", 3)
    service.add("S-005", "Slotted in", "C9", 1, "L0")  # between two checkpointed SKUs
    service.add("a-first", "Sorts first, any case", "", 2)
    service.add("Z-LAST", "Sorts last", "", 0)
    service.delete("S-010")
    service.update("S-020", name="Renamed")
    service.move("S-022", "L9")
    fresh = make_service(tmp_path / f"atlas{suffix}")  # another process's view
    for view in (service, fresh):
        rows = rows_of(view)
        assert rows == listed(view)
        skus = [row[0] for row in rows]
        assert skus[0] == "a-first" and skus[-1] == "Z-LAST"
        assert "S-010" not in skus and "S-005" in skus
        assert dict((row[0], row) for row in rows)["S-004"][3] == 7


def test_scan_reads_a_checkpoint_replaced_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "atlas.json"
    seeder = make_service(path)
    seed(seeder)
    assert isinstance(seeder.repository, TinyDBRepository)
    seeder.repository.checkpoint()
    reader = make_service(path)
    scan = reader.item_rows(5)
    first = next(scan)
    # Another process writes and checkpoints while the scan is half way.
    writer = make_service(path)
    writer.adjust("S-050", 1)
    assert isinstance(writer.repository, TinyDBRepository)
    writer.repository.checkpoint()
    rest = [row for chunk in scan for row in chunk]
    rows = [tuple(row) for row in [*first, *rest]]
    # One consistent version: the one the scan started from.
    assert [row[0] for row in rows] == [f"S-{n:03d}" for n in range(0, 60, 2)]
    assert dict((row[0], row) for row in rows)["S-050"][3] == 50
    assert rows_of(reader) == listed(reader)  # and a new scan sees the change
    assert dict((row[0], row) for row in rows_of(reader))["S-050"][3] == 51


@pytest.mark.parametrize("suffix", [".json", ".db"])
def test_scan_gives_the_earliest_expiry_of_the_stock_on_hand(tmp_path: Path, suffix: str) -> None:
    service = make_service(tmp_path / f"atlas{suffix}")
    service.add("MILK", "Milk", "", 0, "A1")
    service.receive("MILK", 4, location="A1", lot="M1", expiry="2027-01-10")
    service.receive("MILK", 3, location="B2", lot="M2", expiry="2026-12-20")
    service.add("BOLT", "Bolt", "", 5, "A1")  # no expiry
    service.add("CHEESE", "Cheese", "", 2, "A1")  # one line without, one with
    service.receive("CHEESE", 1, location="C3", lot="C1", expiry="2027-03-01")
    repo = service.repository
    if isinstance(repo, TinyDBRepository):
        repo.checkpoint()
    earliest = {row[0]: row[7] for row in rows_of(service)}
    assert earliest == {"BOLT": "", "CHEESE": "2027-03-01", "MILK": "2026-12-20"}
    # The lot running out no longer counts: the next one's date does.
    service.pick("MILK", 3, location="B2", lot="M2")
    fresh = make_service(tmp_path / f"atlas{suffix}")
    assert {row[0]: row[7] for row in rows_of(fresh)}["MILK"] == "2027-01-10"
    assert [row[7] for row in rows_of(fresh)] == [i.earliest_expiry for i in fresh.list_items()]
