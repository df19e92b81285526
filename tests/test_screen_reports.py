"""The reports screen through the real app: totals, lists, jumping to an item, live updates."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.text import Text
from support import settle
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from atlas_tui.app import AtlasApp, make_app
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from screens.items import ItemsScreen
from screens.reports import ReportsScreen, quantity_bar


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 5) -> None:
    """Let the app run until `condition()` holds (fails after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


def rows(app: AtlasApp, selector: str) -> list[list[str]]:
    table: DataTable[Text] = app.screen.query_one(selector, DataTable)
    return [[cell.plain for cell in table.get_row_at(n)] for n in range(table.row_count)]


def totals(app: AtlasApp) -> str:
    return str(app.screen.query_one("#totals", Static).render())


@pytest.fixture
def store(json_db: Path) -> InventoryService:
    """Widgets (fine), a low item with a hostile name, an over item, one without category."""
    service = make_service(json_db)
    service.add("ITEM-001", "Widget", "Electronics", 100, "A1", 10, 500)
    service.add("LOW-1", "[red]x[/red] \x1b[31mboom", "Tools", 1, "B2", 5)
    service.add("OVER-1", "Crate", "Tools", 900, "C3", 1, 50)
    service.add("PLAIN-1", "Loose", "", 3)
    return service


async def open_reports(app: AtlasApp, pilot: Pilot[None]) -> ReportsScreen:
    await pilot.pause()
    await pilot.press("r")
    await settle(pilot)
    await pilot.pause()
    assert isinstance(app.screen, ReportsScreen)
    return app.screen


async def test_reports_show_totals_categories_and_lists(
    store: InventoryService, json_db: Path
) -> None:
    app = make_app(json_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reports(app, pilot)
        assert totals(app) == "4 items · 1,004 units · ▼ 1 low · ▲ 1 over"
        categories = rows(app, "#categories")
        assert [row[:3] for row in categories] == [
            ["(no category)", "1", "3"],
            ["Electronics", "1", "100"],
            ["Tools", "2", "901"],
        ]
        # The largest category fills the bar; the others are drawn to scale.
        assert categories[2][3] == quantity_bar(901, 901) == "█" * 30
        assert categories[1][3] == quantity_bar(100, 901)
        assert rows(app, "#low") == [["LOW-1", "[red]x[/red] \\x1b[31mboom", "1", "5/-", "B2"]]
        assert rows(app, "#over") == [["OVER-1", "Crate", "900", "1/50", "C3"]]
        assert "[red]x[/red]" in app.export_screenshot().replace("&#160;", " ")
        await pilot.press("escape")  # back, the items screen's cursor where it was
        assert isinstance(app.screen, ItemsScreen)
        current = app.screen.table.current
        assert current is not None and current.sku == "ITEM-001"


def test_quantity_bar_is_proportional() -> None:
    assert quantity_bar(0, 10) == "" and quantity_bar(5, 0) == ""
    assert quantity_bar(10, 10, width=4) == "████"
    assert quantity_bar(5, 10, width=4) == "██"
    assert quantity_bar(1, 16, width=4) == "▎"  # a quarter of a cell, in eighths
    assert quantity_bar(1, 10_000, width=4) == "▏"  # never invisible


async def test_tab_moves_between_panes_and_enter_jumps_to_the_item(
    store: InventoryService, json_db: Path
) -> None:
    app = make_app(json_db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_reports(app, pilot)
        assert screen.focused is screen.query_one("#low")  # what reports are usually for
        await pilot.press("tab")
        assert screen.focused is screen.query_one("#over")
        await pilot.press("shift+tab", "shift+tab", "enter")
        assert screen.focused is screen.query_one("#categories")
        assert app.screen is screen  # a category is not an item: enter does nothing there
        await pilot.press("tab", "enter")
        assert isinstance(app.screen, ItemsScreen)
        current = app.screen.table.current
        assert current is not None and current.sku == "LOW-1"
        await open_reports(app, pilot)
        await pilot.press("tab", "enter")
        assert isinstance(app.screen, ItemsScreen)
        current = app.screen.table.current
        assert current is not None and current.sku == "OVER-1"


async def test_a_change_from_another_process_shows_up(
    store: InventoryService, json_db: Path
) -> None:
    app = make_app(json_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_reports(app, pilot)
        other = make_service(json_db)  # a second service: its own handle on the file
        other.adjust("ITEM-001", -95)  # 5 left, under the minimum of 10
        await wait_for(pilot, lambda: len(rows(app, "#low")) == 2)
        assert [row[0] for row in rows(app, "#low")] == ["ITEM-001", "LOW-1"]
        assert totals(app) == "4 items · 909 units · ▼ 2 low · ▲ 1 over"
        assert app.screen.query_one("#low", DataTable).border_title == "Low stock (2)"


async def test_an_empty_store_is_described(json_db: Path) -> None:
    app = make_app(json_db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_reports(app, pilot)
        assert "No items yet" in totals(app)
        assert rows(app, "#categories") == rows(app, "#low") == rows(app, "#over") == []
        await pilot.press("enter", "tab", "enter")  # nothing to pick: the screen stays
        await pilot.pause()
        assert app.screen is screen
