"""The help screen through the real app: every key of the screen below and of the app."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.screen import Screen
from textual.widgets import DataTable

from atlas_tui.app import AtlasApp, make_app
from screens.help import HelpScreen
from screens.items import ItemsScreen
from screens.reports import ReportsScreen


def top(app: AtlasApp) -> Screen[object]:
    """The screen on top (a call, so checkers do not keep an earlier isinstance)."""
    return app.screen


def help_rows(app: AtlasApp) -> list[list[str]]:
    """(key, does) per row; a group's title is a row with no key."""
    table: DataTable[Text] = app.screen.query_one("#keys", DataTable)
    return [[cell.plain for cell in table.get_row_at(n)] for n in range(table.row_count)]


def groups(app: AtlasApp) -> dict[str, list[tuple[str, str]]]:
    """The help table as {task: [(key, does), ...]}."""
    found: dict[str, list[tuple[str, str]]] = {}
    group = ""
    for key, does in help_rows(app):
        if not key and does:
            group = does
            found[group] = []
        elif key:
            found[group].append((key, does))
    return found


async def test_help_groups_screen_and_app_keys_by_task_and_closes(json_db: Path) -> None:
    app = make_app(json_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        items = app.screen
        assert isinstance(items, ItemsScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        found = groups(app)
        assert ("/", "Filter by SKU or name") in found["Find and view"]
        assert ("O", "Reverse the sort order") in found["Find and view"]  # hidden keys too
        assert ("+", "Add one unit") in found["Change stock"]
        assert ("n", "New item…") in found["Items"]
        assert ("r", "Reports: summary, low and over stock") in found["Go to"]
        assert ("? / f1", "Help: every key of this screen") in found["Session and app"]
        assert ("q / ^q", "Quit ATLAS") in found["Session and app"]
        assert ("^l", "Message log: every message of this session") in found["Session and app"]
        # The focused table's own keys are there too, under what they do.
        assert ("↑ / k", "Up one row") in found["Moving around"]
        await pilot.press("escape")
        assert top(app) is items


async def test_help_follows_the_screen_it_was_opened_from(json_db: Path) -> None:
    app = make_app(json_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        reports = app.screen
        assert isinstance(reports, ReportsScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        found = groups(app)
        assert ("esc", "Back to the items") in found["Go to"]
        assert ("shift+tab", "Previous pane") in found["Find and view"]
        assert not any(does.startswith("Filter") for rows in found.values() for _k, does in rows)
        await pilot.press("q")  # closes help, does not quit
        assert top(app) is reports
        await pilot.press("question_mark")
        await pilot.press("question_mark")
        assert top(app) is reports
