"""The media screen through the real app: indexing with progress, searching, bad folders."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.text import Text
from support import settle
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, ProgressBar, Static

from atlas_tui.app import AtlasApp
from atlas_tui.factory import make_service
from atlas_tui.media import DEMO_DIR
from screens.items import ItemsScreen
from screens.media import MediaScreen


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 5) -> None:
    """Let the app run until `condition()` holds (fails after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Three titles (one with a hostile name) and one broken file."""
    folder = tmp_path / "library"
    (folder / "series").mkdir(parents=True)
    movies = {
        "movies": [
            {"title": "Heat", "year": 1995, "directors": ["Michael Mann"]},
            {"title": "[red]x[/red] \x1b[31mboom", "year": 2001},
        ]
    }
    (folder / "movies.json").write_text(json.dumps(movies))
    series = {"title": "The Wire", "kind": "series", "year": 2002, "network": "HBO",
              "seasons": 5, "episodes": 60}  # fmt: skip
    (folder / "series" / "wire.json").write_text(json.dumps(series))
    (folder / "broken.json").write_text("{not json")
    return folder


def app_on(tmp_path: Path, media_dir: Path | None) -> AtlasApp:
    return AtlasApp(make_service(tmp_path / "data" / "atlas.json"), media_dir)


async def open_media(app: AtlasApp, pilot: Pilot[None]) -> MediaScreen:
    await pilot.pause()
    await pilot.press("f")
    await settle(pilot)
    await pilot.pause()
    assert isinstance(app.screen, MediaScreen)
    return app.screen


def titles(screen: MediaScreen) -> list[str]:
    table: DataTable[Text] = screen.query_one("#results", DataTable)
    return [table.get_row_at(n)[0].plain for n in range(table.row_count)]


def text_of(screen: MediaScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_search_finds_titles_as_you_type(tmp_path: Path, library: Path) -> None:
    app = app_on(tmp_path, library)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_media(app, pilot)
        hostile = "[red]x[/red] \\x1b[31mboom"
        assert sorted(titles(screen)) == ["Heat", "The Wire", hostile]
        assert text_of(screen, "#status") == "3 titles from 3 files · type to search"
        # The broken file is counted, not hidden.
        assert text_of(screen, "#warnings") == "⚠ 1 warning (1 file skipped)"
        await pilot.press(*"wir")
        table: DataTable[Text] = screen.query_one("#results", DataTable)
        row = [cell.plain for cell in table.get_row_at(0)]
        assert row == ["The Wire", "series", "2002", "HBO", "5/60", "series/wire.json"]
        assert table.row_count == 1 and text_of(screen, "#status") == "1 match"
        await pilot.press("z")
        assert titles(screen) == [] and text_of(screen, "#status") == "no match"
        screen.query_one("#query", Input).value = "boo"
        await pilot.pause()
        assert titles(screen) == [hostile]
        assert "[red]x[/red]" in app.export_screenshot().replace("&#160;", " ")
        await pilot.press("escape")
        assert isinstance(app.screen, ItemsScreen)


async def test_kind_filter_cycles(tmp_path: Path, library: Path) -> None:
    app = app_on(tmp_path, library)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_media(app, pilot)
        await pilot.press("ctrl+t")
        assert sorted(titles(screen)) == ["Heat", "[red]x[/red] \\x1b[31mboom"]
        assert text_of(screen, "#status").endswith("· movies only")
        await pilot.press("ctrl+t")
        assert titles(screen) == ["The Wire"]
        await pilot.press(*"he")
        assert titles(screen) == [] and text_of(screen, "#status") == "no match · series only"
        await pilot.press("ctrl+t")
        assert titles(screen) == ["Heat"]


async def test_demo_folder_is_searchable(tmp_path: Path) -> None:
    app = app_on(tmp_path, DEMO_DIR)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_media(app, pilot)
        assert screen.index is not None and len(screen.index) > 10
        assert text_of(screen, "#status").startswith(f"{len(screen.index)} titles from ")
        await pilot.press(*"matr")
        assert titles(screen)[0] == "The Matrix"
        await pilot.press("enter")  # from the search box to the results
        assert screen.focused is screen.query_one("#results")


async def test_indexing_reports_progress(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(300):
        (folder / f"m{n}.json").write_text(json.dumps({"title": f"Film {n}", "year": 2000}))
    seen: list[tuple[int, int, str]] = []

    def watch(message: Message) -> None:
        # Runs as each message is handed to the screen: what the user saw at that moment.
        if isinstance(message, MediaScreen.Progress | MediaScreen.Indexed):
            screen = app.screen
            assert isinstance(screen, MediaScreen) and screen.has_class("-indexing")
            done = message.done if isinstance(message, MediaScreen.Progress) else -1
            total = message.total if isinstance(message, MediaScreen.Progress) else -1
            seen.append((done, total, text_of(screen, "#status")))

    app = app_on(tmp_path, folder)
    async with app.run_test(size=(100, 30), message_hook=watch) as pilot:
        screen = await open_media(app, pilot)
        assert seen[0][1] == 300 and seen[0][2] == f"indexing {folder}…"
        assert seen[-2][:2] == (300, 300) and seen[-1][0] == -1  # the last count, then ready
        assert seen[-1][2] == f"indexing {folder}… 300/300 files"
        bar = screen.query_one("#progress", ProgressBar)
        assert bar.total == 300 and bar.progress == 300
        assert not bar.display  # hidden once the index is ready
        assert text_of(screen, "#status") == "300 titles from 300 files · type to search"
        assert text_of(screen, "#warnings") == ""
        screen.query_one("#query", Input).value = "film 29"
        await pilot.pause()
        assert sorted(titles(screen)) == sorted(f"Film {n}" for n in (29, *range(290, 300)))


async def test_a_missing_folder_is_explained(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    app = app_on(tmp_path, missing)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_media(app, pilot)
        message = text_of(screen, "#message")
        assert f"media folder not found: {missing}" in message
        assert "ATLAS_MEDIA_DIR" in message
        assert screen.query_one("#message").display
        assert not screen.query_one("#results").display
        assert screen.query_one("#query", Input).disabled
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ItemsScreen)


async def test_no_folder_set_says_how_to_set_one(tmp_path: Path) -> None:
    app = app_on(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_media(app, pilot)
        message = text_of(screen, "#message")
        assert "No media folder is set" in message and "ATLAS_MEDIA_DIR" in message
