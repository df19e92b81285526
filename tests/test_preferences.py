"""The preferences file: precedence, profiles, broken files, and the theme written back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from atlas_tui.config import ScannerSettings, Settings, default_storage_path
from atlas_tui.domain.errors import ConfigError
from atlas_tui.preferences import (
    SORT_COLUMNS,
    PreferencesError,
    read_preferences,
    save_setting,
)
from screens.widgets.item_table import SORTABLE

FILE = """\
# Main warehouse
store = "main.json"   # beside this file
user = "file-user"
media_dir = "/media/file"
theme = "gruvbox"
default_sort = { column = "quantity", reverse = true }

[keys]
adjust-up = "plus,a"

[scanner]
prefix = "]C1"
command_prefix = "#"

[profiles.site2]
store = "sqlite:///site2"
user = "profile-user"
media_dir = "/media/profile"
default_sort = "name"

[profiles.site2.keys]
adjust-down = "minus,z"
"""

LEVELS = ["default", "file", "profile", "env", "flag"]


def settings(config_file: Path, level: str, **env: str) -> Settings:
    """The settings with every level up to `level` giving the store, user and media folder."""
    rank = LEVELS.index(level)
    if rank >= 1:
        text = FILE if rank >= 2 else FILE.split("[profiles.site2]")[0]
        config_file.write_text(text)
    if rank >= 3:
        env |= {
            "ATLAS_STORAGE_PATH": "/env/store.json",
            "ATLAS_USER": "env-user",
            "ATLAS_MEDIA_DIR": "/media/env",
        }
    flags: dict[str, str] = (
        {"storage_path": "/flag/store.json", "media_dir": "/media/flag"} if rank >= 4 else {}
    )
    return Settings.from_env({**os.environ, **env}, profile="site2" if rank >= 2 else None, **flags)


@pytest.mark.parametrize("level", LEVELS)
def test_the_highest_level_given_wins(config_file: Path, level: str) -> None:
    found = settings(config_file, level)
    here = config_file.parent
    expected = {
        "default": (default_storage_path(), None, None),
        "file": (here / "main.json", "file-user", Path("/media/file")),
        "profile": (here / "site2.sqlite", "profile-user", Path("/media/profile")),
        "env": (Path("/env/store.json"), "env-user", Path("/media/env")),
        "flag": (Path("/flag/store.json"), "env-user", Path("/media/flag")),
    }[level]
    assert (found.storage_path, found.user, found.media_dir) == expected
    assert found.sources["store"] == level
    assert found.sources["media_dir"] == level
    # There is no --user flag: the environment is the highest level for the user's name.
    assert found.sources["user"] == ("env" if level == "flag" else level)


def test_a_profile_overrides_only_what_it_sets(config_file: Path) -> None:
    config_file.write_text(FILE)
    chosen = Settings.from_env(profile="site2")
    assert chosen.profile == "site2"
    assert chosen.theme == "gruvbox" and chosen.sources["theme"] == "file"
    assert chosen.default_sort == ("name", False) and chosen.sources["default_sort"] == "profile"
    assert chosen.keymap == {"adjust-up": "plus,a", "adjust-down": "minus,z"}
    assert chosen.sources["keys.adjust-down"] == "profile"
    assert chosen.scanner == ScannerSettings(prefix="]C1", command_prefix="#")
    top = Settings.from_env()
    assert top.profile is None and top.default_sort == ("quantity", True)
    assert top.keymap == {"adjust-up": "plus,a"}


def test_the_profile_is_chosen_by_flag_over_the_environment(config_file: Path) -> None:
    config_file.write_text(FILE + '\n[profiles.lab]\nuser = "lab-user"\n')
    assert Settings.from_env({"ATLAS_PROFILE": "lab"}).user == "lab-user"
    assert Settings.from_env({"ATLAS_PROFILE": "lab"}, profile="site2").user == "profile-user"


def test_atlas_config_names_another_file(tmp_path: Path, config_file: Path) -> None:
    config_file.write_text('user = "default-file"\n')
    other = tmp_path / "elsewhere.toml"
    other.write_text('user = "other-file"\n')
    assert Settings.from_env({"ATLAS_CONFIG": str(other)}).user == "other-file"
    assert Settings.from_env({"ATLAS_CONFIG": str(tmp_path / "none.toml")}).user is None


def test_no_file_means_defaults(config_file: Path) -> None:
    found = Settings.from_env()
    assert found.theme is None and found.keymap == {} and found.scanner == ScannerSettings()
    assert found.preferences is not None and not found.preferences.exists


def problem(config_file: Path, text: str, **kwargs: str) -> str:
    config_file.write_text(text)
    with pytest.raises(PreferencesError) as raised:
        Settings.from_env(**kwargs)  # type: ignore[arg-type]
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_bad_toml_names_the_file_line_and_key(config_file: Path) -> None:
    message = problem(config_file, '# prefs\nuser = "ann"\ntheme = \n')
    assert message.startswith(f"{config_file} line 3: theme: not valid TOML")


def test_a_wrong_type_names_the_line_and_key(config_file: Path) -> None:
    assert problem(config_file, "# x\n\nuser = 5\n") == (
        f"{config_file} line 3: user: must be text (in quotes), got a number"
    )
    text = '[profiles.a]\nuser = "x"\n\n[profiles.b]\nmedia_dir = true\n'
    assert problem(config_file, text) == (
        f"{config_file} line 5: profiles.b.media_dir: must be text (in quotes), got true/false"
    )
    assert "line 2: keys: must be a table" in problem(config_file, '\nkeys = "plus"\n')
    assert "line 1: default_sort: 'qty' is not a column" in problem(
        config_file, 'default_sort = "qty"\n'
    )
    assert "default_sort.reverse: must be true or false" in problem(
        config_file, 'default_sort = { column = "sku", reverse = "yes" }\n'
    )


def test_a_store_of_another_kind_is_refused_with_its_line(config_file: Path) -> None:
    message = problem(config_file, '\n[profiles.pg]\nstore = "mysql://db"\n', profile="pg")
    assert message.startswith(f"{config_file} line 3: profiles.pg.store: mysql://")


def test_an_unknown_profile_is_refused_naming_who_chose_it(config_file: Path) -> None:
    message = problem(config_file, FILE, profile="site3")
    assert message == f"{config_file}: no profile 'site3' (--profile); profiles: site2"
    config_file.write_text(FILE)
    with pytest.raises(PreferencesError, match=r"'nope' \(ATLAS_PROFILE\)"):
        Settings.from_env({"ATLAS_PROFILE": "nope"})


def test_an_unknown_key_is_a_warning_not_an_error(config_file: Path) -> None:
    config_file.write_text('user = "ann"\ncolour = "blue"\n[scanner]\nbeep = true\n')
    prefs = read_preferences(config_file)
    assert prefs.warnings == (
        f"{config_file} line 2: colour: unknown key, ignored",
        f"{config_file} line 4: scanner.beep: unknown key, ignored",
    )
    assert Settings.from_env(preferences=prefs).user == "ann"


def test_environment_mistakes_stay_the_environment_s(config_file: Path) -> None:
    config_file.write_text(FILE)
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"ATLAS_STORAGE_PATH": "postgres://x"})
    assert not isinstance(raised.value, PreferencesError)


def test_sort_columns_are_the_table_s() -> None:
    assert SORT_COLUMNS == SORTABLE


def test_the_theme_is_written_keeping_comments_and_layout(config_file: Path) -> None:
    config_file.write_text(FILE)
    assert save_setting(config_file, "theme", "nord")
    text = config_file.read_text()
    assert text == FILE.replace('theme = "gruvbox"', 'theme = "nord"')
    assert not save_setting(config_file, "theme", "nord")  # unchanged: not rewritten
    assert list(config_file.parent.iterdir()) == [config_file]  # no temporary file left


def test_a_new_theme_goes_to_the_top_level_or_to_the_profile_that_sets_it(
    config_file: Path,
) -> None:
    config_file.write_text('# mine\nuser = "ann"\n\n[profiles.lab]\ntheme = "monokai"\n')
    save_setting(config_file, "theme", "nord", profile="lab")
    assert Settings.from_env(profile="lab").theme == "nord"
    save_setting(config_file, "theme", "dracula", profile=None)
    assert Settings.from_env().theme == "dracula"
    assert Settings.from_env(profile="lab").theme == "nord"
    assert config_file.read_text().startswith('# mine\nuser = "ann"\ntheme = "dracula"\n')


def test_the_theme_creates_a_missing_file(config_file: Path) -> None:
    config_file.parent.rmdir()
    save_setting(config_file, "theme", "nord")
    assert Settings.from_env().theme == "nord"


def test_a_broken_file_is_not_overwritten(config_file: Path) -> None:
    config_file.write_text('user = "ann"\ntheme = \n')
    with pytest.raises(PreferencesError, match="line 2: not valid TOML, so theme was not saved"):
        save_setting(config_file, "theme", "nord")
    assert config_file.read_text() == 'user = "ann"\ntheme = \n'


def test_a_read_only_file_is_left_alone(config_file: Path) -> None:
    config_file.write_text('theme = "gruvbox"\n')
    config_file.chmod(0o444)
    if os.access(config_file, os.W_OK):
        pytest.skip("running as a user who may write anything")
    with pytest.raises(PermissionError):
        save_setting(config_file, "theme", "nord")
    assert config_file.read_text() == 'theme = "gruvbox"\n'


def test_a_symlinked_file_stays_a_symlink(tmp_path: Path, config_file: Path) -> None:
    real = tmp_path / "dotfiles" / "atlas.toml"
    real.parent.mkdir()
    real.write_text("# from my dotfiles\n")
    config_file.symlink_to(real)
    save_setting(config_file, "theme", "nord")
    assert config_file.is_symlink()
    assert real.read_text() == '# from my dotfiles\ntheme = "nord"\n'
