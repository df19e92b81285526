"""Scan mode's rules without the screen: entries, quantities, undo and what reports see."""

from __future__ import annotations

import pytest

from atlas_tui.services.inventory import InventoryService
from atlas_tui.services.scanning import ScanSession


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
