"""Every screen at 80x24 and 60x20: panes maximise and come back, columns give way by
importance (the figures stay), dialogs keep their title and buttons, media results open."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.text import Text
from support import screen_lines, settle
from test_app import ready, wait_for
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input

from atlas_tui.app import AtlasApp, make_app
from atlas_tui.factory import make_service
from atlas_tui.media import DEMO_DIR
from screens.locations import LocationScreen, LocationsScreen
from screens.media import MediaScreen
from screens.media_detail import MediaDetail
from screens.reports import ReportsScreen
from screens.stocktake import StocktakeScreen
from screens.widgets.fit_table import Fit, FitTable, plan_columns

SMALL, MEDIUM, LARGE = (60, 20), (80, 24), (120, 40)


@pytest.fixture
def store(json_db: Path) -> Path:
    """Twelve items with long names, some low, some over, at three locations."""
    service = make_service(json_db)
    for n in range(12):
        service.add(
            f"PART-{n:03d}",
            f"Stainless hex-socket cap screw, box of {n + 1} hundred",
            f"Category {n % 3}",
            n * 7,
            f"SHELF-{n % 3}",
            20,
            40,
        )
    return json_db


def text(app: AtlasApp) -> str:
    return "\n".join(screen_lines(app))


def on_screen(widget: Widget) -> bool:
    """The widget is laid out wholly inside the terminal, not scrolled or cut off."""
    region = widget.region
    screen = widget.screen.region
    return bool(region.area) and screen.contains_region(region)


def data_rows(table: DataTable[Text]) -> int:
    """Rows of data the table has room to show (its height less border and header)."""
    return table.content_region.height - 1


# Column planning ------------------------------------------------------------------------


def test_columns_shrink_text_then_drop_the_least_important() -> None:
    fits = [
        Fit("sku", "SKU"),
        Fit("name", "Name", drop=2, floor=6),
        Fit("lot", "Lot", drop=3),
        Fit("qty", "Qty"),
    ]
    natural = {"sku": 8, "name": 30, "lot": 5, "qty": 4}
    assert plan_columns(fits, natural, 100, 2) == (
        ("sku", 8), ("name", 30), ("lot", 5), ("qty", 4))  # fmt: skip
    # The name is cut first (…), down to its floor.
    assert plan_columns(fits, natural, 40, 2) == (
        ("sku", 8), ("name", 15), ("lot", 5), ("qty", 4))  # fmt: skip
    # Then the lot goes, and the name gets its room back.
    assert plan_columns(fits, natural, 26, 2) == (("sku", 8), ("name", 8), ("qty", 4))
    # The figures stay even when nothing else is left.
    assert plan_columns(fits, natural, 10, 2) == (("sku", 8), ("qty", 4))


# Reports --------------------------------------------------------------------------------


async def open_reports(app: AtlasApp, pilot: Pilot[None]) -> ReportsScreen:
    await ready(app, pilot)
    await pilot.press("r")
    await wait_for(pilot, lambda: isinstance(app.screen, ReportsScreen))
    await settle(pilot)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ReportsScreen)
    return screen


async def test_reports_at_80x24_show_every_pane_with_rows(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=MEDIUM) as pilot:
        screen = await open_reports(app, pilot)
        for selector in ReportsScreen.PANES:
            pane = screen.query_one(selector, DataTable)
            assert on_screen(pane), selector
            assert data_rows(pane) >= 5, selector
        # Two by two, each pane keeps the figures: quantity in the lists, order in reorder.
        await wait_for(pilot, lambda: screen.query_one("#reorder", FitTable).row_count > 0)
        assert "quantity" in screen.query_one("#low", FitTable).shown_columns
        assert "suggested" in screen.query_one("#reorder", FitTable).shown_columns
        assert "Low stock" in text(app) and "Reorder" in text(app)


async def test_reports_at_60x20_show_one_pane_at_a_time(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_reports(app, pilot)
        low = screen.query_one("#low", DataTable)
        assert on_screen(low) and data_rows(low) >= 10
        assert not screen.query_one("#reorder", DataTable).display
        assert "PART-000" in text(app)
        # tab brings the next pane, with the whole screen for it.
        await pilot.press("tab")
        await pilot.pause()
        over = screen.query_one("#over", DataTable)
        await wait_for(pilot, lambda: app.focused is over)
        assert on_screen(over) and data_rows(over) >= 10
        assert not low.display
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: app.focused is low)
        assert low.display


@pytest.mark.parametrize("size", [SMALL, MEDIUM, LARGE])
async def test_reports_pane_maximises_and_escape_restores(
    store: Path, size: tuple[int, int]
) -> None:
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        screen = await open_reports(app, pilot)
        low = screen.query_one("#low", DataTable)
        before = low.region.height
        await pilot.press("z")
        await pilot.pause()
        assert screen.maximized is low
        assert low.region.height > before
        # tab while maximised shows the next pane maximised.
        await pilot.press("tab")
        await pilot.pause()
        assert screen.maximized is screen.query_one("#over", DataTable)
        await pilot.press("escape")
        await pilot.pause()
        assert screen.maximized is None
        assert app.screen is screen  # escape restored, it did not leave
        await pilot.press("z", "z")
        await pilot.pause()
        assert screen.maximized is None  # z again restores too


# Locations ------------------------------------------------------------------------------


async def test_locations_maximise_and_restore(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        await ready(app, pilot)
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, LocationsScreen))
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#locations", DataTable)
        await pilot.press("z")
        await pilot.pause()
        assert screen.maximized is table
        await pilot.press("escape")
        await pilot.pause()
        assert screen.maximized is None and app.screen is screen
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LocationScreen))
        await settle(pilot)
        lines = app.screen.query_one("#lines", FitTable)
        await wait_for(pilot, lambda: lines.row_count > 0)
        await pilot.pause()
        # 60 columns: the SKU and the quantity stay, the long names are cut to fit.
        assert lines.shown_columns[0] == "sku" and "quantity" in lines.shown_columns
        assert lines.virtual_size.width <= lines.scrollable_content_region.width
        assert "Stainless hex-socket cap screw, box of 1 hundred" not in text(app)
        assert "Stainless" in text(app)
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is lines


# Stocktake ------------------------------------------------------------------------------


async def counting(app: AtlasApp, pilot: Pilot[None]) -> StocktakeScreen:
    await ready(app, pilot)
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, StocktakeScreen))
    screen = app.screen
    assert isinstance(screen, StocktakeScreen)
    await pilot.press("f2")
    await wait_for(pilot, lambda: app.screen is not screen)
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.screen is screen and screen.session_id is not None)
    entry = screen.query_one("#count-entry", Input)
    await pilot.press(*"PART-003", "space", "5", "enter")
    await wait_for(pilot, lambda: "PART-003 at" in str(screen.query_one("#count-message").render()))
    assert app.focused is entry
    await settle(pilot)
    await pilot.pause()
    return screen


async def test_stocktake_at_60_columns_keeps_diff_and_now(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        screen = await counting(app, pilot)
        table = screen.query_one("#variance", FitTable)
        await wait_for(pilot, lambda: "diff" in table.shown_columns and table.row_count == 12)
        assert table.shown_columns[0] == "sku"
        assert {"expected", "counted", "diff", "now"} <= set(table.shown_columns)
        assert "lot" not in table.shown_columns  # gave way first
        shown = text(app)
        header = next(line for line in shown.splitlines() if "SKU" in line and "Diff" in line)
        assert header.rstrip().endswith("Now")
        row = next(line for line in shown.splitlines()
                   if line.lstrip().startswith("PART-003") and "counted" not in line)  # fmt: skip
        assert row.split()[-2:] == ["-16", "21"]  # counted 5 of 21: diff and now in view
        # The long names are cut with an ellipsis, not wrapped away.
        assert "…" in row


async def test_stocktake_maximises_the_variance_and_keeps_counting(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=MEDIUM) as pilot:
        screen = await counting(app, pilot)
        table = screen.query_one("#variance", DataTable)
        before = table.region.height
        await pilot.press("f7")
        await pilot.pause()
        assert screen.maximized is table and table.region.height > before
        # The entry box stays in the maximised view: counts still go in.
        assert on_screen(screen.query_one("#count-entry"))
        await pilot.press(*"PART-004", "space", "1", "enter")
        await wait_for(pilot, lambda: "PART-004 at" in text(app))
        await pilot.press("escape")
        await pilot.pause()
        assert screen.maximized is None and app.screen is screen


# Items ----------------------------------------------------------------------------------


async def test_items_at_60_columns_show_sku_quantity_and_status(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(app, pilot)
        shown = screen.table.shown_columns
        assert shown[:2] == ["sku", "name"] and {"quantity", "status"} <= set(shown)
        assert screen.table.virtual_size.width <= screen.table.scrollable_content_region.width
        line = next(line for line in screen_lines(app) if line.startswith("PART-001"))
        assert re.search(r" 7 +SHELF-1 +▼ low$", line), line  # quantity and the low mark
    app = make_app(store)
    async with app.run_test(size=(40, 20)) as pilot:
        screen = await ready(app, pilot)
        assert {"sku", "quantity", "status"} <= set(screen.table.shown_columns)
        assert "category" not in screen.table.shown_columns


async def test_items_table_and_detail_maximise(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=MEDIUM) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("z")
        await pilot.pause()
        assert screen.maximized is screen.table
        await pilot.press("escape")
        await pilot.pause()
        assert screen.maximized is None
        detail = screen.query_one("#detail")
        detail.focus()
        await pilot.press("z")
        await pilot.pause()
        assert screen.maximized is detail
        await pilot.press("z")
        await pilot.pause()
        assert screen.maximized is None


# Dialogs --------------------------------------------------------------------------------

DIALOGS = {
    # key(s) on the items screen -> the dialog's title
    "new": (("n",), "New item"),
    "transfer": (("x",), "Transfer PART-000"),
    "import": (("i",), "Import items from a CSV or JSON file"),
    "category": (("c",), "Category"),
    "delete": (("delete",), "Delete"),
    "history": (("h",), "History of PART-000"),
    "count": (("t", "f2"), "New count session"),
}


@pytest.mark.parametrize("name", sorted(DIALOGS))
async def test_dialogs_at_60x20_keep_the_title_and_reach_the_last_button(
    store: Path, name: str
) -> None:
    keys, title = DIALOGS[name]
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        await ready(app, pilot)
        for key in keys:
            base = app.screen
            await pilot.press(key)
            await wait_for(pilot, lambda base=base: app.screen is not base)  # type: ignore[misc]
        await settle(pilot)
        await pilot.pause()
        dialog = app.screen
        assert title in text(app)
        heading = dialog.query_one("#heading")
        assert on_screen(heading)
        buttons = list(dialog.query(Button))
        for button in buttons:
            assert on_screen(button), button
        # Tab through every field: each is scrolled into view when it has the focus, the
        # title stays, and the last button is reached.
        seen: list[Widget] = []
        for _ in range(20):
            await pilot.press("tab")
            await pilot.pause()
            focused = app.focused
            assert focused is not None
            if focused in seen:
                break
            seen.append(focused)
            if isinstance(focused, Input):
                assert on_screen(focused), focused
            assert on_screen(heading)
        if buttons:
            assert buttons[-1] in seen
            assert on_screen(buttons[-1])


# Media ----------------------------------------------------------------------------------


async def open_demo_media(pilot: Pilot[None], app: AtlasApp) -> MediaScreen:
    await ready(app, pilot)
    await pilot.press("f")
    await wait_for(pilot, lambda: isinstance(app.screen, MediaScreen))
    screen = app.screen
    assert isinstance(screen, MediaScreen)
    await wait_for(pilot, lambda: screen.state == "ready")
    await pilot.pause()
    return screen


async def test_media_results_fit_80_columns(tmp_path: Path) -> None:
    app = AtlasApp(make_service(tmp_path / "atlas.json"), DEMO_DIR)
    async with app.run_test(size=MEDIUM) as pilot:
        screen = await open_demo_media(pilot, app)
        table = screen.query_one("#results", FitTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        await pilot.pause()
        assert table.shown_columns[:3] == ["title", "kind", "year"]
        assert table.virtual_size.width <= table.scrollable_content_region.width
        line = next(line for line in screen_lines(app) if "Breaking Bad" in line)
        assert line.split()[2:4] == ["series", "2008"]


async def test_media_enter_opens_the_detail_and_escape_returns(tmp_path: Path) -> None:
    app = AtlasApp(make_service(tmp_path / "atlas.json"), DEMO_DIR)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_demo_media(pilot, app)
        await pilot.press(*"wire", "enter")  # the search box hands over to the results
        await wait_for(pilot, lambda: len(screen.shown) == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MediaDetail))
        await pilot.pause()
        shown = text(app)
        assert "The Wire (2002)" in shown
        for words in ("series", "Seasons / episodes  5 / 60", "Network             HBO",
                      "Metadata file", "tvshow.nfo"):  # fmt: skip
            assert words in shown, words
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert app.focused is screen.query_one("#results")
