"""Stock lines in the app: stock at several locations, transfers, counts at a location, the
detail pane's lines and the locations screens, through Pilot against a real store."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import Terminal, poll, screen_lines
from test_app import ready, type_into, wait_for
from textual.command import CommandList
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static

from atlas_tui.app import AtlasApp, make_app
from atlas_tui.factory import make_service
from screens.dialogs import AdjustDialog, HistoryDialog, PickDialog
from screens.help import key_help
from screens.items import ItemsScreen
from screens.locations import LocationScreen, LocationsScreen
from screens.stock_dialogs import TransferDialog
from screens.widgets.item_detail import ItemDetail


@pytest.fixture
def store(json_db: Path) -> Path:
    """W-1 with nothing on hand, at home A1; G-1 with 3 at G1."""
    service = make_service(json_db)
    service.add("G-1", "Gasket", "Seals", 3, "G1")
    service.add("W-1", "Widget", "Parts", 0, "A1")
    return json_db


def lines(path: Path, sku: str = "W-1") -> dict[str, int]:
    """Where the stored stock is: location -> quantity."""
    found: dict[str, int] = {}
    for line in make_service(path).stock(sku):
        found[line.location] = found.get(line.location, 0) + line.quantity
    return found


def shown(app: AtlasApp, sku: str = "W-1") -> str:
    """The item's row as the screen shows it."""
    return next((line for line in screen_lines(app) if line.startswith(f"{sku} ")), "")


def detail(screen: ItemsScreen) -> str:
    return screen.query_one("#detail", ItemDetail).text


async def adjust(app: AtlasApp, pilot: Pilot[None], amount: str, at: str = "") -> None:
    """The adjust dialog: amount, then (past the reason) the location, as an operator types."""
    await pilot.press("enter")
    assert isinstance(app.screen, AdjustDialog)
    await type_into(pilot, amount)
    if at:
        await pilot.press("tab", "tab")
        await type_into(pilot, at)  # the prefilled home is selected: typing replaces it
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ItemsScreen))


async def test_stock_at_several_locations_through_the_app(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await ready(app, pilot)
        screen.select_sku("W-1")
        await pilot.pause()

        # Received at the home (the dialog's location starts as the home), then at B2.
        await adjust(app, pilot, "+10")
        assert lines(store) == {"A1": 10}
        await adjust(app, pilot, "+6", at="B2")
        assert lines(store) == {"A1": 10, "B2": 6}
        await wait_for(pilot, lambda: "A1 +1" in shown(app))
        assert " 16 " in shown(app)  # one row, the total

        # Transfer 4 from B2 (the second choice) to C3.
        await pilot.press("x")
        assert isinstance(app.screen, TransferDialog)
        choices = [str(o.prompt) for o in app.screen.query_one("#from", OptionList).options]
        assert choices[0].startswith("A1  10 pcs") and "home" in choices[0]
        assert choices[1].startswith("B2  6 pcs")
        await pilot.press("down", "enter")  # choose B2: the focus goes on to the destination
        await type_into(pilot, "C3")
        await pilot.press("tab")
        await type_into(pilot, "4")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ItemsScreen))
        assert lines(store) == {"A1": 10, "B2": 2, "C3": 4}
        await wait_for(pilot, lambda: "A1 +2" in shown(app))
        assert " 16 " in shown(app)

        # More than a location holds: refused in the dialog, which stays open.
        await pilot.press("x", "enter")  # from A1
        await type_into(pilot, "C3")
        await pilot.press("tab")
        await type_into(pilot, "99")
        await pilot.press("enter")
        assert isinstance(app.screen, TransferDialog)
        error = str(app.screen.query_one("#from-error", Static).render())
        assert "has 10 at A1, cannot take 99" in error
        await pilot.press("escape")
        assert lines(store) == {"A1": 10, "B2": 2, "C3": 4}

        # Taken from C3, then B2 counted at 5.
        await adjust(app, pilot, "-3", at="C3")
        assert lines(store) == {"A1": 10, "B2": 2, "C3": 1}
        await adjust(app, pilot, "=5", at="B2")
        assert lines(store) == {"A1": 10, "B2": 5, "C3": 1}
        history = make_service(store).history("W-1")
        assert [m.kind for m in history[:4]] == ["count", "adjust", "transfer", "adjust"]
        await wait_for(pilot, lambda: " 16 " in shown(app) and "A1 +2" in shown(app))

        # The detail pane lists the lines, and the history says from → to and which lines.
        await wait_for(pilot, lambda: "B2  5 pcs" in detail(screen))
        text = detail(screen)
        assert "A1  10 pcs" in text and "C3  1 pcs" in text
        user = history[0].user
        # From → to, who, then where: the quantity and the lines touched.
        assert f"transfer 16→16 · {user}  B2 → C3" in text
        assert f"count 13→16 (+3) · {user}" in text

        # Another process receives a lot expiring in 6 days at D4: caught up, and marked.
        soon = (datetime.now(UTC).date() + timedelta(days=6)).isoformat()
        make_service(store).receive("W-1", 7, location="D4", lot="L7", expiry=soon)
        await wait_for(pilot, lambda: "A1 +3" in shown(app))
        await wait_for(pilot, lambda: "D4  7 pcs" in detail(screen))
        assert f"D4  7 pcs  expires in 6 d  lot L7  exp {soon}" in detail(screen)

        # The full history says where each change happened too.
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryDialog))
        await wait_for(pilot, lambda: "B2 → C3; B2 6→2, C3 0→4" in "\n".join(screen_lines(app)))
        assert "D4 lot L7 0→7" in "\n".join(screen_lines(app))
        await pilot.press("escape")


