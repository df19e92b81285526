"""The real `atlas` CLI in subprocesses: forms, output, exit codes, never a traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support import Result, run_atlas

Atlas = Callable[..., Result]

ADD = [
    "add", "--sku", "ITEM-001", "--name", "Widget", "--category", "Electronics", "--qty", "100",
    "--location", "A1", "--min", "10", "--max", "500", "--attr", "color=red", "--attr", "size=M",
]  # fmt: skip


def clean(result: Result) -> Result:
    assert "Traceback" not in result.out + result.err
    return result


def test_the_documented_forms_work_end_to_end(atlas: Atlas) -> None:
    added = clean(atlas(*ADD))
    assert added.code == 0 and "added ITEM-001 Widget: 100 at A1" in added.out
    listed = clean(atlas("list"))
    assert listed.code == 0 and "ITEM-001" in listed.out and "1 item" in listed.out
    for args in (["--category", "electronics"], ["--location", "A1"], ["--search", "widg"]):
        assert "ITEM-001" in clean(atlas("list", *args)).out
    assert "0 items" in clean(atlas("list", "--low")).out
    assert "0 items" in clean(atlas("list", "--over")).out
    shown = clean(atlas("show", "--sku", "item-001"))
    assert "Widget" in shown.out and "color" in shown.out and "red" in shown.out
    adjusted = clean(atlas("adjust", "--sku", "ITEM-001", "--delta", "-5", "--reason", "picked"))
    assert adjusted.code == 0 and "100 → 95 (-5)" in adjusted.out
    assert clean(atlas("adjust", "--sku", "ITEM-001", "--delta", "+5")).code == 0
    counted = clean(atlas("count", "--sku", "ITEM-001", "--qty", "8"))
    assert counted.code == 0 and "counted 8" in counted.out and "minimum" in counted.out
    assert "moved to B7" in clean(atlas("move", "--sku", "ITEM-001", "--location", "B7")).out
    updated = clean(
        atlas("update", "--sku", "ITEM-001", "--name", "Widget 2", "--min", "2", "--max", "9",
              "--attr", "weight=3", "--unset-attr", "size")
    )  # fmt: skip
    assert updated.code == 0
    item = json.loads(atlas("--json", "show", "--sku", "ITEM-001").out)["item"]
    assert (item["name"], item["min_stock"], item["max_stock"]) == ("Widget 2", 2, 9)
    assert item["attributes"] == {"color": "red", "weight": "3"}
    report = clean(atlas("report"))
    assert "Total quantity" in report.out and "Electronics" in report.out
    assert "0 low-stock items" in clean(atlas("report", "--type", "low")).out
    history = clean(atlas("history", "--sku", "ITEM-001"))
    for kind in ("add", "adjust", "count", "move", "update"):
        assert kind in history.out
    assert "picked" in history.out
    deleted = clean(atlas("delete", "--sku", "ITEM-001"))
    assert deleted.code == 0 and "history is kept" in deleted.out
    assert "delete" in clean(atlas("history", "--sku", "ITEM-001")).out


@pytest.mark.parametrize("position", ["before", "after"])
def test_json_flag_before_or_after_the_subcommand(atlas: Atlas, position: str) -> None:
    args = ["--json", *ADD] if position == "before" else [*ADD, "--json"]
    result = clean(atlas(*args))
    envelope = json.loads(result.out)
    assert result.code == 0 and envelope["success"] is True
    assert envelope["item"]["sku"] == "ITEM-001"
    listed = json.loads(atlas("list", "--json").out)
    assert [i["sku"] for i in listed["items"]] == ["ITEM-001"]


def test_refusals_exit_1_with_one_line_and_leave_the_file(atlas: Atlas, db: Path) -> None:
    atlas(*ADD)
    before = db.read_bytes()
    cases = [
        (["adjust", "--sku", "ITEM-001", "--delta", "-101"], "only 100 on hand"),
        (["adjust", "--sku", "NOPE", "--delta", "1"], "no item 'NOPE'"),
        (ADD, "already exists"),
        (
            ["update", "--sku", "ITEM-001", "--min", "900"],
            "minimum: 900 is above the maximum of 500",
        ),
        (["add", "--sku", "N", "--name", " "], "name: is required"),
        (["show", "--sku", "nope"], "no item"),
        (["count", "--sku", "ITEM-001", "--qty", "-1"], "quantity: must be 0 or more"),
    ]
    for args, message in cases:
        result = clean(atlas(*args))
        assert result.code == 1, args
        assert result.out == ""
        assert result.err.startswith("error: ") and message in result.err
        assert result.err.count("\n") == 1
        as_json = clean(atlas("--json", *args))
        envelope = json.loads(as_json.out)
        assert as_json.code == 1 and envelope["success"] is False and message in envelope["error"]
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    "args",
    [
        ["add", "--sku", "X", "--name", "x", "--qty", "ten"],
        ["add", "--sku", "X", "--name", "x", "--qty", "2.5"],
        ["adjust", "--sku", "X"],
        ["list", "--colour", "red"],
        ["frobnicate"],
        ["add", "--sku", "X", "--name", "x", "--attr", "novalue"],
        ["report", "--type", "weekly"],
    ],
)
def test_parser_rejections_exit_2_with_usage(atlas: Atlas, db: Path, args: list[str]) -> None:
    result = clean(atlas(*args))
    assert result.code == 2
    assert "usage: atlas" in result.err
    assert not db.exists()


def test_corrupt_file_is_a_clear_error_and_untouched(atlas: Atlas, db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(b'{"items": {"1": ')
    for args in (["list"], ADD, ["report"]):
        result = clean(atlas(*args))
        assert result.code == 1
        assert f"error: data file {db} is not" in result.err  # valid JSON / an SQLite database
    assert db.read_bytes() == b'{"items": {"1": '


def test_bad_environment_is_a_clear_error(atlas: Atlas) -> None:
    result = clean(atlas("list", env={"ATLAS_MAX_ITEMS": "lots"}))
    assert result.code == 1 and "ATLAS_MAX_ITEMS: must be a whole number" in result.err


def test_max_items_from_the_environment(atlas: Atlas) -> None:
    env = {"ATLAS_MAX_ITEMS": "1"}
    assert atlas("add", "--sku", "A", "--name", "a", env=env).code == 0
    result = clean(atlas("add", "--sku", "B", "--name", "b", env=env))
    assert result.code == 1 and "ATLAS_MAX_ITEMS" in result.err


def test_storage_path_env_and_python_m_are_the_same_cli(db: Path) -> None:
    env = {"ATLAS_STORAGE_PATH": str(db)}
    assert run_atlas("add", "--sku", "E", "--name", "env", env=env).code == 0
    assert "E" in run_atlas("list", db=db).out


HOSTILE = "\x1b[31mred\x1b[0m [red]x[/red] [link=https://e.vil]click[/link] :smile:"


def test_item_text_is_never_markup_or_terminal_control(atlas: Atlas) -> None:
    assert atlas("add", "--sku", "H-1", "--name", HOSTILE, "--category", "[bold]C[/bold]",
                 "--attr", "note=[blink]hi").code == 0  # fmt: skip
    for args in (["list"], ["show", "--sku", "H-1"], ["report"], ["history", "--sku", "h-1"]):
        result = clean(atlas(*args, env={"FORCE_COLOR": "1", "NO_COLOR": ""}))
        assert "\x1b[31mred" not in result.out
        assert "\\x1b[31mred" in result.out or args in (["report"], ["history", "--sku", "h-1"])
        if args != ["history", "--sku", "h-1"]:
            assert "[bold]C" in result.out
    shown = atlas("show", "--sku", "H-1").out
    assert "[red]x[/red]" in shown and "[link=https://e.vil]click[/link]" in shown
    assert ":smile:" in shown and "[blink]hi" in shown
    raw = json.loads(atlas("--json", "show", "--sku", "H-1").out)["item"]["name"]
    assert raw == HOSTILE


def test_human_output_fits_80_columns(atlas: Atlas) -> None:
    """Rich's reports to a pipe; `atlas list` (test_cli_stream) fits a terminal and cuts
    nothing in a pipe."""
    atlas("demo", "--items", "40")
    atlas("add", "--sku", "LONG-" + "X" * 50, "--name", "N" * 150, "--category", "C" * 60,
          "--location", "L" * 60, "--qty", "123456789")  # fmt: skip
    for args in (
        ["report"],
        ["report", "--type", "low"],
        ["history", "--sku", "LONG-" + "X" * 50],
    ):
        lines = atlas(*args).out.splitlines()
        assert lines and max(len(line) for line in lines) <= 80, args
    assert "123456789" in atlas("list", "--search", "long-").out


def test_demo_seeds_once_with_if_new(atlas: Atlas) -> None:
    first = clean(atlas("demo", "--if-new", "--items", "50"))
    assert first.code == 0 and "added 50 demo items" in first.out
    second = clean(atlas("demo", "--if-new"))
    assert second.code == 0 and "already holds data" in second.out
    assert json.loads(atlas("--json", "report").out)["report"]["total_items"] == 50


# Errors in operator words ---------------------------------------------------------------------

INTERNAL_NAMES = re.compile(r"\b(delta|min_stock|max_stock)\b")


def test_refusals_name_fields_as_the_operator_knows_them(atlas: Atlas, tmp_path: Path) -> None:
    assert atlas("add", "--sku", "ITEM-001", "--name", "Widget", "--qty", "95", "--min", "10",
                 "--max", "500").code == 0  # fmt: skip
    source = tmp_path / "limits.csv"
    source.write_text("sku,name,min_stock,max_stock\nN-1,Nut,-1,2.5\nN-2,Bolt,9,4\n")
    cases = {
        ("adjust", "--sku", "ITEM-001", "--delta", "-500"): (
            "quantity: cannot remove 500 from ITEM-001: only 95 on hand"
        ),
        ("adjust", "--sku", "ITEM-001", "--delta", "0"): "quantity: a change of 0 changes nothing",
        ("add", "--sku", "N", "--name", "n", "--min", "20", "--max", "10"): (
            "minimum: 20 is above the maximum of 10 (a maximum of 0 means no ceiling)"
        ),
        ("update", "--sku", "ITEM-001", "--min", "-1"): "minimum: must be 0 or more, got -1",
        ("update", "--sku", "ITEM-001", "--max", "5"): "minimum: 10 is above the maximum of 5",
        ("update", "--sku", "ITEM-001"): "nothing to update: give a new name, category, minimum",
        ("import", str(source)): "minimum: -1 is negative; maximum: '2.5' is a fraction",
    }
    for args, words in cases.items():
        result = clean(atlas(*args))
        assert result.code == 1, args
        assert words in result.err + result.out, (args, result)
        assert not INTERNAL_NAMES.search(result.err + result.out), (args, result)
        envelope = json.loads(atlas("--json", *args).out)
        assert not INTERNAL_NAMES.search(json.dumps(envelope.get("error", "")))


# 14. Storage the CLI cannot serve, and a full disk ---------------------------------------------


@pytest.mark.parametrize(
    ("where", "env"),
    [
        (["--db", "mysql://atlas:secret@db.example/stock"], {}),
        ([], {"ATLAS_STORAGE_PATH": "mongodb://db.example/stock"}),
        (["--db", "sqlite://stock.db"], {}),
    ],
)
def test_a_url_atlas_does_not_serve_is_refused_not_made_a_folder(
    tmp_path: Path, where: list[str], env: dict[str, str]
) -> None:
    command = [sys.executable, "-m", "atlas_tui", *where, "add", "--sku", "A", "--name", "n"]
    done = subprocess.run(
        command, cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""
    setting = "--db" if where else "ATLAS_STORAGE_PATH"
    assert done.stderr.startswith(f"error: {setting}: ") and done.stderr.count("\n") == 1
    assert "sqlite:///" in done.stderr and "secret" not in done.stderr
    assert list(tmp_path.iterdir()) == [], "nothing is created"


FULL_DISK = r"""
set -u
mount -t tmpfs -o size=256k atlas-test "$MNT" || exit 77
big=$(head -c 3000 /dev/zero | tr '\0' x)
"$PY" - "$DB" "$big" <<'END'
import json, sys
from atlas_tui.api import AtlasAPI
api = AtlasAPI(sys.argv[1])
for n in range(500):
    done = api.add_item(f"A-{n}", "n", attributes={f"k{k}": sys.argv[2] for k in range(8)})
    if not done["success"]:
        print(json.dumps(done))
        break
