"""Preferences in the app: the theme kept, a keymap, the first sort order."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_app import ready, stored, type_into, wait_for
from textual.command import CommandList

from atlas_tui.app import make_app
from atlas_tui.config import Settings
from atlas_tui.preferences import PreferencesError

USERS_FILE = """\
# My ATLAS preferences -- keep this comment
user = "ann"   # who I am

[keys]
adjust-up = "plus,a"
"""


async def test_a_theme_chosen_is_kept_with_the_user_s_comments(
    store: Path, config_file: Path
) -> None:
    config_file.write_text(USERS_FILE)
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        app.action_change_theme()  # the command palette's theme picker
        await wait_for(pilot, lambda: bool(app.screen.query(CommandList)))
        await type_into(pilot, "nord")
        commands = app.screen.query_one(CommandList)
        await wait_for(pilot, lambda: commands.option_count > 0 and commands.highlighted == 0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: 'theme = "nord"' in config_file.read_text())
    assert config_file.read_text() == USERS_FILE.replace(
        "# who I am\n", '# who I am\ntheme = "nord"\n'
    )
    again = make_app(store)
    async with again.run_test(size=(100, 30)) as pilot:
        await ready(again, pilot)
        assert again.theme == "nord"


async def test_an_unwritable_file_is_told_once(store: Path) -> None:
    # /dev/null reads as an empty file (no preferences) and must never be replaced.
    settings = Settings.from_env({"ATLAS_CONFIG": "/dev/null"}, storage_path=store)
    app = make_app(settings=settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        app.theme = "nord"
        await wait_for(pilot, lambda: bool(app._notifications))
        app.theme = "dracula"
        await pilot.pause()
        await pilot.pause()
        told = [str(n.message) for n in app._notifications]
        assert len(told) == 1
        assert told == ["The theme is not kept for the next start: /dev/null: not a regular file"]
        assert app.theme == "dracula"


async def test_a_keymap_moves_a_binding_to_another_key(store: Path, config_file: Path) -> None:
    config_file.write_text(USERS_FILE)
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: stored(store, "A-1") == 11)
        await pilot.press("plus")
        await wait_for(pilot, lambda: stored(store, "A-1") == 12)


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ('adjust-upp = "a"', "keys.adjust-upp: no binding has this id; did you mean 'adjust-up'?"),
        ('adjust-up = "plus,plux"', "keys.adjust-up: 'plux' is not a key name"),
    ],
)
def test_a_bad_keymap_is_refused(store: Path, config_file: Path, keys: str, problem: str) -> None:
    config_file.write_text(f"# mine\n[keys]\n{keys}\n")
    with pytest.raises(PreferencesError) as raised:
        make_app(store)
    assert str(raised.value).startswith(f"{config_file} line 3: {problem}")


def test_an_unknown_theme_is_refused(store: Path, config_file: Path) -> None:
    config_file.write_text('theme = "neon-pink"\n')
    with pytest.raises(PreferencesError, match=r"line 1: theme: no theme 'neon-pink'; "):
        make_app(store)


async def test_default_sort_orders_the_items_at_start(store: Path, config_file: Path) -> None:
    config_file.write_text('default_sort = { column = "quantity", reverse = true }\n')
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        assert [item.sku for item in screen.table.items] == ["C-3", "A-1", "B-2"]
        assert (screen.table.sort_column, screen.table.sort_reverse) == ("quantity", True)


async def test_media_dir_from_the_file(store: Path, config_file: Path, tmp_path: Path) -> None:
    config_file.write_text('media_dir = "films"\n')
    app = make_app(store)
    assert app.media_dir == config_file.parent / "films"
