"""Audit at hand: history rows say from → to, what changed, why, who and when; the recent
changes screen lists everyone's latest movements live and jumps to an item; a jump clears a
filter that hides its item, and says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import run_atlas, screen_lines
from test_app import ready, rows, status, wait_for
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from atlas_tui.app import AtlasApp, make_app
from atlas_tui.factory import make_service
from screens.dialogs import HistoryDialog
from screens.items import ItemsScreen
from screens.recent import RecentScreen
from screens.reports import ReportsScreen
from screens.widgets.item_detail import ItemDetail

SOON = (datetime.now(UTC).date() + timedelta(days=6)).isoformat()


@pytest.fixture
def store(db: Path) -> Path:
    """W-1 added, renamed, received into a lot at B2, adjusted with a reason, moved home;
    BOLT-1 beside it. Changes by `maria`, the last one by `omar`."""
    service = make_service(db)
    service.user = "maria"
    service.add("BOLT-1", "Bolt", "Fasteners", 40, "A1", 5)
    service.add("W-1", "Widget", "Tools", 10, "A1", 2, 50)
    service.update("W-1", name="Widget Pro")
    service.receive("W-1", 7, location="B2", lot="L7", expiry=SOON)
    other = make_service(db)
    other.user = "omar"
    other.adjust("W-1", -3, "broken in transit")
    return db


def text(app: AtlasApp) -> str:
    return "\n".join(screen_lines(app))


def notices(app: AtlasApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_history_rows_say_what_changed_who_and_when(
    store: Path, size: tuple[int, int]
) -> None:
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        screen = await ready(app, pilot)
        screen.select_sku("W-1")
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryDialog))
        await wait_for(pilot, lambda: "broken in transit" in text(app))
        shown = text(app)
        # Newest first: the adjust by omar, from → to, then the lot received at B2 by maria.
        assert "adjust 17→14 (-3) · omar" in shown
        assert "receive 10→17 (+7) · maria" in shown
        assert "B2 lot L7 0→7" in shown
        # The update says which field, old → new; the add how much it started with.
        assert "update 10→10 · maria" in shown
        assert "name: 'Widget' → 'Widget Pro'" in shown
        assert "add 0→10 (+10) · maria" in shown
        assert shown.index("adjust 17→14") < shown.index("receive 10→17")
        assert datetime.now(UTC).strftime("%Y-%m-%d") in shown  # when
        # Nothing runs off the right edge: every line fits the terminal.
        assert all(len(line.rstrip()) <= size[0] for line in screen_lines(app))
        await pilot.press("escape")
        assert isinstance(app.screen, ItemsScreen)


async def test_the_detail_pane_rows_say_from_to_and_who(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await ready(app, pilot)
        screen.select_sku("W-1")
        detail = screen.query_one("#detail", ItemDetail)
        await wait_for(pilot, lambda: "omar" in detail.text)
        pane = detail.text
        assert "adjust 17→14 (-3) · omar" in pane
        assert "receive 10→17 (+7) · maria  B2 lot L7 0→7" in pane
        assert "update 10→10 · maria  name: 'Widget' →" in pane  # cut to fit, with …


async def open_recent(app: AtlasApp, pilot: Pilot[None]) -> RecentScreen:
    await ready(app, pilot)
    await pilot.press("H")
    await wait_for(pilot, lambda: isinstance(app.screen, RecentScreen))
    screen = app.screen
    assert isinstance(screen, RecentScreen)
    await wait_for(pilot, lambda: bool(screen.movements.movements))
    return screen


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_recent_changes_list_everyone_newest_first(
    store: Path, size: tuple[int, int]
) -> None:
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        recent = await open_recent(app, pilot)
        listed = recent.movements.movements
        assert [(m.sku, m.kind, m.user) for m in listed[:3]] == [
            ("W-1", "adjust", "omar"),
            ("W-1", "receive", "maria"),
            ("W-1", "update", "maria"),
        ]
        shown = text(app)
        assert "W-1  adjust 17→14 (-3) · omar" in shown
        assert "broken in transit" in shown
        assert "5 changes, newest first" in shown
        assert all(len(line.rstrip()) <= size[0] for line in screen_lines(app))
        await pilot.press("escape")
        assert isinstance(app.screen, ItemsScreen)
        assert app.check_action("recent", ()) is True


async def test_another_process_change_shows_without_a_key_and_the_cursor_stays(
    store: Path,
) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        recent = await open_recent(app, pilot)
        assert app.check_action("recent", ()) is False  # its key is not offered on itself
        await pilot.press("down", "down")  # on the update
        current = recent.movements.current
        assert current is not None and current.kind == "update"
        done = run_atlas("adjust", "--sku", "BOLT-1", "--delta", "-4", "--reason", "to line 3",
                         db=store)  # fmt: skip
        assert done.code == 0, done.err
        await wait_for(pilot, lambda: recent.movements.movements[0].sku == "BOLT-1")
        newest = recent.movements.movements[0]
        assert (newest.kind, newest.quantity_before, newest.quantity_after) == ("adjust", 40, 36)
        assert "BOLT-1  adjust 40→36 (-4)" in text(app) and "to line 3" in text(app)
        # The cursor is still on the row it was on, now one further down.
        current = recent.movements.current
        assert current is not None and current.kind == "update" and current.sku == "W-1"
        assert recent.movements.highlighted == 3


async def test_enter_on_a_change_jumps_to_its_item(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        recent = await open_recent(app, pilot)
        # The oldest change: BOLT-1 added.
        await pilot.press("end")
        current = recent.movements.current
        assert current is not None and current.sku == "BOLT-1"
        await pilot.press("enter")
        assert isinstance(app.screen, ItemsScreen)
        item = app.screen.table.current
        assert item is not None and item.sku == "BOLT-1"


async def test_a_jump_under_a_hiding_filter_clears_it_and_says_so(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash", "w", "down")  # filter: only W-1 matches
        await wait_for(pilot, lambda: rows(screen) == ["W-1"])
        screen.category = "Tools"
        screen.views = {"low"}
        # From recent changes, BOLT-1 (hidden by the filter, the category and the view).
        await open_recent(app, pilot)
        await pilot.press("end", "enter")
        assert isinstance(app.screen, ItemsScreen)
        await wait_for(pilot, lambda: "filter cleared to show BOLT-1" in notices(app))
        item = screen.table.current
        assert item is not None and item.sku == "BOLT-1"
        assert rows(screen) == ["BOLT-1", "W-1"]
        assert screen.query_one("#filter", Input).value == ""
        assert (screen.category, screen.location, screen.views) == ("", "", set())
        assert "only" not in status(screen) and "category" not in status(screen)


async def test_a_jump_to_a_shown_item_leaves_the_filter(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash", "b", "o", "enter")
        await wait_for(pilot, lambda: rows(screen) == ["BOLT-1"])
        screen.select_sku("bolt-1")
        await pilot.pause()
        assert rows(screen) == ["BOLT-1"]
        assert "filter cleared" not in notices(app)


async def test_a_report_jump_under_a_location_pick_clears_it(store: Path) -> None:
    make_service(store).add("LOW-9", "Low one", "Other", 1, "Z9", 5)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(app, pilot)
        screen.location = "B2"  # as the location pick (`l`) sets it
        screen._show()
        screen._read_holders()
        await wait_for(pilot, lambda: rows(screen) == ["W-1"])
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReportsScreen))
        low = app.screen.query_one("#low", DataTable)
        await wait_for(pilot, lambda: low.row_count == 1)
        await pilot.press("enter")
        assert app.screen is screen
        await wait_for(pilot, lambda: "filter cleared to show LOW-9" in notices(app))
        item = screen.table.current
        assert item is not None and item.sku == "LOW-9"
        assert "location" not in status(screen)