else:
    print("never full")
END
# More than the whole disk holds, whatever the last process's exit freed.
wide=$(head -c 4000 /dev/zero | tr '\0' y)
set -- $(for k in $(seq 60); do printf -- '--attr k%s=%s ' "$k" "$wide"; done)
"$PY" -m atlas_tui --db "$DB" add --sku LAST --name n "$@" 2>&1
"$PY" -m atlas_tui --db "$DB" verify 2>&1 | cut -c1-2
"""


def test_a_full_disk_is_a_one_line_storage_error(db: Path, tmp_path: Path) -> None:
    """A real full disk: a small tmpfs in a private mount namespace (skipped where the
    system allows no unprivileged namespaces)."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare")
    mount = tmp_path / "mnt"
    mount.mkdir()
    env = {**os.environ, "MNT": str(mount), "DB": str(mount / db.name), "PY": sys.executable}
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", FULL_DISK], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    if done.returncode == 77 or "unshare failed" in done.stderr:
        pytest.skip(f"no private tmpfs here: {done.stderr.strip()}")
    api_line, cli_line, verified = done.stdout.splitlines()
    envelope = json.loads(api_line)
    assert envelope["error_type"] == "storage", envelope
    assert "No space left on device" in envelope["error"] or "disk is full" in envelope["error"]
    assert cli_line.startswith("error: ") and "internal error" not in cli_line
    assert "No space left on device" in cli_line or "disk is full" in cli_line
    assert verified == "OK", "what was acknowledged before is intact"
