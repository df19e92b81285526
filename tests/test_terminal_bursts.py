"""Keys that arrive in one burst (SSH, a paste, a fast typist) do what they do one by one.

Pilot waits for each key, so only a real terminal shows this: tmux writes each burst to the
app's terminal in one go, as SSH does.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Terminal, poll

from atlas_tui.factory import make_service

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ITEMS = [
    ("G-1", "Gamma lamp", 5),
    ("U-1", "Utility knife", 7),
    ("W-1", "Wrench", 9),
    ("X-1", "Xylophone", 3),
]


@pytest.fixture
def terminal(json_db: Path, tmp_path: Path) -> Iterator[Terminal]:
    service = make_service(json_db)
    for sku, name, quantity in ITEMS:
        service.add(sku, name, "Tools", quantity, "A1")
    term = Terminal(tmp_path, json_db)
    try:
        term.wait_for("4 items", "the items screen")
        poll(lambda: "history…" not in term.screen(), "the detail pane")
        yield term
    finally:
        term.close()


def numbered_store(tmp_path: Path, size: int) -> tuple[Path, Terminal]:
    """`atlas` on a store of `size` items S000… (25 each), its first screen drawn."""
    db = tmp_path / "numbered.json"
    width = len(str(size - 1))
    make_service(db).add_many(
        [{"sku": f"S{n:0{width}}", "name": f"thing {n}", "quantity": 25} for n in range(size)]
    )
    term = Terminal(tmp_path, db)
    try:
        term.wait_for(f"{size} items", "the items screen")
    except BaseException:
        term.close()
        raise
    return db, term


def quantities(db: Path) -> dict[str, int]:
    return {item.sku: item.quantity for item in make_service(db).list_items()}


def test_a_typed_filter_reaches_the_filter_box_whole(terminal: Terminal, json_db: Path) -> None:
    """`/utility` once undid a change and opened the stocktake; `/wrench` opened reports;
    `/oxyz` changed the sort."""
    before = quantities(json_db)
    for word, shown in [("utility", "1 of 4 items"), ("wrench", "1 of 4 items"),
                        ("oxyz", "0 of 4 items")]:  # fmt: skip
        terminal.burst(f"/{word}")
        terminal.wait_for(f" {word}\n", f"the filter box to hold {word!r}")
        terminal.wait_for(shown, f"the filter {word!r}")
        screen = terminal.screen()
        assert "Count sessions" not in screen and "Reports" not in screen.splitlines()[0]
        assert "Not undone" not in screen and "SKU↑" in screen, screen
        terminal.keys("Escape")
        # Only then the next burst: ESC followed at once by `/` reads as alt+/ in any terminal.
        terminal.wait_for("/ filter by SKU or name", "the filter to clear")
    assert quantities(json_db) == before
    assert [m.kind for m in make_service(json_db).history("U-1")] == ["add"]


def test_filter_enter_and_adjusts_in_one_burst(terminal: Terminal, json_db: Path) -> None:
    """`/gam⏎++` once opened the Move dialog: now it filters, goes back and adds two."""
    terminal.burst("/gam\r++")
    poll(lambda: quantities(json_db)["G-1"] == 7, "two +1 on Gamma lamp")
    terminal.wait_for("G-1: now 7", "the confirmation")
    screen = terminal.screen()
    assert "1 of 4 items" in screen and "To location" not in screen, screen
    assert quantities(json_db) == {"G-1": 7, "U-1": 7, "W-1": 9, "X-1": 3}


def test_a_new_item_typed_ahead_fills_each_field(terminal: Terminal, json_db: Path) -> None:
    """`n` then `R1⇥Racewidget⇥Tools⏎` in one burst once put everything into the SKU box."""
    terminal.burst("nR1\tRacewidget\tTools\r")
    poll(lambda: "R1" in quantities(json_db), "the new item")
    item = make_service(json_db).get("R1")
    assert (item.sku, item.name, item.category) == ("R1", "Racewidget", "Tools")
    terminal.wait_for("5 items", "the new row")


def test_scrolled_rows_repaint_after_a_change(tmp_path: Path) -> None:
    """On 300 items, `End` then `+`: the bottom row itself shows the new figure."""
    db, term = numbered_store(tmp_path, 300)
    try:
        term.keys("End")
        poll(lambda: "S299" in term.screen(), "the last row")
        term.keys("+")
        poll(lambda: make_service(db).get("S299").quantity == 26, "the saved adjustment")
        term.wait_for("S299: now 26", "the confirmation")
        row = next(line for line in term.screen().splitlines() if line.startswith("S299"))
        assert " 26 " in row and " 25 " not in row, row
    finally:
        term.close()


def test_dialogs_typed_ahead_land_in_their_fields(terminal: Terminal, json_db: Path) -> None:
    """The adjust dialog's amount and reason, typed in one go with the key that opens it."""
    terminal.burst("/wre\r=-3\tpicked\r")
    poll(lambda: quantities(json_db)["W-1"] == 6, "the adjustment")
    latest = make_service(json_db).history("W-1")[0]
    assert (latest.delta, latest.reason) == (-3, "picked")


def test_a_stocktake_typed_ahead_counts_and_applies(terminal: Terminal, json_db: Path) -> None:
    """Open the stocktake, start a count at A1, count two items and apply: one burst."""
    terminal.keys("t", "F2", "A1", "Enter", "G-1 4", "Enter", "X-1 3", "Enter", "F4", "y")
    poll(lambda: quantities(json_db)["G-1"] == 4, "the applied count")
    assert quantities(json_db) == {"G-1": 4, "U-1": 7, "W-1": 9, "X-1": 3}
    assert [m.kind for m in make_service(json_db).history("G-1")] == ["count", "add"]


