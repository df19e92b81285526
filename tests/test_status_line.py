"""The status line, message log, footer, help and palette on every screen (issue 14)."""

from __future__ import annotations

import sqlite3
import threading
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from support import Start, settle
from test_app import ready, status, type_into, wait_for
from textual.app import App
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Footer
from textual.widgets._footer import FooterKey

from atlas_tui.app import AtlasApp, make_app
from atlas_tui.factory import make_service
from atlas_tui.storage.files import FileLock
from screens.commands import ActionCommands
from screens.help import HelpScreen
from screens.keys import NOT_COMMANDS, chain, words
from screens.message_log import MessageLogScreen
from screens.session import SessionStatus
from screens.widgets.status_line import StatusLine, status_text

# What developers call things, never shown to an operator: class names, ids, actions.
DEVELOPER_WORDS = ("Screen", "Table", "Input", "Dialog", "#", "_", "()")

# How to reach each screen from the items screen, and what it is.
SCREENS = {
    "ItemsScreen": (),
    "ReportsScreen": ("r",),
    "MediaScreen": ("f",),
    "StocktakeScreen": ("t",),
    "ScanScreen": ("s",),
    "LocationsScreen": ("L",),
    "LocationScreen": ("L", "enter"),
}


@pytest.fixture
def store(json_db: Path) -> Path:
    service = make_service(json_db)
    service.add("A-1", "Anvil", "Tools", 10, "A1", 2, 50)
    service.add("B-2", "Bolt M6", "Fasteners", 1, "B1", 5, 0)
    service.add("C-3", "Crate", "Packaging", 80, "C1", 0, 60)
    service.add("D-4", "Drill bit", "Tools", 0, "A1", 3, 0)
    return json_db


def line(app: App[None]) -> str:
    return str(app.screen.query_one(StatusLine).render())


async def open_screen(app: AtlasApp, pilot: Pilot[None], name: str) -> Screen[object]:
    """Back to the items screen, then on to the screen called `name`."""
    while len(app.screen_stack) > 2:
        app.pop_screen()
        await pilot.pause()
    await ready(app, pilot)
    for key in SCREENS[name]:
        await pilot.press(key)
        await pilot.pause()
    await wait_for(pilot, lambda: type(app.screen).__name__ == name)
    await settle(pilot)
    return app.screen


def footer_actions(app: App[None]) -> list[tuple[str, str]]:
    footer = app.screen.query_one(Footer)
    keys = [key for key in footer.query(FooterKey) if "-command-palette" not in key.classes]
    return [(key.action, key.key_display) for key in keys]


