"""The reorder list on the reports screen and the detail pane's trend, through the real app."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.text import Text
from support import settle
from textual.pilot import Pilot
from textual.widgets import DataTable

from atlas_tui.app import AtlasApp
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from screens.items import ItemsScreen
from screens.reports import ReportsScreen
from screens.widgets.item_detail import ItemDetail, sparkline, usage_text

NOW = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.moment = NOW

    def __call__(self) -> datetime:
        return self.moment


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def store(json_db: Path) -> Path:
    """A store whose history the test dates by hand; the app's clock reads NOW.

    GEAR-1: 60 on hand 20 days ago, 45 used since -> 15, min 20, max 100 (1.5/day: 10 days).
    BELT-2: 4 on hand, min 10, no ceiling, no usage (days left unknown).
    EMPTY-3: none left, min 2, max 8, 6 used.
    FINE-4: plenty, never listed.  ODD-5: a name that looks like markup, 3 used, 9 left.
    """
    clock = Clock()
    service = InventoryService(make_service(json_db).repository, clock=clock)
    clock.moment = days_ago(20)
    service.add("GEAR-1", "Gear", "Parts", 60, "A1", 20, 100)
    service.add("BELT-2", "Belt", "Parts", 4, "A2", 10)
    service.add("EMPTY-3", "Empty bin", "Parts", 6, "A3", 2, 8)
    service.add("FINE-4", "Fine", "Parts", 500, "A4", 5, 900)
    service.add("ODD-5", "[red]x[/red] odd", "Parts", 12, "A5", 10)
    for days, sku, delta in [
        (15, "GEAR-1", -20),
        (9.5, "GEAR-1", -25),
        (4, "EMPTY-3", -6),
        (2, "ODD-5", -3),
        (1, "GEAR-1", +30),  # a delivery: not usage
    ]:
        clock.moment = days_ago(days)
        service.adjust(sku, delta)
    clock.moment = days_ago(0.5)
    service.count("GEAR-1", 15)  # a count: not usage
    return json_db


def make_app(path: Path) -> AtlasApp:
    return AtlasApp(InventoryService(make_service(path).repository, clock=lambda: NOW))


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


def rows(app: AtlasApp, selector: str) -> list[list[str]]:
    table: DataTable[Text] = app.screen.query_one(selector, DataTable)
    return [[cell.plain for cell in table.get_row_at(n)] for n in range(table.row_count)]


async def items_ready(app: AtlasApp, pilot: Pilot[None]) -> ItemsScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, ItemsScreen) and app.screen.loaded)
    await settle(pilot)
    assert isinstance(app.screen, ItemsScreen)
    return app.screen


async def open_reports(app: AtlasApp, pilot: Pilot[None]) -> ReportsScreen:
    await items_ready(app, pilot)
    await pilot.press("r")
    await settle(pilot)
    assert isinstance(app.screen, ReportsScreen)
    await wait_for(
        pilot, lambda: app.screen.query_one("#reorder").border_subtitle != "reading history…"
    )
    return app.screen


async def test_the_reorder_list_shows_what_to_order_most_urgent_first(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await open_reports(app, pilot)
        assert rows(app, "#reorder") == [
            # SKU, name, qty, min/max, order, use/day, days left
            ["EMPTY-3", "Empty bin", "0", "2/8", "8", "0.2", "0.0"],
            ["GEAR-1", "Gear", "15", "20/100", "85", "1.5", "10"],
            ["ODD-5", "[red]x[/red] odd", "9", "10/-", "11", "0.1", "90"],
            ["BELT-2", "Belt", "4", "10/-", "16", "0", "—"],
        ]
        reorder = screen.query_one("#reorder", DataTable)
        assert reorder.border_title == "Reorder (4)"
        assert reorder.border_subtitle == "usage over 30 d"
        assert "[red]x[/red] odd" in app.export_screenshot().replace("&#160;", " ")
        # The low list still lists the same items, by SKU.
        assert [row[0] for row in rows(app, "#low")] == ["BELT-2", "EMPTY-3", "GEAR-1", "ODD-5"]


async def test_tab_reaches_the_reorder_list_and_enter_jumps_to_the_item(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await open_reports(app, pilot)
        await pilot.press("tab", "tab")  # low -> over -> reorder
        assert screen.focused is screen.query_one("#reorder")
        await pilot.press("down", "enter")
        assert isinstance(app.screen, ItemsScreen)
        current = app.screen.table.current
        assert current is not None and current.sku == "GEAR-1"


async def test_the_reorder_list_follows_changes_from_another_process(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 34)) as pilot:
        await open_reports(app, pilot)
        other = InventoryService(make_service(store).repository, clock=lambda: NOW)
        other.adjust("FINE-4", -496)  # 4 left, under its minimum of 5; 496 used today
        other.adjust("BELT-2", 50)  # a delivery: BELT-2 is fine again
        await wait_for(pilot, lambda: "FINE-4" in [row[0] for row in rows(app, "#reorder")])
        await wait_for(pilot, lambda: len(rows(app, "#reorder")) == 4)
        fine = next(row for row in rows(app, "#reorder") if row[0] == "FINE-4")
        # 496 / 30 = 16.5 a day: 4 left last about a quarter of a day; order up to 900.
        assert fine == ["FINE-4", "Fine", "4", "5/900", "896", "17", "0.2"]
        assert [row[0] for row in rows(app, "#reorder")] == ["EMPTY-3", "FINE-4", "GEAR-1", "ODD-5"]


async def test_an_empty_store_has_nothing_to_reorder(json_db: Path) -> None:
    app = make_app(json_db)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await open_reports(app, pilot)
        assert rows(app, "#reorder") == []
        reorder = screen.query_one("#reorder", DataTable)
        assert (reorder.border_title, reorder.border_subtitle) == ("Reorder (0)", "none")


# The detail pane's trend ----------------------------------------------------------------------


def detail_text(detail: ItemDetail) -> str:
    """The pane's text as it is drawn, without styles."""
    return detail.text


