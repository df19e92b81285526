"""Every inventory operation and every refusal, against a real TinyDB file."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support import file_unchanged

from atlas_tui.domain.errors import (
    BulkError,
    ConflictError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService

ALL_BACKENDS = True  # every `db` test here runs on PostgreSQL as well

Unchanged = Callable[[], AbstractContextManager[None]]


def test_add_then_get_is_case_insensitive_and_case_preserving(service: InventoryService) -> None:
    added = service.add("  Item-001 ", "Widget", "Electronics", 100, "A1", 10, 500)
    assert added.sku == "Item-001"
    assert service.get("ITEM-001") == added
    assert service.get("item-001").sku == "Item-001"
    assert added.created_at.tzinfo is not None and added.created_at.utcoffset().total_seconds() == 0


def test_data_survives_a_new_process_view(widget: InventoryService, db: Path) -> None:
    again = make_service(db)
    assert again.get("item-001").quantity == 100
    assert again.get("item-001").name == "Widget"


def test_list_filters(service: InventoryService) -> None:
    service.add("A-1", "Red bolt", "Fasteners", 5, "A1", 10, 0)
    service.add("A-2", "Blue bolt", "fasteners", 50, "B2", 10, 40)
    service.add("B-1", "Drill", "Tools", 20, "a1", 5, 100)
    skus = lambda items: [item.sku for item in items]  # noqa: E731
    assert skus(service.list_items()) == ["A-1", "A-2", "B-1"]
    assert skus(service.list_items(category="FASTENERS")) == ["A-1", "A-2"]
    assert skus(service.list_items(location="A1")) == ["A-1", "B-1"]
    assert skus(service.list_items(search="BOLT")) == ["A-1", "A-2"]
    assert skus(service.list_items(search="b-")) == ["B-1"]
    assert skus(service.list_items(low=True)) == ["A-1"]
    assert skus(service.list_items(over=True)) == ["A-2"]
    assert skus(service.list_items(category="Fasteners", low=True)) == ["A-1"]
    assert service.categories() == ["Fasteners", "Tools"]
    assert service.locations() == ["A1", "B2"]


def test_low_needs_a_minimum_and_over_needs_a_ceiling(service: InventoryService) -> None:
    service.add("Z", "Zero min", quantity=0, min_stock=0)
    service.add("N", "No ceiling", quantity=10_000, max_stock=0)
    service.add("L", "At min", quantity=10, min_stock=10)
    assert [i.sku for i in service.list_items(low=True)] == ["L"]
    assert service.list_items(over=True) == []


def test_adjust_count_move_update_delete_and_history(widget: InventoryService) -> None:
    assert widget.adjust("item-001", -5, "picked").quantity == 95
    assert widget.adjust("ITEM-001", +10).quantity == 105
    assert widget.count("ITEM-001", 42, "stocktake").quantity == 42
    assert widget.move("ITEM-001", "B7").location == "B7"
    updated = widget.update("ITEM-001", name="Widget v2", min_stock=5, attributes={"color": "red"})
    assert (updated.name, updated.min_stock, updated.attributes) == (
        "Widget v2",
        5,
        {"color": "red"},
    )
    deleted = widget.delete("ITEM-001", "discontinued")
    assert deleted.quantity == 42
    with pytest.raises(NotFoundError):
        widget.get("ITEM-001")

    history = widget.history("item-001")
    assert [m.kind for m in history] == [
        "delete",
        "update",
        "move",
        "count",
        "adjust",
        "adjust",
        "add",
    ]
    assert [(m.delta, m.quantity_before, m.quantity_after) for m in history] == [
        (-42, 42, 0),
        (0, 42, 42),
        (0, 42, 42),
        (-63, 105, 42),
        (10, 95, 105),
        (-5, 100, 95),
        (100, 0, 100),
    ]
    assert history[-2].reason == "picked" and history[0].reason == "discontinued"
    assert history[2].details == {
        "from": "A1",
        "to": "B7",
        "lines": [["A1", "", "", 42, 0], ["B7", "", "", 0, 42]],
    }
    assert history[1].details["changes"]["name"] == ["Widget", "Widget v2"]
    assert all(m.user and m.timestamp.tzinfo is not None for m in history)
    stamps = [m.timestamp for m in history]
    assert stamps == sorted(stamps, reverse=True)


def test_history_of_unknown_sku_is_empty(service: InventoryService) -> None:
    assert service.history("NEVER-SEEN") == []


def test_readding_a_deleted_sku_keeps_one_continuous_history(widget: InventoryService) -> None:
    widget.delete("ITEM-001")
    widget.add("item-001", "Widget again", quantity=3)
    assert [m.kind for m in widget.history("ITEM-001")] == ["add", "delete", "add"]


def test_update_attributes_merge_and_remove(widget: InventoryService) -> None:
    widget.update("ITEM-001", attributes={"color": "red", "size": "M"})
    item = widget.update("ITEM-001", attributes={"size": None, "weight": 1.5})
    assert item.attributes == {"color": "red", "weight": 1.5}


def test_reports_have_the_documented_shapes(service: InventoryService) -> None:
    service.add("A", "a", "Tools", 2, min_stock=5)
    service.add("B", "b", "Tools", 50, max_stock=10)
    service.add("C", "c", "", 7)
    summary = service.report("summary")
    assert summary == {
        "total_items": 3,
        "total_quantity": 59,
        "low_stock_count": 1,
        "over_stock_count": 1,
        "by_category": {"": {"items": 1, "quantity": 7}, "Tools": {"items": 2, "quantity": 52}},
    }
    assert [i["sku"] for i in service.report("low")["low_stock"]] == ["A"]
    assert [i["sku"] for i in service.report("over")["over_stock"]] == ["B"]


def test_bulk_add_is_all_or_nothing_and_names_every_refused_row(
    widget: InventoryService, unchanged: Unchanged
) -> None:
    rows: list[dict[str, Any]] = [
        {"sku": "OK-1", "name": "fine"},
        {"sku": "item-001", "name": "clash with the store"},
        {"sku": "OK-1", "name": "clash within the batch"},
        {"sku": "", "name": "no sku"},
        {"sku": "Q", "name": "bad qty", "quantity": -1},
        {"sku": "M", "name": "bad limits", "min_stock": 9, "max_stock": 3},
    ]
    with unchanged(), pytest.raises(BulkError) as caught:
        widget.add_many(rows)
    message = str(caught.value)
    assert message.startswith("5 of 6 items refused, nothing was added")
    for fragment in [
        "row 2: sku: 'item-001' already exists",
        "row 3",
        "row 4: sku",
        "row 5: quantity",
        "row 6: minimum",
    ]:
        assert fragment in message
    assert widget.get("ITEM-001").quantity == 100
    with pytest.raises(NotFoundError):
        widget.get("OK-1")


def test_bulk_add_records_one_add_movement_per_item(service: InventoryService) -> None:
    added = service.add_many([{"sku": f"S-{n}", "name": f"n{n}", "quantity": n} for n in range(5)])
    assert len(added) == 5
    assert [len(service.history(f"S-{n}")) for n in range(5)] == [1] * 5


REFUSALS: list[tuple[str, Callable[[InventoryService], object], type[Exception], str]] = [
    ("duplicate sku", lambda s: s.add("item-001", "again"), ConflictError, "already exists"),
    ("unknown sku adjust", lambda s: s.adjust("NOPE", 1), NotFoundError, "'NOPE'"),
    ("unknown sku count", lambda s: s.count("NOPE", 1), NotFoundError, "NOPE"),
    ("unknown sku move", lambda s: s.move("NOPE", "B1"), NotFoundError, "NOPE"),
    ("unknown sku update", lambda s: s.update("NOPE", name="x"), NotFoundError, "NOPE"),
    ("unknown sku delete", lambda s: s.delete("NOPE"), NotFoundError, "NOPE"),
    ("negative result", lambda s: s.adjust("ITEM-001", -101), ValidationError, "only 100 on hand"),
    ("zero delta", lambda s: s.adjust("ITEM-001", 0), ValidationError, "quantity: a change of 0"),
    ("non-integer delta", lambda s: s.adjust("ITEM-001", 2.5), ValidationError, "quantity:"),
    ("non-numeric delta", lambda s: s.adjust("ITEM-001", "ten"), ValidationError, "quantity:"),
    ("non-integer quantity", lambda s: s.add("N", "n", quantity=2.5), ValidationError, "quantity"),
    (
        "non-numeric quantity",
        lambda s: s.add("N", "n", quantity="ten"),
        ValidationError,
        "quantity",
    ),
    ("bool quantity", lambda s: s.add("N", "n", quantity=True), ValidationError, "quantity"),
    ("negative quantity", lambda s: s.add("N", "n", quantity=-1), ValidationError, "quantity"),
    ("negative count", lambda s: s.count("ITEM-001", -3), ValidationError, "quantity"),
    (
        "min > max on add",
        lambda s: s.add("N", "n", min_stock=20, max_stock=10),
        ValidationError,
        "minimum: 20 is above the maximum of 10",
    ),
    (
        "min > max on update",
        lambda s: s.update("ITEM-001", min_stock=600),
        ValidationError,
        "above the maximum of 500",
    ),
    (
        "max < min on update",
        lambda s: s.update("ITEM-001", max_stock=5),
        ValidationError,
        "minimum: 10 is above the maximum of 5",
    ),
    ("negative min", lambda s: s.update("ITEM-001", min_stock=-1), ValidationError, "minimum:"),
    ("empty name", lambda s: s.add("N", "   "), ValidationError, "name: is required"),
    ("empty name update", lambda s: s.update("ITEM-001", name=""), ValidationError, "name"),
    ("empty sku", lambda s: s.add("  ", "n"), ValidationError, "sku: is required"),
    ("long sku", lambda s: s.add("X" * 65, "n"), ValidationError, "at most 64"),
    ("unprintable sku", lambda s: s.add("A\tB", "n"), ValidationError, "printable"),
    (
        "attributes not a dict",
        lambda s: s.add("N", "n", attributes=[1]),
        ValidationError,
        "attributes",
    ),
    (
        "attributes not JSON",
        lambda s: s.add("N", "n", attributes={"x": {1, 2}}),
        ValidationError,
        "attributes.x",
    ),
    ("nothing to update", lambda s: s.update("ITEM-001"), ValidationError, "nothing to update"),
    ("unknown field", lambda s: s.update("ITEM-001", quantity=5), ValidationError, "quantity"),
    ("same location", lambda s: s.move("ITEM-001", "a1 ".upper()), ValidationError, "already at"),
    ("empty location", lambda s: s.move("ITEM-001", " "), ValidationError, "location"),
    ("bad report", lambda s: s.report("weekly"), ValidationError, "type"),
]


@pytest.mark.parametrize(
    ("operation", "error", "fragment"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_refusals_leave_the_file_byte_for_byte_unchanged(
    widget: InventoryService,
    unchanged: Unchanged,
    operation: Callable[[InventoryService], object],
    error: type[Exception],
    fragment: str,
) -> None:
    with unchanged(), pytest.raises(error) as caught:
        operation(widget)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)
    assert widget.get("ITEM-001").quantity == 100


def test_negative_adjust_names_the_stock_on_hand(widget: InventoryService) -> None:
    with pytest.raises(ValidationError, match="cannot remove 150 from ITEM-001: only 100 on hand"):
        widget.adjust("ITEM-001", -150)


def test_max_items_refuses_beyond_the_limit(db: Path, unchanged: Unchanged) -> None:
    service = make_service(db)
    service.max_items = 2
    service.add("A", "a")
    service.add("B", "b")
    with unchanged(), pytest.raises(ConflictError, match=r"ATLAS_MAX_ITEMS.*2 of at most 2"):
        service.add("C", "c")
    with unchanged(), pytest.raises(ConflictError, match="ATLAS_MAX_ITEMS"):
        service.add_many([{"sku": "D", "name": "d"}])
    service.delete("A")
    service.add("C", "c")


def test_max_items_from_the_environment(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_MAX_ITEMS", "1")
    service = make_service(db)
    service.add("A", "a")
    with pytest.raises(ConflictError, match="ATLAS_MAX_ITEMS"):
        service.add("B", "b")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b'{"items": [1]}', "table 'items' is list"),
        (b'{"items": {"x": {}}}', "not a document"),
    ],
)
def test_a_corrupt_file_is_reported_and_never_overwritten(
    json_db: Path, content: bytes, problem: str
) -> None:
    db = json_db
    db.parent.mkdir(parents=True)
    db.write_bytes(content)
    service = make_service(db)
    with file_unchanged(db):
        for operation in (
            lambda: service.add("NEW", "new"),
            lambda: service.list_items(),
            lambda: service.adjust("A", 1),
        ):
            with pytest.raises(StorageError) as caught:
                operation()
            assert str(db) in str(caught.value)
            assert problem in str(caught.value) or "invalid" in str(caught.value)


def test_injected_clock_stamps_items_and_movements(db: Path) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    service = make_service(db)
    service._clock = lambda: moment
    item = service.add("T", "timed", quantity=1)
    assert item.created_at == item.updated_at == moment
    assert service.history("T")[0].timestamp == moment


def test_an_invalid_stored_item_is_reported_by_name_when_read(json_db: Path) -> None:
    db = json_db
    db.parent.mkdir(parents=True)
    db.write_bytes(b'{"items": {"1": {"sku": "A", "name": "a", "quantity": -4}}}')
    service = make_service(db)
    with file_unchanged(db):
        for operation in (
            service.list_items,
            lambda: service.adjust("A", 1),
            lambda: service.get("a"),
        ):
            with pytest.raises(StorageError, match=r"stored item #1 is invalid \(quantity"):
                operation()
