"""SVG snapshots of every screen and dialog at 80x24, 120x40 and 60x20, and of the status
line in each of its states (pytest-textual-snapshot).

The store is built, and the app run, with a fixed clock so that every run draws the same
picture; update the
snapshots deliberately with `pytest tests/test_snapshots.py --snapshot-update` and review
the diff (textual and the plugin are pinned in the test extra).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import settle
from textual.pilot import Pilot
from textual.screen import ModalScreen

from atlas_tui.app import AtlasApp
from atlas_tui.factory import make_service
from atlas_tui.media import DEMO_DIR
from screens.items import ItemsScreen

SIZES = [(80, 24), (120, 40), (60, 20)]
BY_SIZE = pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")


@pytest.fixture
def app(json_db: Path, monkeypatch: pytest.MonkeyPatch) -> AtlasApp:
    monkeypatch.setenv("ATLAS_USER", "ann")  # the status line names the user
    moments = (datetime(2026, 11, 2, 9, 0, tzinfo=UTC) + timedelta(hours=n) for n in range(999))
    service = make_service(json_db, clock=lambda: next(moments))
    service.add("A-100", "Anvil, forged", "Tools", 12, "A-01-1", 5, 40, {"supplier": "Acme"})
    service.add("B-200", "Bolt M6 [zinc]", "Fasteners", 3, "B-02-2", 10, 500)
    service.add("C-300", "Crate, large", "Packaging", 90, "C-03-1", 10, 60)
    service.add("D-400", "Drill 18 V", "Tools", 7, "A-01-2", 2, 0)
    service.adjust("A-100", -4, "picked for order")
    service.move("C-300", "C-09-4", "re-slotting")
    # The app's clock is fixed too: the detail pane's trend covers "the last 30 days".
    today = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
    return AtlasApp(make_service(json_db, clock=lambda: today), DEMO_DIR)


def until(condition: Callable[[Pilot[None]], bool]) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def wait(pilot: Pilot[None]) -> None:
        deadline = time.monotonic() + 10
        while not condition(pilot):
            assert time.monotonic() < deadline, "screen not ready in time"
            await pilot.pause(0.05)
        await pilot.pause()

    return wait


def items_loaded(pilot: Pilot[None]) -> bool:
    screen = pilot.app.screen_stack[-1] if pilot.app.screen_stack else None
    items = next((s for s in pilot.app.screen_stack if isinstance(s, ItemsScreen)), None)
    return screen is not None and items is not None and items.loaded


async def open_screen(pilot: Pilot[None], key: str, ready: Callable[[], bool]) -> None:
    await until(items_loaded)(pilot)
    await pilot.press(key)
    await until(lambda _: ready())(pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_items_screen(snap_compare, app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app, terminal_size=size, run_before=until(items_loaded))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_reports_screen(snap_compare, app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await open_screen(pilot, "r", lambda: type(app.screen).__name__ == "ReportsScreen")
        await settle(pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_media_screen(snap_compare, app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await open_screen(pilot, "f", lambda: getattr(app.screen, "state", "") == "ready")
        await pilot.press("b", "r", "e", "a", "k")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen(snap_compare, app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await open_screen(pilot, "question_mark", lambda: type(app.screen).__name__ == "HelpScreen")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@BY_SIZE
def test_adjust_dialog_with_a_refusal(snap_compare, app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await until(items_loaded)(pilot)
        await pilot.press("enter", "minus", "9", "9", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.fixture
def lines_app(app: AtlasApp) -> AtlasApp:
    """The same store with the drill at three locations, one lot expiring in 6 days."""
    moments = (datetime(2026, 11, 3, 9, 0, tzinfo=UTC) + timedelta(minutes=n) for n in range(99))
    service = make_service(app.service.repository.path, clock=lambda: next(moments))
    service.receive("D-400", 5, "delivery", location="B-05-1", lot="L7", expiry="2026-11-09")
    service.transfer("D-400", 2, "A-01-2", "Z-[dim]1", "overflow")
    service.places.create("Q-00", "Quarantine [bold]bay")
    service.places.retire("Q-00")
    return app


async def _on_drill(pilot: Pilot[None]) -> None:
    await until(items_loaded)(pilot)
    await pilot.press("slash", "d", "r", "i", "down")
    await until(lambda p: "B-05-1" in p.app.screen.query_one("#detail").text)(pilot)  # type: ignore[attr-defined]
    await settle(pilot)


@BY_SIZE
def test_items_screen_with_stock_lines(
    snap_compare, lines_app: AtlasApp, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(lines_app, terminal_size=size, run_before=_on_drill)


@BY_SIZE
def test_transfer_dialog(snap_compare, lines_app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await _on_drill(pilot)
        await pilot.press("x")
        await pilot.pause()

    assert snap_compare(lines_app, terminal_size=size, run_before=run_before)


@BY_SIZE
def test_locations_screens(snap_compare, lines_app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await open_screen(pilot, "L", lambda: bool(getattr(pilot.app.screen, "codes", None)))
        await pilot.press("down", "down", "down")  # B-05-1
        await pilot.press("enter")
        await until(lambda p: bool(getattr(p.app.screen, "skus", None)))(pilot)

    assert snap_compare(lines_app, terminal_size=size, run_before=run_before)


@BY_SIZE
def test_locations_list(snap_compare, lines_app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await open_screen(pilot, "L", lambda: bool(getattr(pilot.app.screen, "codes", None)))

    assert snap_compare(lines_app, terminal_size=size, run_before=run_before)


def _on(app: AtlasApp, name: str) -> Callable[[], bool]:
    return lambda: type(app.screen).__name__ == name


@pytest.fixture
def empty_app(json_db: Path, monkeypatch: pytest.MonkeyPatch) -> AtlasApp:
    monkeypatch.setenv("ATLAS_USER", "ann")
    return AtlasApp(make_service(json_db), DEMO_DIR)


@BY_SIZE
def test_empty_store(snap_compare, empty_app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(empty_app, terminal_size=size, run_before=until(items_loaded))


@BY_SIZE
def test_media_detail(snap_compare, app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await open_screen(pilot, "f", lambda: getattr(app.screen, "state", "") == "ready")
        await pilot.press("b", "r", "e", "a", "k")
        await pilot.pause()
        await pilot.press("down", "enter")
        await until(lambda _: _on(app, "MediaDetail")())(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@BY_SIZE
def test_message_log(snap_compare, app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await until(items_loaded)(pilot)
        await pilot.press("plus")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        # The log shows when each message came: pinned, so the picture does not change.
        moment = datetime(2026, 11, 3, 12, 0, 5)
        app.session.messages[:] = [replace(m, at=moment) for m in app.session.messages]
        await pilot.press("ctrl+l")
        await until(lambda _: _on(app, "MessageLogScreen")())(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@BY_SIZE
def test_stocktake_screen(snap_compare, app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    take = app.service.stocktake
    session = take.start(location="A-01-1", reason="weekly count")
    take.record(session["id"], "A-100", 7)

    async def run_before(pilot: Pilot[None]) -> None:
        await open_screen(pilot, "t", lambda: getattr(app.screen, "variance", None) is not None)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@BY_SIZE
def test_scan_screen(snap_compare, app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await open_screen(pilot, "s", _on(app, "ScanScreen"))
        await pilot.press(*"A-01-1", "enter", *"a-100", "enter")
        await until(lambda _: app.service.get("A-100").quantity == 9)(pilot)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@BY_SIZE
def test_recent_changes(snap_compare, app: AtlasApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await open_screen(pilot, "H", _on(app, "RecentScreen"))
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@BY_SIZE
@pytest.mark.parametrize(
    ("key", "screen"),
    [
        ("n", "NewItemDialog"),
        ("e", "EditItemDialog"),
        ("h", "HistoryDialog"),
        ("i", "ImportDialog"),
        ("u", "ConfirmDialog"),
    ],
    ids=["new", "edit", "history", "import", "undo"],
)
def test_dialog(snap_compare, app: AtlasApp, size: tuple[int, int], key: str, screen: str) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await open_screen(pilot, key, _on(app, screen))
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_selection_and_bulk_count(snap_compare, app: AtlasApp) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await until(items_loaded)(pilot)
        await pilot.press("space", "space", "equals_sign")
        await until(lambda _: isinstance(app.screen, ModalScreen))(pilot)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_scan_count_asks_which_session(snap_compare, app: AtlasApp) -> None:  # type: ignore[no-untyped-def]
    app.service.stocktake.start(location="A-01-1", reason="weekly count")

    async def run_before(pilot: Pilot[None]) -> None:
        await open_screen(pilot, "s", _on(app, "ScanScreen"))
        await pilot.press(*"A-01-1", "enter")
        await settle(pilot)
        await pilot.press("f4")
        await until(lambda _: isinstance(app.screen, ModalScreen))(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("state", ["saved", "pending", "waiting", "refused"])
def test_status_line(snap_compare, app: AtlasApp, state: str) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await until(items_loaded)(pilot)
        if state == "saved":
            await pilot.press("plus")
        elif state == "pending":
            app.session.set_saving(2)  # two quick changes on their way to the store
        elif state == "waiting":
            # What the store's lock reports when another process holds it (pinned words).
            app.post_message(AtlasApp.LockWait("bob@depot pid 4242 since 09:14:02Z"))
        else:
            await pilot.press(*["minus"] * 9)  # A-100 holds 8: the ninth is refused
        await settle(pilot)
        await until(lambda _: state != "refused" or "refused" in app.session.save_state)(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