async def test_an_expired_line_is_marked(store: Path) -> None:
    service = make_service(store)
    past = (datetime.now(UTC).date() - timedelta(days=2)).isoformat()
    later = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()
    service.receive("W-1", 2, location="A1", lot="OLD", expiry=past)
    service.receive("W-1", 5, location="A1", lot="NEW", expiry=later)
    app = make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await ready(app, pilot)
        screen.select_sku("W-1")
        await wait_for(pilot, lambda: "lot OLD" in detail(screen))
        text = detail(screen)
        assert f"A1  2 pcs  expired  lot OLD  exp {past}" in text
        assert f"A1  5 pcs  lot NEW  exp {later}" in text
        assert "expires in" not in text


async def test_the_locations_screen_lists_and_opens_locations(store: Path) -> None:
    service = make_service(store)
    soon = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    service.receive("W-1", 8, location="A1")
    service.receive("W-1", 5, location="B2", lot="L[bold]1", expiry=soon)
    service.receive("G-1", 2, location="B2")
    service.places.create("Z9", "Spare [red]shelf")
    service.places.retire("Z9")
    app = make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        await ready(app, pilot)
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, LocationsScreen))
        locations = app.screen
        assert isinstance(locations, LocationsScreen)
        await wait_for(pilot, lambda: bool(locations.codes))
        assert locations.codes == ["A1", "B2", "G1", "Z9"]
        text = "\n".join(screen_lines(app))
        assert "4 locations · 18 units" in text
        z9 = next(line for line in screen_lines(app) if line.lstrip().startswith("Z9"))
        assert "Spare [red]shelf" in z9 and "retired" in z9  # user text as typed, not markup
        b2 = next(line for line in screen_lines(app) if line.lstrip().startswith("B2"))
        assert b2.split()[1:] == ["2", "7"]  # two items, seven units

        await pilot.press("down", "enter")  # B2
        await wait_for(pilot, lambda: isinstance(app.screen, LocationScreen))
        place = app.screen
        assert isinstance(place, LocationScreen)
        await wait_for(pilot, lambda: place.skus == ["G-1", "W-1"])
        text = "\n".join(screen_lines(app))
        assert "B2 · 2 items · 7 units" in text
        widget = next(line for line in screen_lines(app) if line.lstrip().startswith("W-1"))
        assert "L[bold]1" in widget and f"{soon} expires in 3 d" in widget and " 5 " in widget
        table = place.query_one("#lines", DataTable)
        assert table.row_count == 2

        await pilot.press("escape")
        assert app.screen is locations
        await pilot.press("escape")
        assert isinstance(app.screen, ItemsScreen)

        # A line chosen at a location puts its item under the cursor on the items screen.
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, LocationsScreen))
        await wait_for(pilot, lambda: bool(app.screen.codes))  # type: ignore[attr-defined]
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LocationScreen))
        await wait_for(pilot, lambda: bool(app.screen.skus))  # type: ignore[attr-defined]
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ItemsScreen))
        items = app.screen
        assert isinstance(items, ItemsScreen)
        current = items.table.current
        assert current is not None and current.sku == "W-1"


async def test_locations_and_transfer_are_in_the_palette_and_footer(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(160, 32)) as pilot:
        await ready(app, pilot)
        assert "x Transfer" in screen_lines(app)[-1]
        # The footer has no room left for the app's keys: help lists them.
        found = {(row.keys, row.description) for row in key_help(app.screen)}
        assert (("L",), "Locations: where stock is") in found
        assert (("x",), "Transfer stock between locations…") in found
        for typed, command, opens in (
            ("transfer", "Transfer stock between locations", TransferDialog),
            ("where stock", "Locations: where stock is", LocationsScreen),
        ):
            await pilot.press("ctrl+p")
            await type_into(pilot, typed)
            commands = app.screen.query_one(CommandList)
            await wait_for(pilot, lambda: commands.option_count > 0 and commands.highlighted == 0)  # noqa: B023
            assert command in str(commands.get_option_at_index(0).prompt)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, opens))  # noqa: B023
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, ItemsScreen))


# The real `atlas` command in tmux --------------------------------------------------------------


