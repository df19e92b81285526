"""Scan mode without F-keys: command barcodes, ctrl keys and command words switch the
action (and change no stock); count asks which session and shows it while counting."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import run_atlas
from test_app import stored, wait_for
from test_screen_scan import BARCODE, Bells, counting, message, scan, scan_mode, store
from textual.widgets import OptionList

from atlas_tui.app import check_preferences, make_app
from atlas_tui.config import Settings
from atlas_tui.factory import make_service
from atlas_tui.preferences import PreferencesError
from atlas_tui.services.scanning import ScanCodes
from screens.items import ItemsScreen
from screens.scan import ScanScreen
from screens.scan_count import CountPicker

__all__ = ["store"]  # the fixture, shared with test_screen_scan

SWITCHES = [
    ("*PICK*", "pick"),
    ("*move*", "move"),
    ("*Transfer*", "transfer"),
    ("*RECEIVE*", "receive"),
]


@pytest.mark.parametrize(("code", "action"), SWITCHES)
async def test_a_command_code_switches_the_action_and_changes_no_stock(
    store: Path, code: str, action: str
) -> None:
    before = store.read_bytes()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        if action == "receive":
            await pilot.press("f3")
        await scan(pilot, code)
        assert screen.session.action == action
        assert message(screen).startswith(f"command {action.upper()}: {action}")
        assert screen.session.tally == {}
    assert store.read_bytes() == before


async def test_picking_by_command_code_then_scanning_picks(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await scan(pilot, "*PICK*")
        await scan(pilot, BARCODE)
        assert message(screen) == "BOLT-1 -1 → 39"
        await scan(pilot, "*UNDO*")
        assert message(screen) == "command UNDO: undone: pick of 1 BOLT-1, now 40"
        assert stored(store, "BOLT-1") == 40
        await scan(pilot, "*DONE*")
        await wait_for(pilot, lambda: isinstance(app.screen, ItemsScreen))


async def test_a_sku_that_looks_like_a_command_code_is_scanned_with_1_star(store: Path) -> None:
    make_service(store).add("*PICK*", "Oddly named", quantity=3)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await scan(pilot, "*PICK*")
        assert screen.session.action == "pick", "the command wins"
        await scan(pilot, "1**PICK*")
        assert message(screen) == "*PICK* -1 → 2"


async def test_command_codes_with_the_scanners_prefix_and_suffix(store: Path) -> None:
    codes = ScanCodes(
        command_prefix="#", command_suffix="", scanner_prefix="]C0", scanner_suffix="~"
    )
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        screen = ScanScreen(make_service(store), codes=codes)
        await app.push_screen(screen)
        await scan(pilot, "]C0#pick~")
        assert screen.session.action == "pick"
        await scan(pilot, "]C0BOLT-1~")
        assert message(screen) == "BOLT-1 -1 → 39"
        await scan(pilot, "*MOVE*")
        assert screen.session.action == "pick", "the default syntax is not this scanner's"
        assert message(screen).startswith("unknown code '*MOVE*'")
    assert stored(store, "BOLT-1") == 39


@pytest.mark.parametrize(
    ("key", "action"),
    [("ctrl+o", "pick"), ("ctrl+g", "move"), ("ctrl+t", "transfer"), ("ctrl+r", "receive")],
)
async def test_ctrl_keys_switch_the_action_without_f_keys(
    store: Path, key: str, action: str
) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await pilot.press("ctrl+o" if action == "receive" else "ctrl+r", key)
        assert screen.session.action == action
        assert screen.query_one("#scan-input").has_focus


async def test_a_command_word_typed_alone_switches_unless_an_item_has_that_code(
    store: Path,
) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await scan(pilot, "pick")
        assert screen.session.action == "pick"
        assert message(screen).startswith("command PICK: pick")
        make_service(store).add("MOVE", "An item called move", quantity=5)
        await scan(pilot, "move")
        assert screen.session.action == "pick"
        assert message(screen) == "MOVE -1 → 4"


async def test_count_with_no_session_and_no_location_is_refused(store: Path) -> None:
    before = store.read_bytes()
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        bells = Bells(app)
        screen = await scan_mode(app, pilot)
        await pilot.press("ctrl+y")
        assert message(screen).startswith("count: no count session is open; scan a location")
        assert bells.rung == 1
        assert screen.session.action == "receive"
        await scan(pilot, "*COUNT*")
        assert message(screen).startswith("command COUNT: count: no count session is open")
        assert not isinstance(app.screen, CountPicker)
    assert store.read_bytes() == before
    assert make_service(store).stocktake.sessions() == [], "no session over all items"


async def test_count_asks_which_open_session_and_shows_it(store: Path) -> None:
    service = make_service(store)
    service.stocktake.start(category="Supplies")
    service.stocktake.start(location="A1", reason="aisle A")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await scan_mode(app, pilot)
        await scan(pilot, "*COUNT*")
        await wait_for(pilot, lambda: isinstance(app.screen, CountPicker))
        picker = app.screen
        listed = picker.query_one(OptionList)
        shown = [str(listed.get_option_at_index(n).prompt) for n in range(listed.option_count)]
        assert shown[0].startswith("#2 at A1 · started just now by ")
        assert shown[0].endswith(" · 0 of 2 lines counted")
        assert shown[1].startswith("#1 in Supplies · started just now")
        assert shown[2] == "Start a new count: scan a location first"
        assert listed.get_option_at_index(2).disabled
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.session.count_session == 1
        assert counting(screen) == "Counting into count #1 in Supplies: 0 of 1 lines counted"
        await scan(pilot, "TAPE-1")
        assert counting(screen) == "Counting into count #1 in Supplies: 1 of 1 lines counted"
        await pilot.press("f2")
        assert counting(screen) == "", "shown only while counting"
        await pilot.press("f4")
        assert screen.session.action == "count", "the chosen session stays chosen"
    assert stored(store, "TAPE-1") == 8


async def test_escape_in_the_session_list_counts_nothing(store: Path) -> None:
    make_service(store).stocktake.start(location="A1")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await pilot.press("f3", "f4")
        await wait_for(pilot, lambda: isinstance(app.screen, CountPicker))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.session.action == "pick"
        assert message(screen) == "count: no session chosen, nothing to count into"


async def test_a_scan_into_the_session_list_chooses_nothing(store: Path) -> None:
    make_service(store).stocktake.start(location="A1")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, CountPicker))
        await scan(pilot, "NUT-1")  # the operator scanned before looking
        assert isinstance(app.screen, CountPicker), "its enter chose no session"
        await pilot.press("down", "up", "enter")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.session.count_session == 1
    assert stored(store, "NUT-1") == 25


async def test_the_preferences_scanner_table_sets_the_codes(store: Path, config_file: Path) -> None:
    config_file.write_text(
        '[scanner]\nprefix = "]C1"\nsuffix = "~"\ncommand_prefix = "#"\ncommand_suffix = "#"\n'
    )
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scan_mode(app, pilot)
        await scan(pilot, "]C1#pick#~")
        assert screen.session.action == "pick"
        await scan(pilot, f"]C1{BARCODE}~")
        assert message(screen) == "BOLT-1 -1 → 39"
        await scan(pilot, "*DONE*")  # the default syntax is not a command here: an unknown code
        assert isinstance(app.screen, ScanScreen) and stored(store, "BOLT-1") == 39
    labels = run_atlas("labels", "commands", db=store)
    assert labels.code == 0 and "#PICK#" in labels.out and "*PICK*" not in labels.out


def test_a_scanner_table_scan_mode_cannot_use_is_refused(tmp_path: Path, config_file: Path) -> None:
    config_file.write_text('[scanner]\ncommand_prefix = ""\ncommand_suffix = ""\n')
    store = tmp_path / "new.json"
    # What `atlas` (the app) checks before it opens or creates the store.
    with pytest.raises(PreferencesError, match=r"scanner\.command_prefix: a command prefix"):
        check_preferences(Settings.from_env(storage_path=store))
    labels = run_atlas("labels", "commands", db=store)
    assert labels.code == 2 and labels.err.count("\n") == 1
    assert "config.toml line 2: scanner.command_prefix: a command prefix" in labels.err
    assert not store.exists()
