"""Scan mode's rules without the screen: entries, quantities, undo and what reports see."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_tui.domain.errors import ValidationError
from atlas_tui.services.inventory import InventoryService
from atlas_tui.services.scanning import ScanCodes, ScanSession


@pytest.fixture
def session(widget: InventoryService) -> ScanSession:
    widget.add("12X-4", "Odd SKU", quantity=5, attributes={"barcode": "4006381333931"})
    return ScanSession(widget)


def test_a_code_that_looks_like_a_quantity_prefix_is_still_a_code(session: ScanSession) -> None:
    assert session.enter("12x-4").message == "12X-4 +1 → 6"
    assert session.enter("3*12X-4").message == "12X-4 +3 → 9"
    assert session.enter("2x4006381333931").message == "12X-4 +2 → 11"


def test_a_bare_number_is_a_quantity_unless_an_item_has_that_code(
    session: ScanSession, widget: InventoryService
) -> None:
    assert session.enter("7").message == "x7 for the next scan"
    widget.add("7", "Seven")
    assert session.enter("7").message == "7 +7 → 7", "the pending 7 applies to item 7"
    assert session.enter("4006381333931123").unknown == "4006381333931123", "too long for a qty"


def test_an_undone_pick_is_not_usage(session: ScanSession, widget: InventoryService) -> None:
    session.choose("pick")
    session.enter("5*ITEM-001")
    session.undo()
    assert widget.get("ITEM-001").quantity == 100
    last = widget.history("ITEM-001")[0]
    assert last.reason == f"undo of #{last.id - 1} (pick)"
    assert widget.trend("ITEM-001")["daily_usage"] == 0


def test_undo_of_a_move_puts_the_item_back(session: ScanSession, widget: InventoryService) -> None:
    session.choose("move")
    session.enter("Z-1")
    session.enter("ITEM-001")
    assert session.undo().message == "undone: ITEM-001 back at A1"
    assert widget.get("ITEM-001").location == "A1"
    assert session.tally == {}
    assert session.summary() == ""


PACK = "5000000000012"  # a carton of 12 BOLT-1


@pytest.fixture
def shelves(service: InventoryService) -> ScanSession:
    """BOLT-1 (a pack barcode of 12) and NUT-1 at A1; B2 a recorded, empty location."""
    service.add("BOLT-1", "Bolt", "Hardware", 40, "A1", barcodes={PACK: 12})
    service.add("NUT-1", "Nut", "Hardware", 25, "A1")
    service.places.create("B2", "Back shelf")
    return ScanSession(service)


def lines(service: InventoryService, sku: str) -> list[tuple[str, int]]:
    return [(line.location, line.quantity) for line in service.stock(sku)]


def test_a_scanned_location_is_where_receive_and_pick_happen(
    shelves: ScanSession, service: InventoryService
) -> None:
    assert shelves.enter("b2").message == "receiving into B2: scan the items"
    assert shelves.location == "B2", "the recorded spelling"
    assert shelves.enter("BOLT-1").message == "BOLT-1 +1 at B2 → 41"
    assert lines(service, "BOLT-1") == [("A1", 40), ("B2", 1)]
    assert service.history("BOLT-1")[0].kind == "receive"
    shelves.choose("pick")
    assert shelves.location == "B2", "the location stays when the action changes"
    refused = shelves.enter("2*BOLT-1")
    assert not refused.ok and refused.message.startswith("location: BOLT-1 has 1 at B2")
    assert shelves.enter("A1").message == "picking from A1: scan the items"
    assert shelves.enter("3*nut-1").message == "NUT-1 -3 at A1 → 22"
    assert lines(service, "NUT-1") == [("A1", 22)]
    assert service.history("NUT-1")[0].kind == "pick"


def test_a_pack_barcode_counts_its_pack_size(
    shelves: ScanSession, service: InventoryService
) -> None:
    shelves.enter("A1")
    assert shelves.enter(PACK).message == "BOLT-1 +12 at A1 → 52 (a pack of 12)"
    assert shelves.enter("2*" + PACK).message == "BOLT-1 +24 at A1 → 76 (a pack of 12)"
    assert shelves.undo().message == "undone: receive of 24 BOLT-1, now 52"
    assert service.get("BOLT-1").quantity == 52


def test_an_unknown_pack_barcode_is_refused_and_changes_nothing(
    shelves: ScanSession, service: InventoryService, db: Path
) -> None:
    before = [m.id for m in service.history_since("2000-01-01")]
    outcome = shelves.enter("5000000000099")
    assert (outcome.ok, outcome.message) == (
        False,
        "unknown code '5000000000099': nothing changed",
    )
    assert outcome.unknown == "5000000000099"
    assert shelves.enter("3*5000000000099").message == (
        "unknown code '5000000000099': nothing changed"
    )
    assert shelves.pending is None, "the quantity is not left for the next scan"
    assert [m.id for m in service.history_since("2000-01-01")] == before
    assert service.get("BOLT-1").quantity == 40


def test_a_code_that_is_a_location_and_a_sku_is_the_location(
    shelves: ScanSession, service: InventoryService
) -> None:
    service.add("B2", "Oddly named item", quantity=1, location="A1")
    assert shelves.enter("B2").message == "receiving into B2: scan the items"
    assert shelves.enter("1*B2").message == "B2 +1 at B2 → 2", "a quantity names the item"


def test_transfer_scans_source_items_then_destination(
    shelves: ScanSession, service: InventoryService
) -> None:
    shelves.choose("transfer")
    first = shelves.enter("BOLT-1")
    assert (first.ok, first.message) == (False, "scan the location to take from first")
    assert shelves.enter("A1").message == ("transfer from A1: scan the items, then the destination")
    assert shelves.enter(PACK).message == (
        "BOLT-1 12 from A1 (a pack of 12): 12 waiting, scan the destination"
    )
    assert shelves.enter("5*NUT-1").message == "NUT-1 5 from A1: 17 waiting, scan the destination"
    too_many = shelves.enter("21*NUT-1")
    assert not too_many.ok
    assert too_many.message == ("from: NUT-1 has 25 at A1, cannot take 26; stock is at A1 (25)")
    assert lines(service, "BOLT-1") == [("A1", 40)], "nothing moves before the destination"
    assert not shelves.enter("a1").ok, "the source is not a destination"
    assert shelves.enter("B2").message == "transferred 17 of 2 items from A1 to B2"
    assert lines(service, "BOLT-1") == [("A1", 28), ("B2", 12)]
    assert lines(service, "NUT-1") == [("A1", 20), ("B2", 5)]
    assert shelves.location == "B2" and shelves.source is None and not shelves.waiting
    assert [m.kind for m in service.history("NUT-1")][:1] == ["transfer"]
    assert shelves.summary() == "transferred 17 of 2 items"
    assert shelves.undo().message == "undone: transfer of 2 items from A1 to B2"
    assert lines(service, "BOLT-1") == [("A1", 40)]
    assert lines(service, "NUT-1") == [("A1", 25)]
    assert service.verify()["ok"]


def test_a_transfer_is_all_or_nothing(shelves: ScanSession, service: InventoryService) -> None:
    shelves.choose("transfer")
    shelves.enter("A1")
    shelves.enter("10*BOLT-1")
    shelves.enter("10*NUT-1")
    service.pick("NUT-1", 20, "picked by a colleague meanwhile", location="A1")
    refused = shelves.enter("B2")
    assert not refused.ok
    assert refused.message.startswith("nothing was transferred: from: NUT-1 has 5 at A1")
    assert lines(service, "BOLT-1") == [("A1", 40)]
    assert len(shelves.waiting) == 2, "the items still wait: undo one and scan again"
    assert shelves.undo().message == "undone: 10 NUT-1 no longer waiting to be transferred"
    assert shelves.enter("B2").ok
    assert lines(service, "BOLT-1") == [("A1", 30), ("B2", 10)]


def test_count_at_the_current_location_counts_that_line(
    shelves: ScanSession, service: InventoryService
) -> None:
    service.transfer("BOLT-1", 10, "A1", "B2")
    shelves.choose("count")
    assert shelves.enter("BOLT-1").message == "choose a count session first: nothing counted"
    shelves.count_session = int(service.stocktake.start()["id"])  # over all items
    refused = shelves.enter("BOLT-1")
    assert not refused.ok and refused.message == (
        "location: BOLT-1 is expected at 2 places in count #1 (A1, B2): give the location"
    )
    shelves.enter("B2")
    assert shelves.enter("3*BOLT-1").message == ("BOLT-1 counted 3 at B2 (system holds 10)")
    assert shelves.enter("NUT-1").message == (
        "NUT-1 counted 1 at B2 (system holds 0, not expected here)"
    )
    assert shelves.undo().message == "undone: count of 1 NUT-1, tally 0"


def test_command_codes_change_no_stock(session: ScanSession, widget: InventoryService) -> None:
    before = widget.history_mark()
    for code in ("*RECEIVE*", "*pick*", " *Count* ", "*MOVE*", "*TRANSFER*", "*UNDO*", "*DONE*"):
        outcome = session.enter(code)
        assert outcome.ok and outcome.command == code.strip().strip("*").lower()
    assert session.enter("*NOPE*").unknown == "*NOPE*", "an unknown word is just a code"
    assert session.enter("**").unknown == "**"
    assert widget.history_mark() == before
    assert session.action == "receive", "the screen carries the command out"


def test_scan_codes_strip_the_scanners_affixes_and_check_their_own() -> None:
    codes = ScanCodes(command_prefix="CMD:", command_suffix="", scanner_prefix="\x5dE0")
    assert codes.strip("]E04006381333931") == "4006381333931"  # noqa: B005 (our strip)
    assert codes.command(codes.strip("]E0CMD:pick")) == "pick"
    assert codes.command("*PICK*") is None
    assert codes.code("transfer") == "CMD:TRANSFER"
    with pytest.raises(ValidationError, match="command prefix or suffix is needed"):
        ScanCodes(command_prefix="", command_suffix="")
    with pytest.raises(ValidationError, match="scanner_suffix: must be printable ASCII"):
        ScanCodes(scanner_suffix="\r")


def test_a_new_count_needs_the_current_location(
    session: ScanSession, widget: InventoryService
) -> None:
    with pytest.raises(ValidationError, match="scan a location first"):
        session.start_count_here()
    session.enter("A1")
    assert session.start_count_here() == "started count #1 at A1"
    assert session.count_status() == "count #1 at A1: 0 of 1 lines counted"
    session.choose("count")
    session.enter("ITEM-001")
    assert session.count_status() == "count #1 at A1: 1 of 1 lines counted"
