"""Nothing raw reaches a terminal: parser errors, human output, errors on stderr, JSON and
exports shown on a terminal all pass through one escaping rule; files and pipes get the data
exactly. Everything here runs the real CLI in a subprocess (a pseudo-terminal where a
terminal matters)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from support import Result, on_a_terminal

from atlas_tui.factory import make_service
from atlas_tui.text import safe_json, safe_text

Atlas = Callable[..., Result]

# An OSC that sets the window title, an OSC 52 clipboard write, CSI as one C1 byte, a bidi
# override, a zero-width space, a line separator, a tag character and DEL.
HOSTILE = "N\x1b]0;X\x07\x1b]52;c;SGVsbG8=\x07\x9b31m\u202eevil\u200b\u2028\U000e0041\x7f"
UNSAFE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def unsafe_chars(text: str) -> list[str]:
    """Characters a terminal must not receive raw (line ends aside)."""
    return [c for c in text if c not in "\n\r" and unicodedata.category(c) in UNSAFE]


def raw_controls(data: bytes) -> list[bytes]:
    """ESC, BEL and C1 controls (as UTF-8 or as single bytes) in terminal output."""
    found = [bytes([b]) for b in data if b in (0x1B, 0x07, 0x9B)]
    text = data.decode("utf-8", "replace")
    return found + [c.encode() for c in unsafe_chars(text)]


def run_bytes(*args: str | bytes, db: Path) -> subprocess.CompletedProcess[bytes]:
    """The CLI with arguments given as bytes: what a shell passes for $'\\xff'."""
    command: list[str | bytes] = [sys.executable, "-m", "atlas_tui", "--db", str(db), *args]
    return subprocess.run(command, capture_output=True, timeout=60)


@pytest.fixture
def hostile(atlas: Atlas) -> str:
    """An item H-1 whose name, category and attribute hold terminal controls."""
    added = atlas("add", "--sku", "H-1", "--name", HOSTILE, "--category", "C\x1b[2J",
                  "--attr", f"note={HOSTILE}")  # fmt: skip
    assert added.code == 0, added.err
    return HOSTILE


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--bogus", "\x1b]0;X\x07"],  # an unknown argument, echoed raw by argparse
        ["\x1b]0;X\x07\u202e"],  # an unknown command
        ["add", "--sku", "A", "--name", "n", "--qty", "\x9b1m"],  # a bad number
        ["list", "--bogus\u200b"],
    ],
)
def test_parser_errors_reach_the_terminal_escaped(atlas: Atlas, args: list[str]) -> None:
    result = atlas(*args)
    assert result.code == 2 and "usage: atlas" in result.err
    assert unsafe_chars(result.err) == []
    assert "\\x1b]0;X\\x07" in result.err or "\\x9b" in result.err or "\\u200b" in result.err


def test_help_and_version_still_read_normally(atlas: Atlas) -> None:
    assert atlas("--version").out.startswith("atlas ")
    shown = atlas("import", "--help").out
    assert "--dry-run" in shown and "\\n" not in shown


def test_json_output_escapes_controls_and_invisible_characters(atlas: Atlas, hostile: str) -> None:
    for args in (["show", "--sku", "H-1"], ["list"], ["history", "--sku", "H-1"]):
        out = atlas("--json", *args).out
        assert unsafe_chars(out) == [], args
        for escape in ("\\u001b]0;X\\u0007", "\\u009b", "\\u202e", "\\u200b", "\\u2028",
                       "\\udb40\\udc41", "\\u007f"):  # fmt: skip
            assert escape in out, (args, escape)
    item = json.loads(atlas("--json", "show", "--sku", "H-1").out)["item"]
    assert item["name"] == hostile and item["attributes"] == {"note": hostile}


def test_human_output_and_errors_are_escaped(atlas: Atlas, hostile: str) -> None:
    for args in (["list"], ["show", "--sku", "H-1"], ["history", "--sku", "h-1"], ["report"]):
        result = atlas(*args)
        assert result.code == 0 and unsafe_chars(result.out) == [], args
    assert "\\x9b31m\\u202eevil" in atlas("show", "--sku", "H-1").out
    refused = atlas("adjust", "--sku", "H-1\x1b]0;X\x07", "--delta", "1")
    assert refused.code == 1 and unsafe_chars(refused.err) == []
    assert "\\x1b]0;X\\x07" in refused.err
    missing = atlas("import", "/nowhere/\x1b]0;X\x07.csv")
    assert missing.code == 1 and unsafe_chars(missing.err) == []


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_export_to_a_terminal_is_escaped(
    atlas: Atlas, db: Path, hostile: str, file_format: str
) -> None:
    code, shown = on_a_terminal("export", "--format", file_format, db=db)
    assert code == 0 and b"H-1" in shown
    assert raw_controls(shown) == []
    text = shown.decode()
    assert ("\\x1b]0;X\\x07" if file_format == "csv" else "\\u001b]0;X\\u0007") in text
    if file_format == "json":  # still JSON, and still the same data
        data = json.loads(text.replace("\r\n", "\n"))
        assert data["items"][0]["name"] == hostile


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_export_to_a_pipe_or_a_file_stays_exact(
    atlas: Atlas, hostile: str, tmp_path: Path, file_format: str
) -> None:
    piped = atlas("export", "--format", file_format)
    assert (piped.code == 0 and "\x1b]0;X\x07" in piped.out) or "\\u001b" in piped.out
    source = tmp_path / f"piped.{file_format}"
    source.write_text(piped.out, encoding="utf-8", newline="")
    other = tmp_path / "copy" / "atlas.json"
    imported = subprocess.run(
        [sys.executable, "-m", "atlas_tui", "--db", str(other), "import", str(source)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imported.returncode == 0, imported.stderr
    copy = make_service(other).get("H-1")
    assert (copy.name, copy.category, copy.attributes) == (hostile, "C\x1b[2J", {"note": hostile})


def test_arguments_that_are_not_utf8_are_refused_in_one_line(db: Path, tmp_path: Path) -> None:
    added = run_bytes("add", "--sku", "A-1", "--name", b"caf\xe9", db=db)
    assert added.returncode == 1
    assert added.stderr == b"error: name: is not UTF-8 text (byte 0xe9)\n"
    shown = run_bytes("show", "--sku", b"\xff", db=db)
    assert shown.stderr == b"error: sku: is not UTF-8 text (byte 0xff)\n"
    as_json = run_bytes("--json", "add", "--sku", b"\xffA", "--name", "n", db=db)
    assert json.loads(as_json.stdout)["error"] == "sku: is not UTF-8 text (byte 0xff)"
    assert not db.exists() or make_service(db).list_items() == []


def test_a_file_name_that_is_not_utf8_still_imports_and_prints(
    tmp_path: Path,
) -> None:
    """A Latin-1 file name is a real file: it is read by its name, shown escaped, and
    recorded in the history with U+FFFD for the byte that is not UTF-8."""
    folder = os.fsencode(tmp_path)
    source = folder + b"/caf\xe9.csv"
    Path(os.fsdecode(source)).write_text("sku,name\nA-1,Anvil\n")
    db = folder + b"/st\xe9.json"
    command = [sys.executable, "-m", "atlas_tui", "--db", db]
    imported = subprocess.run([*command, "import", source], capture_output=True, timeout=60)
    assert imported.returncode == 0, imported.stderr
    store = make_service(os.fsdecode(db))
    assert store.history("A-1")[0].reason == "import of caf\ufffd.csv"
    out = folder + b"/exp\xe9.csv"
    shown = subprocess.run([*command, "export", "--out", out], capture_output=True, timeout=60)
    assert shown.returncode == 0 and shown.stdout.endswith(b"/exp\\udce9.csv\n")
    as_json = subprocess.run(
        [*command, "--json", "export", "--out", out], capture_output=True, timeout=60
    )
    assert b"exp\\udce9.csv" in as_json.stdout
    assert json.loads(as_json.stdout)["export"]["path"] == os.fsdecode(out)


def test_safe_json_round_trips_every_character_it_escapes() -> None:
    value = {
        "text": "".join(chr(n) for n in range(0x00, 0x2100) if not 0xD800 <= n < 0xE000),
        "astral": "\U000e0001\U0001d173\U0001f600",
        "lone": "\udcff",
        HOSTILE: [HOSTILE],
    }
    shown = safe_json(value)
    assert unsafe_chars(shown) == []
    assert json.loads(shown) == value
    assert "\U0001f600" in shown, "printable characters are left alone"
    assert unsafe_chars(safe_text(HOSTILE)) == []
    assert safe_text("a\r\nb\x1b", keep_lines=True) == "a\nb\\x1b"