async def test_the_status_line_shows_store_backend_and_user(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        user = app.service.user
        assert line(app).startswith(f"atlas.json · TinyDB │ {user} │ saved")


async def test_the_status_line_names_the_sqlite_backend(tmp_path: Path) -> None:
    make_service(tmp_path / "atlas.sqlite").add("A-1", "Anvil", quantity=1)
    app = make_app(tmp_path / "atlas.sqlite")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        assert line(app).startswith("atlas.sqlite · SQLite │ ")


async def test_a_change_shows_saving_then_saved_and_the_last_message(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        states: list[str] = []
        app.session.watch(lambda: states.append(app.session.save_state))
        await pilot.press("plus")
        await settle(pilot)
        await wait_for(pilot, lambda: "A-1: now 11" in line(app))
        assert states[0] == "saving 1…" and states[-1] == "saved"
        assert "│ saved │ A-1: now 11" in line(app)


async def test_a_refusal_stays_until_the_next_message(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        screen.select_sku("D-4")  # none on hand: `-` is refused
        await pilot.press("minus")
        await settle(pilot)
        await wait_for(pilot, lambda: "refused:" in line(app))
        app.clear_notifications()  # the toast goes; the status line keeps the refusal
        await pilot.pause()
        assert "refused:" in line(app)
        await pilot.press("plus")
        await settle(pilot)
        await wait_for(pilot, lambda: "D-4: now 1" in line(app))
        assert "refused" not in line(app)


def _hold(path: Path, talk: Connection) -> None:
    """Another ATLAS process: takes the store's lock, keeps it until told."""
    lock = FileLock(path, 60)
    lock.acquire()
    talk.send("holding")
    talk.recv()
    lock.release()
    talk.send("released")


async def test_a_save_waiting_for_another_process_names_the_holder(
    store: Path, start: Start
) -> None:
    holder, process = start(_hold, store.with_name(store.name + ".lock"))
    assert holder.recv() == "holding"
    app = make_app(store)
    async with app.run_test(size=(160, 30)) as pilot:
        await ready(app, pilot)
        await pilot.press("plus")
        await wait_for(pilot, lambda: "waiting for the lock held by" in line(app), timeout=10)
        assert f"pid {process.pid}" in line(app)
        holder.send("go")
        await wait_for(pilot, lambda: "A-1: now 11" in line(app), timeout=10)
        await settle(pilot)
        assert "│ saved │" in line(app)
    assert holder.recv() == "released"


async def test_the_message_log_lists_earlier_messages(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(60, 20)) as pilot:
        await ready(app, pilot)
        app.notify("first message")
        await pilot.press("plus")
        await settle(pilot)
        await wait_for(pilot, lambda: "A-1: now 11" in line(app))
        await pilot.press("ctrl+l")
        assert isinstance(app.screen, MessageLogScreen)
        table: DataTable[object] = app.screen.query_one("#messages", DataTable)
        texts = [str(table.get_row_at(n)[2]) for n in range(table.row_count)]
        assert texts[-2:] == ["first message", "A-1: now 11"]
        assert table.cursor_row == table.row_count - 1  # newest last, and shown
        await pilot.press("escape")
        assert not isinstance(app.screen, MessageLogScreen)


async def test_counts_say_what_they_count_under_a_filter(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        assert "4 items · ▼ 2 low · ▲ 1 over" in status(screen)
        await pilot.press("slash")
        await type_into(pilot, "i")  # the anvil and the drill bit
        await settle(pilot)
        assert "2 of 4 items shown · ▼ 1 low · ▲ 0 over among them" in status(screen)
        await pilot.press("down", "down", "plus", "plus", "plus", "plus")  # the drill bit: 4
        await settle(pilot)
        assert "2 of 4 items shown · ▼ 0 low · ▲ 0 over among them" in status(screen)
        await pilot.press("slash", "backspace", "down")
        await settle(pilot)
        assert "4 items · ▼ 1 low · ▲ 1 over" in status(screen)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_footer_starts_with_help_and_quit_on_every_screen(
    store: Path, size: tuple[int, int]
) -> None:
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        for name in SCREENS:
            await open_screen(app, pilot, name)
            await pilot.pause()
            shown = footer_actions(app)
            assert [action for action, _key in shown[:2]] == ["help", "quit"], (name, shown)
            assert shown[0][1] in ("?", "f1") and shown[1][1] in ("q", "^q"), (name, shown)
            assert len(shown) >= 4, (name, shown)  # and some of the screen's own keys
            footer = app.screen.query_one(Footer)
            assert all(key.region.right <= footer.region.right for key in footer.query(FooterKey))
            assert app.screen.query_one(StatusLine).region.y == size[1] - 2


async def test_help_has_no_developer_names_on_any_screen(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(60, 20)) as pilot:
        for name in SCREENS:
            screen = await open_screen(app, pilot, name)
            await pilot.press("f1")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            table: DataTable[object] = app.screen.query_one("#keys", DataTable)
            text = " ".join(
                str(cell) for n in range(table.row_count) for cell in table.get_row_at(n)
            )
            title = str(app.screen.query_one("#title").render())
            for word in DEVELOPER_WORDS:
                assert word not in text and word not in title, (name, word)
            assert "Session and app" in text
            await pilot.press("escape")
            assert app.screen is screen


async def palette_names(app: AtlasApp, pilot: Pilot[None]) -> set[str]:
    """What the palette offers on the current screen, by name."""
    provider = ActionCommands(app.screen)
    return {hit.text or "" async for hit in provider.discover()}


async def test_every_key_of_every_screen_is_in_the_palette(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        checked = 0
        for name in SCREENS:
            await open_screen(app, pilot, name)
            screen = app.screen
            offered = await palette_names(app, pilot)
            taken: set[str] = set()  # a key a nearer node takes never reaches the rest
            for node in chain(screen):
                for key, binding in node._bindings:
                    group, does = words(screen, node, binding)
                    if key in taken:
                        continue
                    if group in NOT_COMMANDS or binding.action == "command_palette":
                        continue
                    assert does in offered, (name, binding.action)
                    checked += 1
                taken.update(key for key, _binding in node._bindings)
        assert checked > 60


async def test_a_dialogs_own_keys_are_in_the_palette_while_it_is_open(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await pilot.press("delete")
        await pilot.pause()
        offered = await palette_names(app, pilot)
        assert {"Yes", "No"} <= offered
        assert "Add one unit" not in offered  # the items screen's keys wait behind it


async def test_the_palette_runs_a_hidden_key_by_name(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await type_into(pilot, "message log")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MessageLogScreen))


def test_a_narrow_status_line_drops_the_user_then_the_store_never_the_state() -> None:
    session = SessionStatus("atlas.json · TinyDB", "alice")
    session.add_message("A-1: now 11", "information")
    assert status_text(session, 80).plain == "atlas.json · TinyDB │ alice │ saved │ A-1: now 11"
    assert status_text(session, 41).plain == "atlas.json · TinyDB │ saved │ A-1: now 11"
    assert status_text(session, 39).plain == "saved │ A-1: now 11"
    session.add_message("a long message " * 10, "warning")
    narrow = status_text(session, 40).plain
    assert narrow.startswith("saved │ a long message") and narrow.endswith("…")
    assert len(narrow) == 40
    session.set_waiting("bob@host pid 7 since 10:00:00Z")
    assert status_text(session, 60).plain.startswith("waiting for the lock held by bob@host")
    session.set_waiting(None)
    session.add_message("not enough stock", "error", "Not saved")
    assert status_text(session, 60).plain.endswith("alice │ refused: not enough stock")
    assert session.messages[-1].text == "Not saved: not enough stock"
    # Text from the store is shown, never obeyed.
    session.add_message("\x1b[2Jgone", "information")
    assert "\x1b" not in status_text(session, 60).plain


def test_sqlite_tells_who_it_waits_for_when_another_writer_holds_the_database(
    tmp_path: Path,
) -> None:
    """A writer outside ATLAS's lock file (the sqlite3 shell, an older ATLAS) holds SQLite's
    own write lock: the wait is reported, and its end."""
    path = tmp_path / "atlas.sqlite"
    service = make_service(path)
    service.add("A-1", "Anvil", quantity=1)
    seen: list[str | None] = []
    waiting = threading.Event()

    def watch(holder: str | None) -> None:
        seen.append(holder)
        if holder is not None:
            waiting.set()

    service.repository.watch_lock(watch)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    saved: list[int] = []
    writer = threading.Thread(target=lambda: saved.append(service.adjust("A-1", 1).quantity))
    writer.start()
    try:
        assert waiting.wait(30)
    finally:
        other.execute("ROLLBACK")
        other.close()
    writer.join(30)
    assert saved == [2]
    assert seen == ["another ATLAS process", None]
