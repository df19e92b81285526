"""Scan mode through Pilot: keys arrive in bursts ending with enter, as a scanner sends them."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_app import KEY_NAMES, ready, stored, wait_for
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from atlas_tui.app import AtlasApp, make_app
from atlas_tui.factory import make_service
from screens.dialogs import NewItemDialog
from screens.items import ItemsScreen
from screens.scan import ScanScreen
from screens.scan_count import CountPicker

BARCODE = "4006381333931"


@pytest.fixture
def store(json_db: Path) -> Path:
    service = make_service(json_db)
    service.add("BOLT-1", "Bolt", "Hardware", 40, "A1", attributes={"barcode": BARCODE})
    service.add("NUT-1", "Nut", "Hardware", 25, "A1")
    service.add("TAPE-1", "Tape", "Supplies", 8, "B2")
    return json_db


async def scan(pilot: Pilot[None], code: str) -> None:
    """What a barcode scanner does: the code's keys in one burst, then enter."""
    await pilot.press(*[KEY_NAMES.get(ch, ch) for ch in code], "enter")
    await pilot.pause()


async def scan_mode(app: AtlasApp, pilot: Pilot[None]) -> ScanScreen:
    await ready(app, pilot)
    await pilot.press("s")
    await wait_for(pilot, lambda: isinstance(app.screen, ScanScreen))
    screen = app.screen
    assert isinstance(screen, ScanScreen)
    return screen


def message(screen: ScanScreen) -> str:
    return str(screen.query_one("#scan-message", Static).render())


def counting(screen: ScanScreen) -> str:
    """The count session line, shown while counting ("" when hidden)."""
    shown = screen.query_one("#scan-count", Static)
    return str(shown.render()) if shown.display else ""


def tally(screen: ScanScreen) -> list[list[str]]:
    table = screen.query_one("#scan-tally", DataTable)
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


class Bells:
    """Counts the app's bells (the terminal's beep)."""

    def __init__(self, app: AtlasApp) -> None:
        self.rung = 0
        ring = app.bell

        def counted() -> None:
            self.rung += 1
            ring()

        app.bell = counted  # type: ignore[method-assign]


async def test_receive_and_pick_scan_after_scan(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await scan(pilot, "BOLT-1")
        await scan(pilot, BARCODE)
        await scan(pilot, "nut-1")
        assert (stored(store, "BOLT-1"), stored(store, "NUT-1")) == (42, 26)
        assert message(screen) == "NUT-1 +1 → 26"
        await pilot.press("f3")
        await scan(pilot, BARCODE)
        assert stored(store, "BOLT-1") == 41
        assert tally(screen) == [
            ["BOLT-1", "Bolt", "2", "1", "", "", "41"],
            ["NUT-1", "Nut", "1", "", "", "", "26"],
        ]
        assert isinstance(app.screen, ScanScreen), "no dialog between scans"


async def test_a_typed_quantity_applies_to_the_next_scan(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await pilot.press("1", "2", "asterisk")
        await scan(pilot, "TAPE-1")
        assert stored(store, "TAPE-1") == 20
        await scan(pilot, "5")
        assert message(screen) == "x5 for the next scan"
        await pilot.press("f3")
        await scan(pilot, "TAPE-1")
        assert stored(store, "TAPE-1") == 15
        await scan(pilot, "TAPE-1")
        assert stored(store, "TAPE-1") == 14, "the quantity applies to one scan only"


async def test_picking_more_than_there_is_is_refused_with_a_bell(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        bells = Bells(app)
        screen = await scan_mode(app, pilot)
        await pilot.press("f3", "9", "x")
        await scan(pilot, "TAPE-1")
        assert message(screen) == "quantity: cannot pick 9 of TAPE-1: only 8 on hand"
        assert bells.rung == 1
        assert stored(store, "TAPE-1") == 8


async def test_an_unknown_code_beeps_changes_nothing_and_can_be_created(store: Path) -> None:
    app = make_app(store)
    before = store.read_bytes()
    async with app.run_test(size=(80, 24)) as pilot:
        bells = Bells(app)
        screen = await scan_mode(app, pilot)
        await scan(pilot, "5012345678900")
        assert bells.rung == 1
        assert message(screen).startswith("unknown code '5012345678900': nothing changed")
        assert "ctrl+n creates it" in message(screen)
        assert store.read_bytes() == before
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewItemDialog))
        await pilot.press(*"Glue", "enter")
        await wait_for(pilot, lambda: app.screen is screen)
        created = make_service(store).find_code("5012345678900")
        assert (created.sku, created.name) == ("5012345678900", "Glue")
        await scan(pilot, "5012345678900")
        assert stored(store, "5012345678900") == 1


async def test_count_tallies_into_a_count_session_started_here(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await scan(pilot, "A1")
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, CountPicker))
        await pilot.press("enter")  # the only choice: a new count at A1
        await wait_for(pilot, lambda: app.screen is screen)
        assert message(screen) == (
            "started count #1 at A1; count: each scan adds to the tally of count #1 at A1"
        )
        for _ in range(3):
            await scan(pilot, BARCODE)
        assert message(screen) == "BOLT-1 counted 3 at A1 (system holds 40)"
        assert counting(screen) == "Counting into count #1 at A1: 1 of 2 lines counted"
        assert stored(store, "BOLT-1") == 40, "counting changes no stock until applied"
        variance = make_service(store).stocktake.variance(1)
        assert [(r["sku"], r["counted"]) for r in variance["rows"]] == [("BOLT-1", 3)]


