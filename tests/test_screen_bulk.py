"""Selecting rows in the items screen and changing them all as one step."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import screen_lines, settle
from test_app import ready, rows, status, type_into, wait_for
from textual.widgets import Input, Static

from atlas_tui.app import make_app
from atlas_tui.factory import make_service
from screens import bulk_steps
from screens.bulk_dialogs import BulkCountDialog, BulkDialog
from screens.dialogs import ConfirmDialog
from screens.items import ItemsScreen
from screens.widgets import item_table
from screens.widgets.item_table import SELECTED_MARK


@pytest.fixture
def shelf(json_db: Path) -> Path:
    """40 items P-00..P-39: even ones are bolts at A1, odd ones nuts at B1."""
    service = make_service(json_db)
    with service.batch():
        for n in range(40):
            kind, place = ("Bolt", "A1") if n % 2 == 0 else ("Nut", "B1")
            service.add(f"P-{n:02d}", f"{kind} {n}", kind + "s", 10 + n, place, 0, 0)
    return json_db


def marked(app_lines: list[str]) -> list[str]:
    """The SKUs of the rows drawn with the selection mark."""
    return [line.split()[1] for line in app_lines if line.lstrip().startswith(SELECTED_MARK)]


def batch_ids(path: Path, count: int) -> set[object]:
    movements = make_service(path).history_since("2000-01-01")[:count]
    return {movement.details.get("batch") for movement in movements}


async def test_space_and_shift_select_rows_that_survive_filter_sort_and_scroll(
    shelf: Path,
) -> None:
    app = make_app(shelf)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("space")  # P-00, the cursor goes down to P-01
        await pilot.press("down", "shift+down", "shift+down")  # P-02, P-03, P-04
        assert screen.table.selected == {"p-00", "p-02", "p-03", "p-04"}
        assert screen.table.current is not None and screen.table.current.sku == "P-04"
        await pilot.press("space")  # P-04 again: unselected
        assert screen.table.selected == {"p-00", "p-02", "p-03"}
        await pilot.pause()
        assert marked(screen_lines(app)) == ["P-00", "P-02", "P-03"]
        assert "3 selected" in status(screen)

        await pilot.press("end")  # scrolled away and back
        await pilot.pause()
        assert marked(screen_lines(app)) == []
        await pilot.press("home")
        await pilot.pause()
        assert marked(screen_lines(app)) == ["P-00", "P-02", "P-03"]

        await pilot.press("slash")
        await type_into(pilot, "nut")
        await pilot.press("down")
        await wait_for(pilot, lambda: rows(screen)[0] == "P-01")
        await pilot.pause()
        assert marked(screen_lines(app)) == ["P-03"]
        assert "3 selected" in status(screen)  # hidden rows stay selected

        await pilot.press("slash", "escape")
        await pilot.press("O")  # reverse order: P-39 first
        await wait_for(pilot, lambda: rows(screen)[0] == "P-39")
        await pilot.press("end")
        await pilot.pause()
        assert marked(screen_lines(app)) == ["P-03", "P-02", "P-00"]

        await pilot.press("escape")  # clears the selection
        await pilot.pause()
        assert screen.table.selected == set()
        assert marked(screen_lines(app)) == [] and "selected" not in status(screen)


async def test_select_all_under_a_filter_selects_exactly_the_matches(shelf: Path) -> None:
    app = make_app(shelf)
    async with app.run_test(size=(100, 24)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash")
        await type_into(pilot, "bolt 1")  # Bolt 10, 12, 14, 16, 18
        await pilot.press("down")
        await wait_for(pilot, lambda: len(rows(screen)) == 5)
        await pilot.press("asterisk")
        await settle(pilot)
        assert screen.table.selected == {f"p-{n}" for n in (10, 12, 14, 16, 18)}
        assert "5 selected" in status(screen)
        await pilot.press("U")
        await pilot.pause()
        assert screen.table.selected == set()


async def select(pilot: object, screen: ItemsScreen, *skus: str) -> None:
    """Select items by putting the cursor on each and pressing space."""
    for sku in skus:
        screen.select_sku(sku)
        await pilot.press("space")  # type: ignore[attr-defined]
    assert screen.table.selected == {sku.casefold() for sku in skus}


async def test_bulk_move_changes_exactly_the_selected_items_in_one_step(shelf: Path) -> None:
    app = make_app(shelf)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await select(pilot, screen, "P-01", "P-05", "P-08")
        await pilot.press("m")
        assert isinstance(app.screen, BulkDialog)
        await type_into(pilot, "Z9")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        store = make_service(shelf)
        moved = {item.sku for item in store.list_items() if item.location == "Z9"}
        assert moved == {"P-01", "P-05", "P-08"}
        ids = batch_ids(shelf, 3)
        assert len(ids) == 1 and None not in ids
        shown = {row.sku: row.location for row in screen.table.items}
        assert {sku for sku, place in shown.items() if place == "Z9"} == moved
        assert screen.table.selected == {"p-01", "p-05", "p-08"}  # kept for a follow-up
        # The screen and the store agree on every row.
        assert shown == {item.sku: item.location for item in store.list_items()}


async def test_bulk_edit_sets_category_and_limits_leaving_blanks(shelf: Path) -> None:
    app = make_app(shelf)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await select(pilot, screen, "P-02", "P-03")
        await pilot.press("e")
        app.screen.query_one("#category", Input).value = "Hardware"
        app.screen.query_one("#min", Input).value = "20"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        store = make_service(shelf)
        for sku in ("P-02", "P-03"):
            item = store.get(sku)
            assert (item.category, item.min_stock, item.max_stock) == ("Hardware", 20, 0)
        assert store.get("P-04").category == "Bolts"
        assert len(batch_ids(shelf, 2)) == 1
        shown = {row.sku: (row.category, row.min_stock) for row in screen.table.items}
        assert shown["P-02"] == ("Hardware", 20) and shown["P-04"] == ("Bolts", 0)


async def test_bulk_count_lists_each_item_and_sets_its_home_figure(shelf: Path) -> None:
    app = make_app(shelf)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await ready(app, pilot)
        await select(pilot, screen, "P-00", "P-01", "P-02")
        await pilot.press("equals_sign")
        dialog = app.screen
        assert isinstance(dialog, BulkCountDialog)
        dialog.query_one("#count-0", Input).value = "7"
        dialog.query_one("#count-2", Input).value = "lots"  # refused: nothing changes
        await pilot.press("enter")
        await pilot.pause()
        error = str(dialog.query_one("#count-2-error", Static).render())
        assert "P-02" in error and "nothing was changed" in error
        assert make_service(shelf).get("P-00").quantity == 10
        dialog.query_one("#count-2", Input).value = "5"  # P-01 left blank: not counted
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        store = make_service(shelf)
        assert [store.get(s).quantity for s in ("P-00", "P-01", "P-02")] == [7, 11, 5]
        assert len(batch_ids(shelf, 2)) == 1
        shown = {row.sku: row.quantity for row in screen.table.items}
        assert (shown["P-00"], shown["P-01"], shown["P-02"]) == (7, 11, 5)


async def test_bulk_transfer_refusal_names_the_item_and_changes_nothing(shelf: Path) -> None:
    app = make_app(shelf)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await select(pilot, screen, "P-00", "P-02", "P-03")  # P-03 is at B1: left alone
        before = make_service(shelf).history_since("2000-01-01")
        await pilot.press("x")
        dialog = app.screen
        dialog.query_one("#from", Input).value = "A1"
        dialog.query_one("#to", Input).value = "C7"
        dialog.query_one("#quantity", Input).value = "11"  # P-00 holds only 10
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog
        error = str(dialog.query_one("#quantity-error", Static).render())
        assert "P-00 holds only 10 at A1" in error
        assert make_service(shelf).history_since("2000-01-01") == before
        dialog.query_one("#quantity", Input).value = "4"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        store = make_service(shelf)
        for sku, left in (("P-00", 6), ("P-02", 8)):
            held = {line.location: line.quantity for line in store.get(sku).stock}
            assert held == {"A1": left, "C7": 4}
        assert [line.location for line in store.get("P-03").stock] == ["B1"]
        assert len(batch_ids(shelf, 2)) == 1
        said = [str(note.message) for note in app._notifications]
        done = "transferred 2 items from A1 to C7 (1 item left alone: none at A1) — u undoes"
        assert done in said


async def test_delete_of_a_selection_asks_with_the_count(shelf: Path) -> None:
    app = make_app(shelf)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await select(pilot, screen, "P-10", "P-11")
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmDialog)
        assert "2 items" in str(app.screen.question)
        await pilot.press("y")
        await wait_for(pilot, lambda: len(rows(screen)) == 38)
        assert "P-10" not in rows(screen) and screen.table.selected == set()
        assert len(make_service(shelf).list_items()) == 38
        await pilot.press("plus")  # without a selection the keys act on the cursor row
        await settle(pilot)
        current = screen.table.current
        assert current is not None
        assert make_service(shelf).get(current.sku).quantity == current.quantity


async def test_select_all_of_a_big_view_is_done_in_slices_and_survives_live_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past SELECT_INLINE rows "select all" runs in a worker, a slice at a time (lowered
    here, so 600 real items take that path); others' changes keep the marks."""
    path = tmp_path / "atlas.db"
    make_service(path).add_many(
        [{"sku": f"Q-{n:04d}", "name": f"Part {n} {'bolt' if n % 3 == 0 else 'nut'}",
          "quantity": n, "location": "A1"} for n in range(600)]
    )  # fmt: skip
    monkeypatch.setattr(ItemsScreen, "INLINE_ROWS", 0)
    monkeypatch.setattr(item_table, "SELECT_INLINE", 50)
    monkeypatch.setattr(item_table, "SELECT_SLICE", 30)
    app = make_app(path)
    async with app.run_test(size=(100, 24)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash")
        await type_into(pilot, "bolt")
        await pilot.press("down", "asterisk")  # typed before the filter's worker is done
        want = {f"q-{n:04d}" for n in range(0, 600, 3)}
        await wait_for(pilot, lambda: screen.table.selected == want)
        assert "200 selected" in status(screen)
        make_service(path).adjust("Q-0003", 5)  # another operator's change
        await wait_for(pilot, lambda: screen.table.items[1].quantity == 8)
        await pilot.pause()
        assert marked(screen_lines(app))[:3] == ["Q-0000", "Q-0003", "Q-0006"]
        await pilot.press("m")
        await type_into(pilot, "Z1")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        store = make_service(path)
        assert {item.key for item in store.list_items() if item.location == "Z1"} == want
        assert len(batch_ids(path, 200)) == 1
        shown = {row.sku: row.location for row in screen.table.items}
        assert shown == {item.sku: item.location for item in store.list_items()
                         if item.key in want}  # fmt: skip


async def test_a_selection_too_big_for_one_step_is_refused_before_any_dialog(
    shelf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_steps, "STEP_MAX", 2)
    app = make_app(shelf)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("space", "space", "space")
        await pilot.press("m")
        assert app.screen is screen
        notice = str(screen.query_one("#notice", Static).render())
        assert "at most 2 items: 3 are selected" in notice
        await pilot.press("escape")  # the selection first, then the message
        assert screen.table.selected == set()
        assert screen.query_one("#notice", Static).has_class("shown")
        await pilot.press("escape")
        assert not screen.query_one("#notice", Static).has_class("shown")
