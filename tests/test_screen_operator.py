"""Small things an operator hit on the items screen, through Pilot on a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import screen_lines, settle
from test_app import ready, rows, type_into, wait_for
from textual.widgets import Input

from atlas_tui.app import make_app
from atlas_tui.factory import make_service
from screens.dialogs import AdjustDialog, EditItemDialog
from screens.import_dialog import ImportDialog
from screens.widgets.checkbox import MarkedCheckbox
from screens.widgets.item_table import ItemTable


@pytest.fixture
def store(json_db: Path) -> Path:
    service = make_service(json_db)
    service.add("A-1", "Anvil", "Tools", 10, "A1", 2, 50)
    service.add("BOLT-1", "Bolt M6", "Fasteners", 40, "B1", 5, 0)
    service.add("BOLT-2", "Bolt M8", "Fasteners", 30, "B1", 5, 0)
    return json_db


async def test_edit_dialog_adds_to_the_name_instead_of_replacing_it(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EditItemDialog))
        name = app.screen.query_one("#name", Input)
        assert app.focused is name and name.selected_text == ""
        assert name.cursor_position == len("Anvil")
        await type_into(pilot, " XL")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, EditItemDialog))
        assert make_service(store).get("A-1").name == "Anvil XL"


async def test_text_fields_keep_their_text_and_figures_are_typed_over(store: Path) -> None:
    """Name and category are amended where the cursor ends; a figure (min 2) or the
    proposed location (the home) is replaced by what is typed: 5, not 25; B2, not A1B2."""
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await pilot.press("e", "tab")
        await wait_for(pilot, lambda: getattr(app.focused, "id", "") == "category")
        assert isinstance(app.focused, Input)
        assert app.focused.selected_text == "" and app.focused.cursor_position == len("Tools")
        await type_into(pilot, "+")
        await pilot.press("tab", "5", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, EditItemDialog))
        item = make_service(store).get("A-1")
        assert (item.category, item.min_stock) == ("Tools+", 5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AdjustDialog))
        await type_into(pilot, "+4")
        await pilot.press("tab", "tab", "B", "2", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, AdjustDialog))
        stock = {line.location: line.quantity for line in make_service(store).stock("A-1")}
        assert stock == {"A1": 10, "B2": 4}


async def test_import_dialog_fields_keep_their_text(store: Path, tmp_path: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportDialog))
        inputs = list(app.screen.query(Input))
        assert [field.id for field in inputs] == ["file", "mapping"]
        assert not any(field.select_on_focus for field in inputs)


async def test_import_checkbox_shows_its_state(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportDialog))
        box = app.screen.query_one("#strict", MarkedCheckbox)

        def drawn() -> str:
            return next(line for line in screen_lines(app) if "All or nothing" in line)

        assert "[ ] All or nothing" in drawn() and not box.value
        box.focus()
        await pilot.press("space")
        await wait_for(pilot, lambda: "[x] All or nothing" in drawn())
        assert box.value


async def test_checkbox_state_reads_in_an_ansi_theme_too(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        app.theme = "ansi-dark"  # Textual 8 names its 16-colour themes ansi-dark and ansi-light
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportDialog))
        box = app.screen.query_one("#strict", MarkedCheckbox)
        off = str(box.render())
        box.toggle()
        await pilot.pause()
        assert off.startswith("[ ]") and str(box.render()).startswith("[x]")


async def test_an_empty_store_says_what_to_do(json_db: Path) -> None:
    app = make_app(json_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        shown = "\n".join(screen_lines(app))
        assert "No items yet." in shown
        assert "n           add a new item" in shown
        assert "i           import items from a CSV or JSON file" in shown
        assert "atlas demo" in shown
        # Once there is an item, the table shows it and the hint is gone.
        await pilot.press("n")
        await type_into(pilot, "N-1")
        await pilot.press("tab")
        await type_into(pilot, "Nail")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "N-1" in "\n".join(screen_lines(app)))
        assert "No items yet." not in "\n".join(screen_lines(app))


async def test_a_filter_that_matches_nothing_says_so_and_escape_clears(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash")
        await type_into(pilot, "xyz")
        await wait_for(pilot, lambda: rows(screen) == [])
        shown = "\n".join(screen_lines(app))
        assert "No item matches 'xyz' — esc in the filter box (/) clears the filter" in shown
        assert "No items yet." not in shown
        await pilot.press("escape")
        assert rows(screen) == ["A-1", "BOLT-1", "BOLT-2"]
        assert "No item matches" not in "\n".join(screen_lines(app))


async def test_y_copies_the_sku(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await ready(app, pilot)
        await pilot.press("down", "y")
        assert app.clipboard == "BOLT-1"
        await wait_for(pilot, lambda: "copied BOLT-1" in [n.message for n in app._notifications])
        assert "copy-sku" in {b.id for b in app.screen._bindings.key_to_bindings["y"]}


async def test_slash_letters_enter_adjusts_the_first_match(store: Path) -> None:
    """`/bolt⏎` opens the adjust dialog on the first match: `-3⏎` then takes three off."""
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash")
        await type_into(pilot, "bolt")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AdjustDialog))
        await type_into(pilot, "-3")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        await settle(pilot)
        assert make_service(store).get("BOLT-1").quantity == 37
        # The filter stays, the table has the focus: `/` starts the next search.
        assert rows(screen) == ["BOLT-1", "BOLT-2"] and isinstance(app.focused, ItemTable)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#filter")


async def test_enter_on_a_filter_with_no_match_stays_in_the_box(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash")
        await type_into(pilot, "xyz")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and app.focused is screen.query_one("#filter")
        await pilot.press("down")
        assert isinstance(app.focused, ItemTable) and rows(screen) == []
