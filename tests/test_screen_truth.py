"""What the items screen shows is what the store holds: scrolled rows, changes in flight,
refusals that stay readable, and no terminal control in any text box."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support import screen_lines, settle
from test_app import ready, stored, wait_for
from textual.widgets import Input

from atlas_tui.app import make_app
from atlas_tui.factory import make_service
from screens.dialogs import EditItemDialog
from screens.widgets.item_table import SAVING_MARK
from screens.widgets.status_line import StatusLine


@pytest.fixture
def big(json_db: Path) -> Path:
    make_service(json_db).add_many(
        [{"sku": f"S{n:03}", "name": f"thing {n}", "quantity": 25} for n in range(300)]
    )
    return json_db


def row_of(app: object, sku: str) -> str:
    return next((line for line in screen_lines(app) if line.startswith(sku)), "")  # type: ignore[arg-type]


@contextmanager
def lock_held(db: Path) -> Iterator[threading.Event]:
    """Another writer holds the data lock until the yielded event is set."""
    holder = make_service(db)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.batch():
            held.set()
            release.wait(60)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(30)
    try:
        yield release
    finally:
        release.set()
        thread.join()


async def test_scrolled_rows_show_the_changed_figure_and_the_right_highlight(big: Path) -> None:
    app = make_app(big)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("end", "plus")
        await wait_for(pilot, lambda: stored(big, "S299") == 26)
        await settle(pilot)
        assert " 26 " in row_of(app, "S299"), screen_lines(app)
        await pilot.press("up", "up", "e")
        await wait_for(pilot, lambda: isinstance(app.screen, EditItemDialog))
        dialog = app.screen
        assert isinstance(dialog, EditItemDialog) and dialog.item is not None
        assert dialog.item.sku == screen.table.current.sku == "S297"  # type: ignore[union-attr]
        await pilot.press("escape")
        await pilot.press("m")
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press(*"Z9", "enter")
        await wait_for(pilot, lambda: make_service(big).get("S297").location == "Z9")
        await settle(pilot)
        assert "Z9" in row_of(app, "S297"), screen_lines(app)
        # Sorted and filtered, the same holds.
        await pilot.press("O", "slash", *"s00", "enter", "home", "plus")
        await wait_for(pilot, lambda: stored(big, "S009") == 26)
        await settle(pilot)
        assert " 26 " in row_of(app, "S009"), screen_lines(app)


async def test_a_change_waiting_for_the_store_is_marked_until_saved(json_db: Path) -> None:
    make_service(json_db).add("A-1", "Anvil", quantity=10)
    app = make_app(json_db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        with lock_held(json_db):
            await pilot.press("plus", "plus", "plus")
            await wait_for(pilot, lambda: SAVING_MARK in row_of(app, "A-1"))
            assert " 13 " in row_of(app, "A-1")
            line = app.screen.query_one(StatusLine)
            await wait_for(pilot, lambda: "waiting for the lock held by" in str(line.render()))
            assert stored(json_db, "A-1") == 10
        await wait_for(pilot, lambda: stored(json_db, "A-1") == 13)
        await settle(pilot)
        await wait_for(pilot, lambda: SAVING_MARK not in row_of(app, "A-1"))
        assert " 13 " in row_of(app, "A-1")
        assert "saving" not in str(screen.query_one("#status").render())
        assert "│ saved" in str(line.render())
        # Three saves landing at once leave one toast about the item, not three.
        await pilot.pause()
        assert [note.message for note in app._notifications] == ["A-1: now 13"]


async def test_refusals_revert_stay_readable_and_merge_their_toasts(
    json_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_service(json_db).add("A-1", "Anvil", quantity=10)
    monkeypatch.setenv("ATLAS_LOCK_TIMEOUT", "0.3")
    app = make_app(json_db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        with lock_held(json_db):
            await pilot.press(*["plus"] * 8)
            await wait_for(pilot, lambda: not any(screen._in_flight.values()), timeout=30)
            await settle(pilot)
        notice = screen.query_one("#notice")
        assert notice.display and "data is busy" in str(notice.render())
        assert " 10 " in row_of(app, "A-1") and SAVING_MARK not in row_of(app, "A-1")
        assert len([note for note in app._notifications if "busy" in note.message]) == 1
        assert stored(json_db, "A-1") == 10
        app.clear_notifications()  # the toast is gone; the message is not
        await pilot.pause()
        assert "Not saved" in "\n".join(screen_lines(app))
        await pilot.press("escape")
        await pilot.pause()
        assert not notice.display


async def test_the_edit_dialog_never_hands_control_characters_to_the_terminal(
    json_db: Path,
) -> None:
    name = "N\x1b]52;c;SGVsbG8=\x07 \x1b]0;X\x07\u202e"
    make_service(json_db).add("A-1", name, quantity=1)
    app = make_app(json_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EditItemDialog))
        await pilot.pause()
        box = app.screen.query_one("#name", Input)
        assert "\x1b" not in box.value and "\\x1b]52" in box.value
        assert not any("\x1b" in line or "\x07" in line for line in screen_lines(app))
        # Untouched, the stored name stays exactly as it was; a new category saves alone.
        await pilot.press("tab", *"Tools", "enter")
        await wait_for(pilot, lambda: make_service(json_db).get("A-1").category == "Tools")
        assert make_service(json_db).get("A-1").name == name
        # Typed or pasted control characters are dropped from what is drawn, too.
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EditItemDialog))
        app.screen.query_one("#name", Input).value = "X\x1b]0;pwned\x07"
        await pilot.pause()
        assert not any("\x1b" in line or "\x07" in line for line in screen_lines(app))


@pytest.mark.parametrize("order", [[], ["o"]], ids=["by SKU", "by name"])
async def test_clearing_a_filter_keeps_the_cursor_row_on_screen(
    big: Path, order: list[str]
) -> None:
    """Filtered down to an item far down the list, then cleared: the table scrolls to where
    the cursor (and the detail pane) now are, instead of showing the top without a cursor."""
    app = make_app(big)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press(*order, "slash", *"thing 250", "enter")
        await wait_for(pilot, lambda: [row.sku for row in screen.table.items] == ["S250"])
        await pilot.press("slash", "escape")
        await wait_for(pilot, lambda: len(screen.table.items) == 300)
        await settle(pilot)
        assert screen.table.current is not None and screen.table.current.sku == "S250"
        assert row_of(app, "S250"), "the cursor's row is not on screen"
