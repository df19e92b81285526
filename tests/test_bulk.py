"""Bulk steps: one change over many items, all or nothing, every movement of one batch."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from support import Result

from atlas_tui.domain.errors import ValidationError
from atlas_tui.factory import make_service
from atlas_tui.services import bulk
from atlas_tui.services.inventory import InventoryService

ALL_BACKENDS = True  # every `db` test here runs on PostgreSQL as well


@pytest.fixture
def stocked(service: InventoryService) -> InventoryService:
    service.add("A-1", "Anvil", "Tools", 10, "A1", 2, 50)
    service.add("B-2", "Bolt", "Fasteners", 4, "A1", 5, 0)
    service.add("C-3", "Crate", "Packaging", 80, "C1", 0, 60)
    return service


def batches(service: InventoryService, count: int) -> set[object]:
    """The batch ids of the newest `count` movements."""
    return {m.details.get("batch") for m in service.history_since("2000-01-01")[:count]}


def test_move_puts_every_selected_item_at_the_location_in_one_step(
    stocked: InventoryService,
) -> None:
    result = bulk.move(stocked, ["a-1", "B-2"], "Z9")
    assert len(result) == 2
    assert [stocked.get(s).location for s in ("A-1", "B-2", "C-3")] == ["Z9", "Z9", "C1"]
    ids = batches(stocked, 2)
    assert len(ids) == 1 and None not in ids


def test_move_skips_items_already_there_and_refuses_when_all_are(
    stocked: InventoryService,
) -> None:
    result = bulk.move(stocked, ["A-1", "C-3"], "C1")
    assert [item.sku for item in result.changed] == ["A-1"] and result.skipped == ["C-3"]
    with pytest.raises(ValidationError, match="already at C1"):
        bulk.move(stocked, ["A-1", "C-3"], "C1")


def test_update_sets_category_and_limits_leaving_blank_fields(stocked: InventoryService) -> None:
    bulk.update(stocked, ["A-1", "B-2"], category="Shop", min_stock=3)
    a, b = stocked.get("A-1"), stocked.get("B-2")
    assert (a.category, a.min_stock, a.max_stock) == ("Shop", 3, 50)
    assert (b.category, b.min_stock, b.max_stock) == ("Shop", 3, 0)
    assert stocked.get("C-3").category == "Packaging"
    assert len(batches(stocked, 2)) == 1


def test_a_limit_one_item_cannot_take_refuses_the_step_naming_it(
    stocked: InventoryService, unchanged: Callable[[], AbstractContextManager[None]]
) -> None:
    with unchanged(), pytest.raises(ValidationError) as caught:
        bulk.update(stocked, ["B-2", "C-3"], min_stock=70)  # C-3's max is 60
    assert "C-3" in str(caught.value) and "nothing was changed" in str(caught.value)


def test_transfer_moves_a_quantity_of_each_holder_and_skips_the_others(
    stocked: InventoryService,
) -> None:
    result = bulk.transfer(stocked, ["A-1", "B-2", "C-3"], 3, "A1", "B7")
    assert result.skipped == ["C-3"]
    for sku, left in (("A-1", 7), ("B-2", 1)):
        held = {line.location: line.quantity for line in stocked.get(sku).stock}
        assert held == {"A1": left, "B7": 3}
    assert len(batches(stocked, 2)) == 1


def test_transfer_of_all_takes_what_each_holds(stocked: InventoryService) -> None:
    bulk.transfer(stocked, ["A-1", "B-2"], None, "A1", "B7")
    assert [line.location for line in stocked.get("A-1").stock] == ["B7"]
    assert stocked.get("B-2").quantity == 4


def test_transfer_more_than_one_item_holds_changes_nothing_and_names_it(
    stocked: InventoryService, db: Path
) -> None:
    before = [(m.id, m.sku) for m in make_service(db).history_since("2000-01-01")]
    with pytest.raises(ValidationError) as caught:
        bulk.transfer(stocked, ["A-1", "B-2"], 5, "A1", "B7")
    assert "B-2 holds only 4 at A1" in str(caught.value)
    fresh = make_service(db)
    assert [(m.id, m.sku) for m in fresh.history_since("2000-01-01")] == before
    assert fresh.get("A-1").quantity == 10 and len(fresh.get("A-1").stock) == 1


def test_count_sets_each_home_line_in_one_step(stocked: InventoryService) -> None:
    bulk.count(stocked, {"A-1": 12, "c-3": 80})
    assert stocked.get("A-1").quantity == 12 and stocked.get("C-3").quantity == 80
    assert len(batches(stocked, 2)) == 1


def test_a_bad_count_names_the_item(stocked: InventoryService) -> None:
    with pytest.raises(ValidationError) as caught:
        bulk.count(stocked, {"A-1": 12, "B-2": "lots"})
    assert str(caught.value).startswith("B-2: quantity:")
    assert stocked.get("A-1").quantity == 10


def test_delete_removes_every_selected_item(stocked: InventoryService) -> None:
    bulk.delete(stocked, ["A-1", "C-3"])
    assert [item.sku for item in stocked.list_items()] == ["B-2"]


def test_the_cli_moves_several_skus_as_one_step(
    stocked: InventoryService, db: Path, atlas: Callable[..., Result]
) -> None:
    done = atlas("move", "--sku", "A-1", "--sku", "c-3", "--location", "Z9")
    assert done.code == 0 and "moved 2 items to Z9" in done.out
    fresh = make_service(db)
    assert [fresh.get(s).location for s in ("A-1", "B-2", "C-3")] == ["Z9", "A1", "Z9"]
    assert len(batches(fresh, 2)) == 1
    refused = atlas("move", "--sku", "A-1", "--sku", "NOPE", "--location", "Q1")
    assert refused.code != 0 and "no item 'NOPE'" in refused.err
    assert "nothing was changed" in refused.err
    assert make_service(db).get("A-1").location == "Z9"