def test_cursor_keys_are_not_overtaken_by_a_priority_key(terminal: Terminal) -> None:
    """`↓↓↓ ctrl+p` once opened the palette first and sent the cursor keys into it."""
    terminal.keys("Down", "Down", "Down", "C-p")
    terminal.wait_for("Search for commands", "the command palette")
    terminal.keys("Escape")
    poll(lambda: " X-1  Xylophone" in terminal.screen(), "the detail pane of the fourth row")


def test_delete_then_a_key_acts_on_the_row_that_took_its_place(tmp_path: Path) -> None:
    """`delete y +` in one burst: the `+` goes to the row that took the deleted one's place,
    not to the deleted item (a reload in the background used to leave it on screen)."""
    db, term = numbered_store(tmp_path, 5000)
    try:
        term.keys("DC", "y", "+")
        poll(lambda: make_service(db).get("S0001").quantity == 26, "+1 on the next row")
        term.wait_for("4999 items", "the row to go")
        assert "no item" not in term.screen()
        assert [item.sku for item in make_service(db).list_items()][:2] == ["S0001", "S0002"]
    finally:
        term.close()


def test_a_click_typed_ahead_waits_for_the_keys_before_it(
    terminal: Terminal, json_db: Path
) -> None:
    """`/ab`, a click on a row, `+`: the click lands after the filter has the focus, so it
    takes the focus back to the table and `+` adds one to the clicked row."""
    terminal.wait_for("W-1  Wrench", "the rows")
    row = next(n for n, line in enumerate(terminal.screen().splitlines()) if "W-1" in line)
    click = f"\x1b[<0;3;{row + 1}M\x1b[<0;3;{row + 1}m"  # SGR mouse: press, release
    terminal.burst("/w" + click + "+")
    poll(lambda: quantities(json_db)["W-1"] == 10, "+1 on the clicked row")
    assert "w+" not in terminal.screen()


@pytest.mark.parametrize("suffix", [".db", ".json"])
def test_keys_typed_while_a_big_store_loads_act_on_what_is_shown(
    tmp_path: Path, suffix: str
) -> None:
    """The first screenful shows before the rest is read; keys typed then work on it, and
    what they changed is still shown once every item is in (and the filter covers all).
    Keys typed with one that changes what the list shows act on the list it brings."""
    db = tmp_path / f"big{suffix}"
    size = 40_000
    make_service(db).add_many(
        [{"sku": f"B{n:05d}", "name": f"bulk {n}", "quantity": 10} for n in range(size)]
    )
    term = Terminal(tmp_path, db)
    try:
        term.wait_for("B00000", "the first rows")
        term.burst("++")  # on B00000, whether or not the rest is read yet
        term.burst("/b39999")
        term.wait_for(f"1 of {size} items", "the filter over every item")
        # Typed together, `Home +` are meant for every item shown again, not for the one row
        # of the filter (B39999, still under the cursor once every item shows): `Home` used
        # to land there while every item was put in order again, and be lost.
        term.keys("Escape", "Home", "+")
        term.wait_for(f"\n {size} items ·", "every item")  # the status line, not "1 of …"
        poll(lambda: make_service(db).get("B00000").quantity == 13, "all three + saved")
        poll(lambda: any(line.startswith("B00000 ") and " 13 " in line
                         for line in term.screen().splitlines()), "B00000 at 13")  # fmt: skip
        assert make_service(db).get("B39999").quantity == 10
        term.keys("o", "End")  # the last by name, once they are sorted by name
        poll(lambda: any(line.startswith(" B09999 ") for line in term.screen().splitlines()),
             "the detail pane of B09999 (bulk 9999)")  # fmt: skip
    finally:
        term.close()


def test_keys_typed_as_the_app_starts_reach_the_items_screen(json_db: Path, tmp_path: Path) -> None:
    """A filter typed the moment `atlas` is started (a scanner, a script, a fast operator)
    goes to the filter box through its key: the table has the focus from the first frame,
    so `/` is never typed into the box itself."""
    service = make_service(json_db)
    for sku, name, quantity in ITEMS:
        service.add(sku, name, "Tools", quantity, "A1")
    term = Terminal(tmp_path, json_db)
    try:
        term.burst("/gam")  # before the app has drawn anything
        term.wait_for("1 of 4 items", "the filter applied")
        assert " gam" in term.screen() and "/gam" not in term.screen()
    finally:
        term.close()


def test_scan_mode_command_codes_and_ctrl_keys_in_a_real_terminal(
    terminal: Terminal, json_db: Path
) -> None:
    """Command codes in a scanner's burst, and the ctrl keys a terminal delivers, switch
    the action in their place among the scans."""
    terminal.burst("s*PICK*\rG-1\rG-1\r*RECEIVE*\rU-1\r")
    poll(lambda: quantities(json_db)["U-1"] == 8, "the scans")
    assert quantities(json_db)["G-1"] == 3
    terminal.keys("C-o")
    terminal.burst("W-1\r")
    poll(lambda: quantities(json_db)["W-1"] == 8, "a pick after ctrl+o")
    terminal.keys("C-y")
    terminal.wait_for("count: no count session is open", "ctrl+y asks for a count session")
    terminal.keys("C-g")
    terminal.wait_for("move: scan the location first", "ctrl+g: move")
    terminal.keys("C-t")
    terminal.wait_for("transfer: scan the source location", "ctrl+t: transfer")
    terminal.keys("C-r")
    terminal.burst("X-1\r*DONE*\r")
    terminal.wait_for("Scan mode: received", "back at the items after *DONE*")
    assert quantities(json_db) == {"G-1": 3, "U-1": 8, "W-1": 8, "X-1": 4}
