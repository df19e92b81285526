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
    table: DataTable[Text] = app.screen.query_one("#keys", DataTable)
    return [[cell.plain for cell in table.get_row_at(n)] for n in range(table.row_count)]


async def test_help_lists_screen_and_app_keys_and_closes(json_db: Path) -> None:
    app = make_app(json_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        items = app.screen
        assert isinstance(items, ItemsScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = {(key, does, where): hidden for key, does, where, hidden in help_rows(app)}
        assert rows[("/", "Filter", "screen")] == ""
        assert rows[("+", "+1", "screen")] == ""
        assert rows[("O", "Reverse sort", "screen")] == "hidden"
        assert rows[("r", "Reports", "app")] == ""
        assert rows[("? / f1", "Help", "app")] == ""
        assert rows[("q", "Quit", "app")] == ""
        # The focused table's own keys are there too, under its name.
        assert any(where.startswith("ItemTable") for _key, _does, where in rows)
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
        rows = help_rows(app)
        assert ["esc", "Back", "screen", ""] in rows
        assert ["shift+⇥", "Previous pane", "screen", "hidden"] in rows or any(
            does == "Previous pane" and hidden == "hidden" for _k, does, _w, hidden in rows
        )
        assert not any(does == "Filter" for _k, does, _w, _h in rows)
        await pilot.press("q")  # closes help, does not quit
        assert top(app) is reports
        await pilot.press("question_mark")
        await pilot.press("question_mark")
        assert top(app) is reports
