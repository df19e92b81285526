"""`atlas config path|show`, --profile and broken preferences files, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from support import run_atlas

from atlas_tui.factory import make_service

FILE = """\
# shop floor
store = "main.json"
user = "ann"
theme = "nord"

[profiles.site2]
store = "site2.sqlite"
user = "bob"
"""


def test_config_path_tells_where_the_file_is_and_whether_it_exists(config_file: Path) -> None:
    missing = run_atlas("config", "path")
    assert (missing.code, missing.out) == (0, f"{config_file} (does not exist)\n")
    config_file.write_text("theme = \n")  # even a broken file has a path
    found = run_atlas("config", "path", "--json")
    assert found.code == 0
    assert json.loads(found.out) == {
        "success": True,
        "config": {"path": str(config_file), "exists": True},
    }


def test_config_path_follows_atlas_config(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    done = run_atlas("config", "path", env={"ATLAS_CONFIG": str(other)})
    assert done.out == f"{other} (does not exist)\n"


def test_config_show_json_tells_each_setting_s_source(config_file: Path) -> None:
    config_file.write_text(FILE)
    done = run_atlas(
        "config", "show", "--json", "--profile", "site2", env={"ATLAS_MEDIA_DIR": "/media"}
    )
    assert done.code == 0, done.err
    report = json.loads(done.out)["config"]
    assert report["profile"] == "site2" and report["exists"] is True
    shown = {key: (row["value"], row["source"]) for key, row in report["settings"].items()}
    assert shown["store"] == (str(config_file.parent / "site2.sqlite"), "profile")
    assert shown["user"] == ("bob", "profile")
    assert shown["theme"] == ("nord", "file")
    assert shown["media_dir"] == ("/media", "env")
    assert shown["default_sort"] == (None, "default")
    assert shown["scanner.command_prefix"] == ("*", "default")
    flagged = run_atlas("--db", "/tmp/x.json", "config", "show", "--json")
    settings = json.loads(flagged.out)["config"]["settings"]
    assert settings["store"] == {"value": "/tmp/x.json", "source": "flag"}


def test_config_show_for_people(config_file: Path) -> None:
    config_file.write_text(FILE)
    done = run_atlas("config", "show", env={"ATLAS_PROFILE": "site2"})
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0] == f"file     {config_file}"
    assert lines[1] == "profile  site2  ← env ATLAS_PROFILE"
    assert "user                    bob  ← profile site2" in lines


def test_the_profile_chooses_the_store_for_every_command(config_file: Path) -> None:
    config_file.write_text(FILE)
    make_service(config_file.parent / "site2.sqlite").add("S2-1", "Site two", "", 4, "A1")
    listed = run_atlas("--profile", "site2", "list", "--format", "csv")
    assert listed.code == 0, listed.err
    assert "S2-1" in listed.out
    assert "S2-1" in run_atlas("list", "--format", "csv", env={"ATLAS_PROFILE": "site2"}).out
    assert "S2-1" not in run_atlas("list", "--format", "csv").out  # the top level's store


def test_a_broken_file_is_one_line_and_exit_2(config_file: Path) -> None:
    for text, expected in [
        ('user = "a"\ntheme = \n', f"error: {config_file} line 2: theme: not valid TOML: "),
        ("user = 5\n", f"error: {config_file} line 1: user: must be text (in quotes), got a"),
    ]:
        config_file.write_text(text)
        done = run_atlas("list")
        assert done.code == 2
        assert done.err.startswith(expected) and done.err.count("\n") == 1, done.err
        assert "Traceback" not in done.err


def test_an_unknown_profile_is_exit_2(config_file: Path) -> None:
    config_file.write_text(FILE)
    done = run_atlas("--profile", "site3", "config", "show")
    assert (done.code, done.out) == (2, "")
    assert done.err == f"error: {config_file}: no profile 'site3' (--profile); profiles: site2\n"


def test_an_unknown_key_warns_and_the_command_runs(config_file: Path, tmp_path: Path) -> None:
    config_file.write_text('user = "ann"\nfuture_option = 3\n')
    done = run_atlas("--db", str(tmp_path / "a.json"), "list")
    assert done.code == 0
    assert done.err == f"warning: {config_file} line 2: future_option: unknown key, ignored\n"


def test_a_bad_keymap_stops_the_app_before_it_starts(config_file: Path, tmp_path: Path) -> None:
    config_file.write_text('[keys]\nadjust-up = "plux"\n')
    done = run_atlas("--db", str(tmp_path / "a.json"))
    assert done.code == 2
    assert not (tmp_path / "a.json").exists()
    assert done.err == (
        f"error: {config_file} line 2: keys.adjust-up: 'plux' is not a key name "
        "(e.g. k, plus, f5, ctrl+r, shift+tab)\n"
    )
