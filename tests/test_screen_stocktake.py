"""A count session in the app, from start to apply, by keyboard and by scanner."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import settle
from test_app import KEY_NAMES, ready, stored, wait_for
from test_screen_scan import BARCODE, scan
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from atlas_tui.app import AtlasApp, make_app
from atlas_tui.factory import make_service
from screens.dialogs import ConfirmDialog
from screens.items import ItemsScreen
from screens.scan import ScanScreen
from screens.stocktake import StartCountDialog, StocktakeScreen


@pytest.fixture
def store(json_db: Path) -> Path:
    service = make_service(json_db)
    service.add("BOLT-1", "Bolt", "Hardware", 40, "A1", attributes={"barcode": BARCODE})
    service.add("NUT-1", "Nut", "Hardware", 25, "A1")
    service.add("TAPE-1", "Tape", "Supplies", 8, "A1")
    service.add("CABLE-1", "Cable", "Electronics", 12, "B2")
    return json_db


async def stocktake(app: AtlasApp, pilot: Pilot[None]) -> StocktakeScreen:
    await ready(app, pilot)
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, StocktakeScreen))
    screen = app.screen
    assert isinstance(screen, StocktakeScreen)
    await settle(pilot)
    return screen


def status(screen: StocktakeScreen) -> str:
    return str(screen.query_one("#count-status", Static).render())


def message(screen: StocktakeScreen) -> str:
    return str(screen.query_one("#count-message", Static).render())


def rows(screen: StocktakeScreen) -> list[list[str]]:
    table = screen.query_one("#variance", DataTable)
    return [[str(cell) for cell in table.get_row_at(n)] for n in range(table.row_count)]


async def type_line(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*[KEY_NAMES.get(ch, ch) for ch in text], "enter")


async def test_a_count_session_from_start_to_apply(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await stocktake(app, pilot)
        assert status(screen) == "No open count session · F2 starts one"
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, StartCountDialog))
        await type_line(pilot, "A1")
        await wait_for(pilot, lambda: app.screen is screen)
        await settle(pilot)
        assert status(screen) == "count #1 · at A1 · 0/3 counted · 0 differ (net +0)"
        assert [row[6] for row in rows(screen)] == ["uncounted"] * 3

        await type_line(pilot, "nut-1 24")  # keyboard: set the figure
        for _ in range(2):
            await scan(pilot, BARCODE)  # scanner: one each
        await settle(pilot)
        assert message(screen) == "BOLT-1 at A1 counted 2 (system holds 40)"
        assert status(screen) == "count #1 · at A1 · 2/3 counted · 2 differ (net -39)"
        assert rows(screen)[:2] == [
            ["BOLT-1", "Bolt", "A1", "", "40", "2", "-38", "40"],
            ["NUT-1", "Nut", "A1", "", "25", "24", "-1", "25"],
        ]

        await type_line(pilot, "CABLE-1 3")  # found where it should not be
        await settle(pilot)
        assert message(screen) == "CABLE-1 at A1 counted 3 (system holds 0, not expected here)"
        await wait_for(pilot, lambda: len(rows(screen)) == 4)
        assert rows(screen)[1] == [
            "CABLE-1", "Cable · not expected here", "A1", "", "0", "3", "+3", "0"
        ]  # fmt: skip
        assert status(screen).endswith("3 differ (net -36) · 1 not expected")

        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is screen)
        await settle(pilot)
        assert message(screen) == "count #1 applied: 3 lines changed"
        assert (stored(store, "BOLT-1"), stored(store, "NUT-1"), stored(store, "TAPE-1")) == (
            2,
            24,
            8,
        )
        cable = make_service(store).stock("CABLE-1")
        assert [(line.location, line.quantity) for line in cable] == [("A1", 3), ("B2", 12)]
        assert status(screen) == "No open count session · F2 starts one"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ItemsScreen))


async def test_scan_mode_counts_into_the_session_shown(store: Path) -> None:
    make_service(store).stocktake.start(location="B2")
    make_service(store).stocktake.start(location="A1")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await stocktake(app, pilot)
        assert status(screen).startswith("count #2 · at A1")
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, ScanScreen))
        await pilot.press("3", "asterisk")
        await scan(pilot, "TAPE-1")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await settle(pilot)
        assert message(screen) == "scan mode: counted 1 item into count #2"
        assert rows(screen)[0] == ["TAPE-1", "Tape", "A1", "", "8", "3", "-5", "8"]


async def test_another_operators_counts_show_up(store: Path) -> None:
    make_service(store).stocktake.start(location="A1")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await stocktake(app, pilot)
        make_service(store).stocktake.record(1, "NUT-1", 7)
        await wait_for(pilot, lambda: bool(rows(screen)) and rows(screen)[0][5] == "7")


async def test_a_location_typed_in_a_session_over_every_location_says_where_counts_go(
    store: Path,
) -> None:
    service = make_service(store)
    service.transfer("BOLT-1", 10, "A1", "B2")
    service.stocktake.start(category="Hardware")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await stocktake(app, pilot)
        await type_line(pilot, "BOLT-1 9")
        assert message(screen) == (
            "location: BOLT-1 is expected at 2 places in count #1 (A1, B2): give the location"
        )
        await type_line(pilot, "b2")
        assert message(screen) == "counting at B2: scan or type what is there"
        await wait_for(pilot, lambda: "counting at B2" in status(screen))
        await type_line(pilot, "BOLT-1 9")
        assert message(screen) == "BOLT-1 at B2 counted 9 (system holds 10)"
        await wait_for(
            pilot, lambda: rows(screen)[0][:6] == ["BOLT-1", "Bolt", "B2", "", "10", "9"]
        )