def row_of(term: Terminal, sku: str = "W-1") -> str:
    return next((line for line in term.screen().splitlines() if line.startswith(f"{sku} ")), "")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_stock_lines_in_a_real_terminal(store: Path, tmp_path: Path) -> None:
    """Receive at two locations, transfer part, pick, count a location: each typed in one
    burst as a fast typist or a scanner sends it, checked on the screen and in the store."""
    term = Terminal(tmp_path, store)
    try:
        term.wait_for("2 items", "the items screen")
        term.burst("/wid\r")  # filter to the widget, back to the table
        poll(lambda: "1 of 2 items" in term.screen(), "the filter")

        term.burst("=+10\r")  # at the home: the dialog's location starts as A1
        poll(lambda: lines(store) == {"A1": 10}, "the receipt at A1")
        poll(lambda: row_of(term).split()[-4:-2] == ["10", "A1"], "10 at A1 shown")

        term.burst("=+6\t\tB2\r")  # amount, past the reason, the location typed over the home
        poll(lambda: lines(store) == {"A1": 10, "B2": 6}, "the receipt at B2")
        poll(lambda: "16 A1 +1" in row_of(term), "16 at A1 and one more location shown")

        term.burst("x\x1b[B\rC3\t4\r")  # transfer: from the second location, to C3, 4
        poll(lambda: lines(store) == {"A1": 10, "B2": 2, "C3": 4}, "the transfer")
        poll(lambda: "16 A1 +2" in row_of(term), "the total kept, two more locations shown")
        assert make_service(store).history("W-1")[0].details["lines"] == [
            ["B2", "", "", 6, 2],
            ["C3", "", "", 0, 4],
        ]

        term.burst("=-3\t\tC3\r")  # picked from C3
        poll(lambda: lines(store) == {"A1": 10, "B2": 2, "C3": 1}, "the pick at C3")
        poll(lambda: "13 A1 +2" in row_of(term), "13 on hand shown")

        term.burst("==5\t\tB2\r")  # B2 counted: 5
        poll(lambda: lines(store) == {"A1": 10, "B2": 5, "C3": 1}, "the count at B2")
        poll(lambda: "16 A1 +2" in row_of(term), "16 on hand shown")
        term.wait_for("B2  5 pcs", "the detail pane's lines")
        screen = term.screen()
        assert "A1  10 pcs" in screen and "C3  1 pcs" in screen
        term.wait_for("count 13→16 (+3)", "the count in the pane's history (once the toast goes)")
        assert make_service(store).history("W-1")[0].kind == "count"
    finally:
        term.close()


async def test_the_location_filter_finds_stock_away_from_home(store: Path) -> None:
    """`l` then a location: the items kept there (shown `A1 +1` when stock is elsewhere too)
    and the items with stock there; a transfer away takes the item out of the view."""
    service = make_service(store)
    service.receive("W-1", 10)
    service.receive("W-1", 4, location="B2")
    app = make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await ready(app, pilot)

        async def filter_on(location: str, skus: list[str]) -> None:
            await pilot.press("l")
            await wait_for(pilot, lambda: isinstance(app.screen, PickDialog))
            choices = app.screen.query_one(OptionList)
            wanted = next(
                n for n in range(choices.option_count)
                if str(choices.get_option_at_index(n).prompt) == location
            )  # fmt: skip
            choices.highlighted = wanted
            await pilot.press("enter")
            await wait_for(pilot, lambda: [r.sku for r in screen.table.items] == skus)

        await filter_on("A1", ["W-1"])  # its home, though it is shown as "A1 +1"
        await filter_on("B2", ["W-1"])  # not its home: stock is there
        await filter_on("G1", ["G-1"])
        await filter_on("B2", ["W-1"])
        service.transfer("W-1", 4, "B2", "A1")  # another process empties B2
        await wait_for(pilot, lambda: [r.sku for r in screen.table.items] == [])


async def test_a_transfer_of_everything_held_and_a_refused_destination(store: Path) -> None:
    """An empty quantity moves all the chosen location holds; a destination that is the
    source, or retired, is refused beside the field with nothing changed."""
    service = make_service(store)
    service.receive("W-1", 3)
    service.receive("W-1", 2, location="B2")
    service.places.create("Z9")
    service.places.retire("Z9")
    app = make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await ready(app, pilot)
        screen.select_sku("W-1")
        await pilot.pause()
        await pilot.press("x", "down", "enter")  # from B2
        await type_into(pilot, "Z9")
        await pilot.press("enter")
        dialog = app.screen
        assert isinstance(dialog, TransferDialog)
        assert "Z9 is retired" in str(dialog.query_one("#to-error", Static).render())
        await pilot.press("ctrl+u")
        await type_into(pilot, "b2")
        await pilot.press("enter")
        assert "is the location the stock is taken from" in str(
            dialog.query_one("#to-error", Static).render()
        )
        assert lines(store) == {"A1": 3, "B2": 2}
        await pilot.press("ctrl+u")
        await type_into(pilot, "A1")
        await pilot.press("enter")  # quantity left empty: all of B2's
        await wait_for(pilot, lambda: isinstance(app.screen, ItemsScreen))
        assert lines(store) == {"A1": 5}
        await wait_for(pilot, lambda: "A1 +" not in shown(app) and " 5 A1 " in shown(app))
