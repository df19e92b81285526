"""The import dialog through Pilot: preview first, then import, then the table shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import settle
from test_app import KEY_NAMES, ready, wait_for
from textual.widgets import Button, DataTable, Static

from atlas_tui.app import make_app
from atlas_tui.factory import make_service
from screens.import_dialog import ImportDialog
from screens.items import ItemsScreen


@pytest.fixture
def store(json_db: Path) -> Path:
    service = make_service(json_db)
    service.add("A-1", "Anvil", "Tools", 10, "A1", 2, 50)
    return json_db


def preview_rows(dialog: ImportDialog) -> list[list[str]]:
    table = dialog.query_one("#preview", DataTable)
    return [[str(cell) for cell in table.get_row_at(n)] for n in range(table.row_count)]


async def test_preview_then_import(store: Path, tmp_path: Path) -> None:
    source = tmp_path / "delivery.csv"
    source.write_text("SKU;Item Name;QTY\nA-1;Anvil;12\nN-9;[b]Nail[/b];500\nX-1;Broken;-2\n")
    before = store.read_bytes()
    app = make_app(store)
    async with app.run_test(size=(110, 36), notifications=True) as pilot:
        await ready(app, pilot)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportDialog))
        dialog = app.screen
        assert isinstance(dialog, ImportDialog)
        await pilot.press(*[KEY_NAMES.get(ch, ch) for ch in str(source)], "enter")
        await settle(pilot)
        summary = str(dialog.query_one("#import-summary", Static).render())
        assert summary == "would add 1, update 1, 1 refused (of 3 rows)"
        assert preview_rows(dialog) == [
            ["4", "X-1", "✗ refused", "quantity: -2 is negative"],
            ["2", "A-1", "~ update", "quantity 10 → 12"],
            ["3", "N-9", "+ add", "[b]Nail[/b]: 500"],
        ]
        assert store.read_bytes() == before, "a preview changes nothing"
        assert not dialog.query_one("#import", Button).disabled
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ItemsScreen))
        await settle(pilot)
        shown = [n.message for n in app._notifications]
        assert "Import of delivery.csv: added 1, updated 1, 1 refused (of 3 rows)" in shown
        service = make_service(store)
        assert (service.get("A-1").quantity, service.get("N-9").name) == (12, "[b]Nail[/b]")
        assert "N-9" in [item.sku for item in app.items_screen.table.items]


async def test_an_unreadable_file_is_reported_in_the_dialog(store: Path, tmp_path: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(110, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportDialog))
        dialog = app.screen
        assert isinstance(dialog, ImportDialog)
        await pilot.press(*[KEY_NAMES.get(ch, ch) for ch in str(tmp_path / "missing.csv")])
        await pilot.press("enter")
        await settle(pilot)
        summary = str(dialog.query_one("#import-summary", Static).render())
        assert summary.startswith("file: cannot read") and "missing.csv" in summary
        assert dialog.query_one("#import", Button).disabled