async def test_the_detail_pane_shows_the_trend_and_usage(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await items_ready(app, pilot)
        await pilot.press("down", "down", "down")  # BELT-2, EMPTY-3, FINE-4, GEAR-1
        await settle(pilot)
        detail = screen.query_one("#detail", ItemDetail)
        trend = detail.trend
        assert trend is not None and trend["days"] == 30
        # Added 20 days ago (the window's first 9 days are before it), then 40, 15, 45, 15.
        assert trend["levels"] == [0] * 9 + [60] * 5 + [40] * 6 + [15] * 8 + [45, 15]
        text = detail_text(detail)
        assert "30 d " + sparkline(trend["levels"]) in text
        assert "uses ~1.5/day · 45 in 30 d" in text
        assert "GEAR-1" in text  # the pane still names the item
        lines = text.splitlines()
        assert len(lines) <= 6  # the pane's six lines below its border
        await pilot.press("tab", "d")  # the pane has the focus: d switches to 90 days
        await settle(pilot)
        assert app.focused is detail
        trend = detail.trend
        assert trend is not None and trend["days"] == 90 and len(trend["levels"]) == 90
        assert "90 d " in detail_text(detail) and "uses ~0.5/day · 45 in 90 d" in detail_text(
            detail
        )
        await pilot.press("d")
        await settle(pilot)
        assert detail.days == 30 and detail.trend is not None and detail.trend["days"] == 30


async def test_the_detail_pane_follows_the_cursor(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await items_ready(app, pilot)
        detail = screen.query_one("#detail", ItemDetail)
        assert detail.trend is not None and detail.trend["used"] == 0  # BELT-2: none used
        assert "no use in 30 d" in detail_text(detail)
        await pilot.press("down")  # EMPTY-3: 6 used, none left now
        await settle(pilot)
        assert detail.trend is not None and detail.trend["levels"][-1] == 0
        assert detail.trend["used"] == 6
        assert "uses ~0.2/day · 6 in 30 d" in detail_text(detail)
        detail.set_days(7)
        await settle(pilot)
        assert detail.trend is not None and detail.trend["levels"] == [6, 6, 0, 0, 0, 0, 0]


def test_sparkline_scales_from_zero_and_groups_long_periods() -> None:
    assert sparkline([0, 1, 4, 8]) == "·▁▄█"
    assert sparkline([0, 0]) == "··"
    assert sparkline([]) == ""
    assert sparkline([1000, 1]) == "█▁"  # above zero is never drawn as nothing
    # 90 days in 30 cells: each cell is the quantity at the end of its 3 days.
    assert sparkline([8] * 87 + [0, 0, 4]) == "█" * 29 + "▄"
    assert sparkline(list(range(9)), cells=3) == "▂▅█"  # ends at 2, 5, 8


def test_usage_text() -> None:
    assert usage_text({"days": 30, "used": 0, "daily_usage": 0.0}) == "no use in 30 d"
    assert usage_text({"days": 30, "used": 1, "daily_usage": 1 / 30}) == "uses <0.1/day · 1 in 30 d"
    assert usage_text({"days": 30, "used": 36, "daily_usage": 1.2}) == "uses ~1.2/day · 36 in 30 d"
    assert usage_text({"days": 1, "used": 1234, "daily_usage": 1234.0}) == (
        "uses ~1,234/day · 1,234 in 1 d"
    )