async def test_move_scans_the_location_first(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await pilot.press("f5")
        await scan(pilot, "C9")
        assert message(screen) == "moving to C9: scan the items"
        await scan(pilot, "BOLT-1")
        await scan(pilot, "nut-1")
        service = make_service(store)
        assert [service.get(s).location for s in ("BOLT-1", "NUT-1")] == ["C9", "C9"]
        await scan(pilot, "b2")
        assert message(screen) == "moving to B2: scan the items", "a known location switches"
        await scan(pilot, "BOLT-1")
        assert make_service(store).get("BOLT-1").location == "B2"


async def test_undo_takes_back_the_last_scan(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await scan(pilot, "BOLT-1")
        await scan(pilot, "NUT-1")
        await pilot.press("u")
        await wait_for(pilot, lambda: stored(store, "NUT-1") == 25)
        assert message(screen) == "undone: receive of 1 NUT-1, now 25"
        assert [row[0] for row in tally(screen)] == ["BOLT-1"]
        await pilot.press("ctrl+z")
        assert stored(store, "BOLT-1") == 40
        await pilot.press("u")
        await wait_for(pilot, lambda: message(screen) == "nothing to undo in this scan session")
        await scan(pilot, "unit-9")
        assert message(screen).startswith("unknown code 'unit-9'"), "a code may begin with u"
        await scan(pilot, "u")
        assert message(screen).startswith("unknown code 'u'"), "u then enter is a code"


async def test_leaving_scan_mode_shows_what_was_done(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await scan_mode(app, pilot)
        await scan(pilot, "BOLT-1")
        await pilot.press("f3", "2", "asterisk")
        await scan(pilot, "NUT-1")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ItemsScreen))
        shown = [n.message for n in app._notifications]
        assert "Scan mode: received 1 of 1 item; picked 2 of 1 item" in shown
        await wait_for(pilot, lambda: app.items_screen.table.current is not None)
        table = app.items_screen.table
        assert [item.quantity for item in table.items] == [41, 23, 8]


PACK = "5000000000012"  # a carton of 12 NUT-1


def where(screen: ScanScreen) -> str:
    return str(screen.query_one("#scan-where", Static).render())


def lines(store: Path, sku: str) -> list[tuple[str, int]]:
    return [(line.location, line.quantity) for line in make_service(store).stock(sku)]


@pytest.fixture
def shelves(store: Path) -> Path:
    service = make_service(store)
    service.update("NUT-1", barcodes={PACK: 12})
    service.places.create("C9", "Returns")
    return store


async def test_a_scanned_location_is_shown_and_receive_and_pick_act_there(shelves: Path) -> None:
    app = make_app(shelves)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        assert where(screen) == "Location: none (scan a location's code)"
        await scan(pilot, "c9")
        assert message(screen) == "receiving into C9: scan the items"
        assert where(screen) == "Location: C9"
        await scan(pilot, PACK)
        assert message(screen) == "NUT-1 +12 at C9 → 37 (a pack of 12)"
        assert lines(shelves, "NUT-1") == [("A1", 25), ("C9", 12)]
        await pilot.press("f3")
        assert where(screen) == "Location: C9", "the location stays across actions"
        await pilot.press("5", "asterisk")
        await scan(pilot, "NUT-1")
        assert message(screen) == "NUT-1 -5 at C9 → 32"
        assert lines(shelves, "NUT-1") == [("A1", 25), ("C9", 7)]
        assert tally(screen) == [["NUT-1", "Nut", "12", "5", "", "", "32"]]


async def test_an_unknown_pack_barcode_is_refused_and_nothing_changes(shelves: Path) -> None:
    app = make_app(shelves)
    before = shelves.read_bytes()
    async with app.run_test(size=(80, 24)) as pilot:
        bells = Bells(app)
        screen = await scan_mode(app, pilot)
        await scan(pilot, "A1")
        await scan(pilot, "5000000000099")
        assert message(screen).startswith("unknown code '5000000000099': nothing changed")
        assert bells.rung == 1
        assert tally(screen) == []
    assert shelves.read_bytes() == before


async def test_transfer_scans_the_source_the_items_then_the_destination(shelves: Path) -> None:
    app = make_app(shelves)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        for _ in range(4):  # tab alone reaches every action, without F-keys
            await pilot.press("tab")
        assert screen.session.action == "transfer"
        assert where(screen).endswith("transfer: scan the source location")
        await scan(pilot, "A1")
        assert where(screen) == "Location: A1 · transfer from A1: scan the items"
        await scan(pilot, PACK)
        await pilot.press("3", "asterisk")
        await scan(pilot, BARCODE)
        assert where(screen) == "Location: A1 · transfer from A1: 15 waiting, scan the destination"
        assert lines(shelves, "NUT-1") == [("A1", 25)], "nothing moves before the destination"
        await scan(pilot, "C9")
        assert message(screen) == "transferred 15 of 2 items from A1 to C9"
        assert where(screen) == "Location: C9 · transfer: scan the source location"
        assert lines(shelves, "NUT-1") == [("A1", 13), ("C9", 12)]
        assert lines(shelves, "BOLT-1") == [("A1", 37), ("C9", 3)]
        assert [row[5] for row in tally(screen)] == ["12 → C9", "3 → C9"]
        await pilot.press("ctrl+z")
        assert message(screen) == "undone: transfer of 2 items from A1 to C9"
        assert lines(shelves, "NUT-1") == [("A1", 25)]
        assert make_service(shelves).verify()["ok"]
