"""Stock where it really is: lines per location, lot and expiry; receive, pick, transfer,
count, move; locations; and every refusal leaving the store as it was. Both backends."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import Result

from atlas_tui.domain.errors import AtlasError, ConflictError, NotFoundError, ValidationError
from atlas_tui.domain.stock import StockLine
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService

ALL_BACKENDS = True  # every `db` test here runs on PostgreSQL as well

Unchanged = Callable[[], AbstractContextManager[None]]


def lines(service: InventoryService, sku: str) -> list[tuple[str, str, str, int]]:
    return [(ln.location, ln.lot, ln.expiry, ln.quantity) for ln in service.stock(sku)]


@pytest.fixture
def milk(service: InventoryService) -> InventoryService:
    """MILK: 10 at its home A-1; then 24 of lot L7 (expiring soon) and 12 of L8 at B-2."""
    service.add("MILK", "Milk 1L", "Dairy", 10, "A-1", barcodes={"4012": 12})
    service.receive("MILK", 24, location="B-2", lot="L7", expiry="2026-12-10")
    service.receive("MILK", 12, location="B-2", lot="L8", expiry="2027-01-10")
    return service


def test_an_item_added_has_one_line_at_its_home(service: InventoryService) -> None:
    item = service.add("A", "Anvil", quantity=5, location="A1")
    assert item.stock == (StockLine("A1", 5),) and item.unit == "pcs"
    assert service.add("B", "Empty", location="A1").stock == ()


def test_receive_into_lots_keeps_the_total_and_marks_the_table(milk: InventoryService) -> None:
    item = milk.get("MILK")
    assert item.quantity == 46 and item.location == "A-1"
    assert lines(milk, "MILK") == [
        ("A-1", "", "", 10),
        ("B-2", "L7", "2026-12-10", 24),
        ("B-2", "L8", "2027-01-10", 12),
    ]
    assert item.shown_location == "A-1 +1"
    assert [row[4] for batch in milk.item_rows() for row in batch] == ["A-1 +1"]
    again = milk.receive("MILK", 6, location="b-2", lot="l7")  # any case; the lot's expiry kept
    assert ("B-2", "L7", "2026-12-10", 30) in lines(milk, "MILK") and again.quantity == 52


def test_pick_takes_the_earliest_expiry_first_and_says_which_lines(milk: InventoryService) -> None:
    milk.pick("MILK", 30)
    movement = milk.history("MILK")[0]
    assert movement.kind == "pick" and movement.delta == -30
    assert movement.details["lines"] == [
        ["B-2", "L7", "2026-12-10", 24, 0],
        ["B-2", "L8", "2027-01-10", 12, 6],
    ]
    # L7 is gone from B-2 and nowhere else: its line stays at zero, so it can be traced.
    assert lines(milk, "MILK") == [
        ("A-1", "", "", 10),
        ("B-2", "L7", "2026-12-10", 0),
        ("B-2", "L8", "2027-01-10", 6),
    ]
    milk.pick("MILK", 3, location="A-1")
    assert ("A-1", "", "", 7) in lines(milk, "MILK")


def test_a_transfer_moves_part_and_the_lot_travels(milk: InventoryService) -> None:
    item = milk.transfer("MILK", 10, "B-2", "C-3", lot="L8")
    assert item.quantity == 46
    assert ("B-2", "L8", "2027-01-10", 2) in lines(milk, "MILK")
    assert ("C-3", "L8", "2027-01-10", 10) in lines(milk, "MILK")
    movement = milk.history("MILK")[0]
    assert (movement.kind, movement.delta, movement.details["from"], movement.details["to"]) == (
        "transfer",
        0,
        "B-2",
        "C-3",
    )
    assert milk.verify()["ok"]


def test_adjust_without_a_location_acts_on_the_home_and_never_spreads(
    milk: InventoryService, unchanged: Unchanged
) -> None:
    milk.adjust("MILK", 5)
    assert ("A-1", "", "", 15) in lines(milk, "MILK")
    with unchanged(), pytest.raises(ValidationError) as refused:
        milk.adjust("MILK", -20)
    message = str(refused.value)
    assert "has 15 at A-1, cannot take 20" in message and "B-2 lot L7" in message
    milk.adjust("MILK", -20, location="B-2", lot="L7")
    assert ("B-2", "L7", "2026-12-10", 4) in lines(milk, "MILK")


def test_count_sets_one_line_and_asks_where_when_there_are_several(
    milk: InventoryService, unchanged: Unchanged
) -> None:
    with unchanged(), pytest.raises(ValidationError, match="held in 3 places"):
        milk.count("MILK", 3)
    with unchanged(), pytest.raises(ValidationError, match="2 lots at B-2"):
        milk.count("MILK", 3, location="B-2")
    milk.count("MILK", 20, location="B-2", lot="L7")
    milk.count("MILK", 0, location="A-1")
    assert lines(milk, "MILK") == [("B-2", "L7", "2026-12-10", 20), ("B-2", "L8", "2027-01-10", 12)]
    assert milk.get("MILK").quantity == 32


def test_move_takes_every_line_and_the_home(milk: InventoryService) -> None:
    moved = milk.move("MILK", "D-4")
    assert moved.location == "D-4" and moved.quantity == 46
    assert {line.location for line in moved.stock} == {"D-4"}
    assert milk.verify()["ok"]


def test_undo_takes_back_a_transfer_and_a_pick(milk: InventoryService) -> None:
    milk.transfer("MILK", 10, "A-1", "C-3")
    milk.pick("MILK", 5, location="C-3")
    milk.undo_last()
    milk.undo_last()
    assert lines(milk, "MILK") == [
        ("A-1", "", "", 10),
        ("B-2", "L7", "2026-12-10", 24),
        ("B-2", "L8", "2027-01-10", 12),
    ]
    assert milk.verify()["ok"]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda s: s.transfer("MILK", 11, "A-1", "C-3"), "has 10 at A-1, cannot take 11"),
        (lambda s: s.transfer("MILK", 1, "NOWHERE", "C-3"), "has 0 at NOWHERE"),
        (lambda s: s.transfer("MILK", 1, "A-1", "a-1"), "is the location the stock is taken"),
        (lambda s: s.receive("MILK", 1, lot="L9", expiry="2027-02-30"), "not a date"),
        (lambda s: s.receive("MILK", 1, lot="L9", expiry="31/01/2027"), "YYYY-MM-DD"),
        (lambda s: s.receive("MILK", 0), "quantity: must be 1 or more"),
        (lambda s: s.pick("MILK", 47), "only 46 on hand"),
        (lambda s: s.receive("NOPE", 1), "no item 'NOPE'"),
        (lambda s: s.scan_code("9999"), "no item has SKU or barcode"),
        (lambda s: s.places.retire("B-2"), "holds 36 units of 1 items"),
        (lambda s: s.places.show("NOWHERE"), "no location 'NOWHERE'"),
        (lambda s: s.places.create("B-2"), "already exists"),
        (lambda s: s.update("NOPE", barcodes={"4099": 12}), "no item 'NOPE'"),
        (lambda s: s.update("MILK", barcodes={"4099": 0}), "pack size must be"),
    ],
)
def test_refusals_name_the_problem_and_change_nothing(
    milk: InventoryService,
    unchanged: Unchanged,
    call: Callable[[InventoryService], object],
    expected: str,
) -> None:
    before = (lines(milk, "MILK"), len(milk.history("MILK")))
    with unchanged(), pytest.raises(AtlasError) as refused:
        call(milk)
    assert expected in str(refused.value)
    assert "\n" not in str(refused.value)
    assert (lines(milk, "MILK"), len(milk.history("MILK"))) == before


def test_a_pack_barcode_stands_for_its_pack(milk: InventoryService) -> None:
    item, pack = milk.scan_code("4012")
    assert (item.sku, pack) == ("MILK", 12)
    assert milk.scan_code("milk")[1] == 1


def test_locations_are_listed_created_renamed_and_retired(milk: InventoryService) -> None:
    milk.places.create("WH2/B/07", name="Bin 7", parent="WH2")
    overview = {row["code"]: row for row in milk.places.overview()}
    assert overview["B-2"]["quantity"] == 36 and overview["B-2"]["items"] == 1
    assert overview["WH2/B/07"]["path"] == ["WH2", "WH2/B/07"]
    assert [row["code"] for row in milk.places.overview(empty=True)] == ["WH2", "WH2/B/07"]
    shown = milk.places.show("b-2")
    assert [(r["sku"], r["lot"], r["quantity"]) for r in shown["lines"]] == [
        ("MILK", "L7", 24),
        ("MILK", "L8", 12),
    ]
    milk.places.rename("B-2", "B-20")
    assert {line.location for line in milk.get("MILK").stock} == {"A-1", "B-20"}
    assert milk.verify()["ok"]
    milk.transfer("MILK", 24, "B-20", "A-1", lot="L7")
    milk.transfer("MILK", 12, "B-20", "A-1", lot="L8")
    retired = milk.places.retire("B-20")
    assert retired["retired"]
    with pytest.raises(ValidationError, match="B-20 is retired"):
        milk.receive("MILK", 1, location="B-20")
    with pytest.raises(ValidationError, match="parent"):
        milk.places.edit("WH2", parent="WH2/B/07")  # a loop


def test_reports_by_location_expiring_and_as_it_was(milk: InventoryService, db: Path) -> None:
    clock = datetime(2026, 12, 4, 12, tzinfo=UTC)
    timed = make_service(db, clock=lambda: clock)
    expiring = timed.report("expiring", days=30)["expiring"]
    assert [(r["lot"], r["days_left"], r["expired"]) for r in expiring] == [("L7", 6, False)]
    assert timed.report("expiring", days=60)["expiring"][1]["lot"] == "L8"
    by_place = {r["code"]: r["quantity"] for r in timed.report("locations")["locations"]}
    assert by_place == {"A-1": 10, "B-2": 36}
    moment = datetime.now(UTC)
    milk.transfer("MILK", 10, "A-1", "C-3")
    then = {r["code"]: r["quantity"] for r in milk.report("locations", at=moment)["locations"]}
    assert then == {"A-1": 10, "B-2": 36}
    with pytest.raises(ValidationError, match="days"):
        milk.report("summary", days=3)
    assert milk.report("expiring", at=moment + timedelta(days=400))["expiring"][0]["expired"]


def test_two_processes_see_each_others_lines(milk: InventoryService, db: Path) -> None:
    other = make_service(db)
    other.transfer("MILK", 4, "A-1", "Z-9")
    assert ("Z-9", "", "", 4) in lines(milk, "MILK")
    with pytest.raises(NotFoundError):
        milk.places.show("Y-1")
    other.places.create("Y-1")
    assert milk.places.show("Y-1")["code"] == "Y-1"
    with pytest.raises(ConflictError):
        milk.places.create("y-1")


# The CLI ------------------------------------------------------------------------------------


def test_the_cli_receives_transfers_picks_counts_and_reports(atlas: Callable[..., Result]) -> None:
    assert atlas("add", "--sku", "M", "--name", "Milk", "--qty", "5", "--location", "A-1").code == 0
    received = atlas("receive", "--sku", "M", "--qty", "12", "--location", "B-2", "--lot", "L7",
                     "--expiry", "2027-01-31")  # fmt: skip
    assert received.code == 0 and "B-2 lot L7 0 → 12" in received.out
    moved = atlas("--json", "transfer", "--sku", "M", "--qty", "4", "--from", "B-2", "--to", "C-3")
    envelope = json.loads(moved.out)
    assert envelope["success"] and envelope["item"]["quantity"] == 17
    assert [(x["location"], x["before"], x["after"]) for x in envelope["lines"]] == [
        ("B-2", 12, 8),
        ("C-3", 0, 4),
    ]
    assert atlas("pick", "--sku", "M", "--qty", "2", "--location", "A-1").code == 0
    assert atlas("count", "--sku", "M", "--qty", "9", "--location", "C-3", "--lot", "L7").code == 0
    stock = atlas("stock", "--sku", "M")
    assert "20 on hand in 3 lines" in stock.out
    listed = atlas("list")
    assert "A-1 +2" in listed.out
    places = atlas("locations")
    assert all(code in places.out for code in ("A-1", "B-2", "C-3"))
    shown = atlas("location", "show", "c-3")
    assert "9 units of 1 item" in shown.out
    expiring = atlas("report", "--type", "expiring", "--days", "3650")
    assert "L7" in expiring.out
    refused = atlas("transfer", "--sku", "M", "--qty", "99", "--from", "B-2", "--to", "C-3")
    assert refused.code == 1 and refused.err.startswith("error: from: M has 8 at B-2")
    bad = atlas("receive", "--sku", "M", "--qty", "1", "--expiry", "2027-13-01")
    assert (
        bad.code == 1
        and bad.err == "error: expiry: is not a date of the calendar, got '2027-13-01'\n"
    )
    assert atlas("verify").code == 0


def test_locations_travel_with_backup_restore_and_migrate(
    milk: InventoryService, db: Path, tmp_path: Path
) -> None:
    from atlas_tui.api import AtlasAPI

    milk.places.create("EMPTY-1", name="Spare shelf", parent="WH9")
    api = AtlasAPI(db)
    backup = api.backup(tmp_path / "backups")["backup"]["path"]
    milk.places.retire("EMPTY-1")
    restored = api.restore(backup)
    assert restored["success"], restored
    again = make_service(db)
    assert again.places.show("EMPTY-1")["name"] == "Spare shelf"
    assert not again.places.show("EMPTY-1")["retired"]
    copy = tmp_path / "copy.db"
    assert api.migrate(copy)["success"]
    moved = make_service(copy)
    assert moved.places.show("EMPTY-1")["parent"] == "WH9"
    assert lines(moved, "MILK") == lines(again, "MILK")


def test_a_line_without_a_lot_beside_lots_is_counted_apart(milk: InventoryService) -> None:
    milk.receive("MILK", 5, location="B-2")
    milk.count("MILK", 3, location="B-2", lot="")
    assert ("B-2", "", "", 3) in lines(milk, "MILK")
    assert ("B-2", "L7", "2026-12-10", 24) in lines(milk, "MILK")
