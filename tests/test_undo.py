"""Undo takes back this session's last change with a compensating movement."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_tui.domain.errors import NotFoundError, ValidationError
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService


def test_each_kind_of_change_is_undone_in_reverse_order(widget: InventoryService) -> None:
    widget.adjust("ITEM-001", -5)
    widget.count("ITEM-001", 42)
    widget.move("ITEM-001", "B7")
    widget.update("ITEM-001", name="Widget 2", min_stock=1, attributes={"color": "red"})
    widget.add("NEW", "new", quantity=3)
    widget.delete("NEW")

    assert widget.undo_last().sku == "NEW"  # the delete: NEW is back with its stock
    assert widget.get("NEW").quantity == 3
    widget.undo_last()  # the add: NEW is gone again
    with pytest.raises(NotFoundError):
        widget.get("NEW")
    item = widget.undo_last()  # the update
    assert (item.name, item.min_stock, item.attributes) == ("Widget", 10, {})
    assert widget.undo_last().location == "A1"  # the move
    assert widget.undo_last().quantity == 95  # the count
    assert widget.undo_last().quantity == 100  # the adjust
    assert widget.can_undo()  # the very first add of the fixture is this session's too
    history = widget.history("ITEM-001")
    assert [(m.kind, m.reason) for m in history][:4] == [
        ("adjust", "undo of #2 (adjust)"),
        ("count", "undo of #3 (count)"),
        ("move", "undo of #4 (move)"),
        ("update", "undo of #5 (update)"),
    ]
    assert widget.verify()["ok"]


def test_undo_never_erases_history(widget: InventoryService) -> None:
    widget.adjust("ITEM-001", 7)
    widget.undo_last()
    kinds = [(m.kind, m.delta, m.reason) for m in widget.history("ITEM-001")]
    assert kinds[:2] == [("adjust", -7, "undo of #2 (adjust)"), ("adjust", 7, "")]


def test_a_refused_undo_changes_nothing_and_stays_available(
    widget: InventoryService, db: Path
) -> None:
    widget.adjust("ITEM-001", 50)
    make_service(db).adjust("ITEM-001", -120)  # a colleague picks most of it meanwhile
    before = db.read_bytes()
    with pytest.raises(ValidationError, match="only 30 on hand"):
        widget.undo_last()
    assert db.read_bytes() == before
    assert widget.can_undo()


def test_only_committed_changes_can_be_undone(widget: InventoryService) -> None:
    fresh = make_service(widget.repository.path)
    with pytest.raises(ValidationError, match="nothing to undo"):
        fresh.undo_last()
    with pytest.raises(ValidationError), fresh.batch():
        fresh.adjust("ITEM-001", 1)
        fresh.adjust("ITEM-001", -1000)
    assert not fresh.can_undo()


def test_a_step_marks_its_movements_with_one_batch_id(widget: InventoryService) -> None:
    widget.add("OTHER-1", "Other", quantity=4)
    with widget.batch(step=True):
        widget.adjust(widget.list_items()[0].sku, 1)
        widget.adjust("OTHER-1", 2)
    widget.adjust("OTHER-1", 1)
    latest = widget.history_since("2000-01-01")[:3]
    assert "batch" not in latest[0].details
    assert latest[1].details["batch"] == latest[2].details["batch"]
