"""Undo takes back this user's latest change in the store with compensating movements."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from atlas_tui.config import Settings
from atlas_tui.domain.errors import NotFoundError, ValidationError
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService

ALL_BACKENDS = True  # every `db` test here runs on PostgreSQL as well

MOMENT = datetime(2026, 12, 4, 14, 5, tzinfo=UTC)


def as_user(db: Path, user: str) -> InventoryService:
    """Another process of `user` on the same store (a fixed clock: 14:05)."""
    settings = replace(Settings.from_env(storage_path=db), user=user)
    return make_service(db, settings, clock=lambda: MOMENT)


def unchanged(service: InventoryService) -> tuple[int, list[tuple[str, int]]]:
    items = [(item.sku, item.quantity) for item in service.list_items()]
    return service.repository.movement_count(), items


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
    assert widget.can_undo()  # the very first add of the fixture is this user's too
    history = widget.history("ITEM-001")
    assert [(m.kind, m.reason, m.details.get("undoes")) for m in history][:4] == [
        ("adjust", "undo of #2 (adjust)", [2]),
        ("count", "undo of #3 (count)", [3]),
        ("move", "undo of #4 (move)", [4]),
        ("update", "undo of #5 (update)", [5]),
    ]
    assert widget.verify()["ok"]


def test_undo_never_erases_history(widget: InventoryService) -> None:
    widget.adjust("ITEM-001", 7)
    widget.undo_last()
    kinds = [(m.kind, m.delta, m.reason) for m in widget.history("ITEM-001")]
    assert kinds[:2] == [("adjust", -7, "undo of #2 (adjust)"), ("adjust", 7, "")]


def test_undo_after_a_restart_takes_back_the_previous_process_change(db: Path) -> None:
    first = as_user(db, "alice")
    first.add("BOLT-1", "Bolt", quantity=10, location="A1")
    first.receive("BOLT-1", 5)
    first.pick("BOLT-1", 3)
    first.repository.close()

    again = as_user(db, "alice")  # the SSH session dropped: a new process, same file
    plan = again.undo_plan()
    assert plan.summary == "pick of 3 BOLT-1 at 14:05"
    assert plan.question == "Undo your pick of 3 BOLT-1 at 14:05?"
    assert again.undo(plan).quantity == 15
    # Repeated undo walks back through earlier changes, each in a new process.
    assert as_user(db, "alice").undo_plan().summary == "receive of 5 BOLT-1 at 14:05"
    assert as_user(db, "alice").undo_last().quantity == 10
    assert as_user(db, "alice").undo_plan().summary == "adding of BOLT-1 at 14:05"
    as_user(db, "alice").undo_last()
    with pytest.raises(NotFoundError):
        again.get("BOLT-1")
    with pytest.raises(ValidationError, match=r"^undo: nothing of yours to undo$"):
        as_user(db, "alice").undo_plan()  # the undos themselves are never undone
    assert not as_user(db, "alice").can_undo()


def test_no_one_undoes_another_users_change(db: Path) -> None:
    bob = as_user(db, "bob")
    bob.add("BOLT-1", "Bolt", quantity=10, location="A1")
    alice = as_user(db, "alice")
    with pytest.raises(ValidationError, match="nothing of yours to undo"):
        alice.undo_plan()
    alice.add("NUT-1", "Nut", quantity=4, location="B2")
    bob.adjust("BOLT-1", 2)  # later, but of another item
    assert alice.undo_plan().summary == "adding of NUT-1 at 14:05"
    alice.undo_last()
    assert [item.sku for item in bob.list_items()] == ["BOLT-1"]
    assert bob.get("BOLT-1").quantity == 12


def test_another_users_later_change_of_the_same_line_refuses_the_undo(db: Path) -> None:
    alice, bob = as_user(db, "alice"), as_user(db, "bob")
    alice.add("BOLT-1", "Bolt", quantity=100, location="A1")
    alice.receive("BOLT-1", 20, location="B2")
    alice.pick("BOLT-1", 50, location="A1")
    bob.pick("BOLT-1", 5, location="A1")
    before = unchanged(alice)
    refusal = r"^undo: BOLT-1 was changed by bob at 14:05 after your change: undo refused$"
    with pytest.raises(ValidationError, match=refusal):
        alice.undo_plan()
    with pytest.raises(ValidationError, match=refusal):
        alice.undo_last()
    assert unchanged(alice) == before
    # Once bob takes his pick back, it no longer stands in the way.
    bob.undo_last()
    assert alice.undo_last().quantity == 120
    # bob's later change of another line (B2) does not touch what alice's next undo puts back.
    bob.receive("BOLT-1", 1, location="B2")
    with pytest.raises(ValidationError, match="changed by bob"):
        alice.undo_plan()  # ...but the receive alice undoes next is that very line
    bob.undo_last()
    bob.receive("BOLT-1", 1, location="C3")
    assert alice.undo_plan().summary == "receive of 20 BOLT-1 at 14:05"
    assert alice.undo_last().quantity == 101


def test_an_update_is_refused_only_when_the_same_field_changed_later(db: Path) -> None:
    alice, bob = as_user(db, "alice"), as_user(db, "bob")
    alice.add("BOLT-1", "Bolt", quantity=1)
    alice.update("BOLT-1", name="Hex bolt", attributes={"size": "M6"})
    bob.update("BOLT-1", category="Fasteners", attributes={"finish": "zinc"})
    assert alice.undo_last().name == "Bolt"  # bob's fields are other ones
    item = alice.get("BOLT-1")
    assert (item.category, item.attributes) == ("Fasteners", {"finish": "zinc"})
    alice.update("BOLT-1", min_stock=3)
    bob.update("BOLT-1", min_stock=5)
    with pytest.raises(ValidationError, match="BOLT-1 was changed by bob"):
        alice.undo_last()
    bob.adjust("BOLT-1", 1)
    alice.add("NUT-1", "Nut")
    bob.adjust("NUT-1", 1)  # anything after an add stands in the way of removing the item
    with pytest.raises(ValidationError, match="NUT-1 was changed by bob"):
        alice.undo_last()


def test_a_later_change_of_the_same_user_is_undone_first(db: Path) -> None:
    alice, alice_elsewhere = as_user(db, "alice"), as_user(db, "alice")
    alice.add("BOLT-1", "Bolt", quantity=10)
    alice_elsewhere.adjust("BOLT-1", -4)  # the same user in another terminal
    assert alice.undo_plan().summary == "adjustment of BOLT-1 by -4 at 14:05"
    assert alice.undo_last().quantity == 10


def test_the_plan_is_checked_again_when_it_is_carried_out(db: Path) -> None:
    alice, bob = as_user(db, "alice"), as_user(db, "bob")
    alice.add("BOLT-1", "Bolt", quantity=10, location="A1")
    alice.adjust("BOLT-1", 5)
    plan = alice.undo_plan()
    bob.adjust("BOLT-1", -1)  # between the preview and the confirmation
    before = unchanged(alice)
    with pytest.raises(ValidationError, match="changed by bob"):
        alice.undo(plan)
    assert unchanged(alice) == before
    bob.undo_last()
    plan = alice.undo_plan()
    as_user(db, "alice").adjust("BOLT-1", 1)
    with pytest.raises(ValidationError, match="latest change is now the adjustment of BOLT-1"):
        alice.undo(plan)


def test_a_bulk_step_is_undone_whole(db: Path) -> None:
    alice, bob = as_user(db, "alice"), as_user(db, "bob")
    for n in range(3):
        alice.add(f"PART-{n}", f"Part {n}", quantity=5, location="A1")
    with alice.batch(step=True):
        for n in range(3):
            alice.move(f"PART-{n}", "B-2")
    plan = as_user(db, "alice").undo_plan()
    assert plan.summary == "bulk change of 3 items: move to B-2 at 14:05"
    assert len(plan.movements) == 3
    bob.pick("PART-2", 1)  # at B-2, where the step put it
    before = unchanged(alice)
    with pytest.raises(ValidationError, match="PART-2 was changed by bob"):
        alice.undo_last()
    assert unchanged(alice) == before  # none of the three moved back
    bob.undo_last()
    assert alice.undo_last().sku == "PART-0"
    assert {item.location for item in alice.list_items()} == {"A1"}
    assert alice.undo_plan().summary == "adding of PART-2 at 14:05"  # then the adds, one each


def test_an_import_is_where_undo_stops(db: Path, tmp_path: Path) -> None:
    from atlas_tui.services.exchange import import_file

    alice = as_user(db, "alice")
    alice.add("BOLT-1", "Bolt")
    source = tmp_path / "parts.csv"
    source.write_text("sku,name,qty\nNUT-1,Nut,3\n")
    import_file(alice, source)
    with pytest.raises(ValidationError, match="your last change was an import"):
        alice.undo_plan()
    assert not alice.can_undo()


def test_finding_the_latest_change_reads_the_users_movements_newest_first(db: Path) -> None:
    alice, bob = as_user(db, "alice"), as_user(db, "bob")
    alice.add("BOLT-1", "Bolt", quantity=1)
    with bob.batch():
        for _ in range(200):
            bob.adjust("BOLT-1", 1)
    with alice.batch():
        for _ in range(100):
            alice.adjust("BOLT-1", 1)
    found = [m.id for m in alice.repository.user_movements("alice")]
    assert found == [*range(301, 201, -1), 1]  # pages of them, newest first
    assert [m.id for m in alice.repository.later_movements("bolt-1", 298)] == [299, 300, 301]


def test_a_scan_taken_back_in_scan_mode_is_not_undone_again(widget: InventoryService) -> None:
    from atlas_tui.services.scanning import ScanSession

    widget.adjust("ITEM-001", -10)
    scans = ScanSession(widget)
    scans.choose("pick")
    scans.enter("5*ITEM-001")
    assert scans.undo().ok
    assert widget.undo_plan().summary.startswith("adjustment of ITEM-001 by -10 at ")
    assert widget.undo_last().quantity == 100


def test_older_undos_are_recognised_by_their_reason(db: Path) -> None:
    """Stores written before undos were marked: the reason names what an undo took back."""
    alice = as_user(db, "alice")
    alice.add("BOLT-1", "Bolt", quantity=10)
    alice.adjust("BOLT-1", -3)
    alice.adjust("BOLT-1", 3, reason="undo of #2 (adjust)")  # as the old undo recorded it
    assert alice.undo_plan().summary == "adding of BOLT-1 at 14:05"
