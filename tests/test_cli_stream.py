"""`atlas list` for people and scripts, start-up imports, the app's fail-fast check and big
demos: the real CLI in subprocesses (a pseudo-terminal where a terminal matters)."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support import Result, on_a_terminal

from atlas_tui.factory import make_service
from atlas_tui.services.demo import MAX_ITEMS, demo_skus, sku_digits

Atlas = Callable[..., Result]

HOSTILE = [
    ("Q-1", 'comma, "quoted" name', "a,b", "loc\ttab"),
    ("Q-2", "line\nbreak and \\ backslash", "cr\rhere", 'x"'),
    ("Q-3", "\x1b[31mred\x1b[0m \x1b]0;title\x07 \u202eevil", "[bold]C[/bold]", "=1+2"),
]


def stocked(db: Path, count: int, *, long_at: int | None = None) -> None:
    """`count` items L-00000… in one transaction; item `long_at` has a 60-character name."""
    service = make_service(db)
    rows = [
        {"sku": f"L-{n:05d}", "name": "N" * 60 if n == long_at else f"Item {n}", "quantity": n}
        for n in range(count)
    ]
    service.add_many(rows)


def hostile(db: Path) -> None:
    service = make_service(db)
    for sku, name, category, location in HOSTILE:
        service.add(sku, name, category, 7, location, 2, 9)


def run(
    db: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "atlas_tui", "--db", str(db), *args]
    return subprocess.run(
        command, capture_output=True, timeout=60, env={**os.environ, **(env or {})}
    )


def on_a_terminal_of(db: Path, *args: str, columns: int = 80) -> bytes:
    """What the CLI writes to a pseudo-terminal `columns` wide (it must succeed)."""
    code, shown = on_a_terminal(*args, db=db, env={"COLUMNS": str(columns), "TERM": "xterm"})
    assert code == 0
    return shown


def test_csv_reads_back_exactly_with_hostile_values(db: Path) -> None:
    hostile(db)
    done = run(db, "list", "--format", "csv")
    assert done.returncode == 0 and done.stderr == b""
    rows = list(csv.reader(io.StringIO(done.stdout.decode(), newline="")))
    assert rows[0] == ["sku", "name", "category", "quantity", "location", "min_stock",
                       "max_stock", "status"]  # fmt: skip
    assert [(row[0], row[1], row[2], row[4]) for row in rows[1:]] == HOSTILE
    assert [row[3] for row in rows[1:]] == ["7", "7", "7"]


def test_tsv_is_one_line_per_item_and_reads_back_exactly(db: Path) -> None:
    hostile(db)
    done = run(db, "list", "--format", "tsv")
    assert done.returncode == 0 and done.stderr == b""
    lines = done.stdout.decode().split("\n")
    assert lines[-1] == "" and len(lines) == 1 + len(HOSTILE) + 1

    def unescape(field: str) -> str:
        names = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
        out, chars = [], iter(field)
        for char in chars:
            out.append(names[next(chars)] if char == "\\" else char)
        return "".join(out)

    rows = [[unescape(f) for f in line.split("\t")] for line in lines[1:-1]]
    assert all(len(row) == 8 for row in rows)
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == HOSTILE


@pytest.mark.parametrize("form", ["csv", "tsv", "table"])
def test_no_terminal_control_reaches_a_terminal(db: Path, form: str) -> None:
    hostile(db)
    shown = on_a_terminal_of(db, "list", "--format", form)
    text = shown.decode()
    assert "\x07" not in text and "\x1b]" not in text and "\u202e" not in text
    assert "\x1b[31mred" not in text and "\\x1b[31mred" in text
    assert "[bold]C[/bold]" in text


def test_table_fits_the_terminal_and_a_pipe_gets_every_character(db: Path) -> None:
    service = make_service(db)
    service.add("LONG-" + "X" * 40, "N" * 150, "C" * 60, 123456789, "L" * 60)
    service.add("S-1", "short", "c", 1, "l")
    shown = on_a_terminal_of(db, "list", columns=80).decode()
    lines = [line for line in shown.replace("\r", "").split("\n") if line]
    assert max(len(line) for line in lines) <= 80
    assert "123456789" in shown and "…" in shown
    assert "".join(lines).count("X") == 40, "a SKU folds but is never cut"
    piped = run(db, "list").stdout.decode()
    assert "N" * 150 in piped and "C" * 60 in piped and "L" * 60 in piped
    assert "LONG-" + "X" * 40 in piped and "2 items" in piped


def test_list_limit_gives_the_first_items_by_sku(db: Path) -> None:
    stocked(db, 30)
    rows = run(db, "list", "--limit", "5", "--format", "tsv").stdout.decode().splitlines()[1:]
    assert [row.split("\t")[0] for row in rows] == [f"L-{n:05d}" for n in range(5)]
    searched = run(db, "list", "--search", "L-0002", "--limit", "3", "--format", "csv")
    assert [row[0] for row in list(csv.reader(io.StringIO(searched.stdout.decode())))[1:]] == [
        "L-00020", "L-00021", "L-00022",
    ]  # fmt: skip
    listed = json.loads(run(db, "list", "--json", "--limit", "2").stdout)
    assert [item["sku"] for item in listed["items"]] == ["L-00000", "L-00001"]
    assert "5 items" in run(db, "list", "--limit", "5").stdout.decode()
    for bad in (
        ["--limit", "0"],
        ["--limit", "x"],
        ["--format", "xml"],
        ["--json", "--format", "csv"],
    ):
        refused = run(db, "list", *bad)
        assert refused.returncode == 2 and b"Traceback" not in refused.stderr, bad


def test_columns_come_from_the_first_rows_only(db: Path) -> None:
    """The first line is laid out before the rest is read: a long name far down the list
    does not widen it (that row's name pushes its own line instead, cut nowhere)."""
    stocked(db, 600, long_at=500)
    everything = run(db, "list").stdout.decode().splitlines()
    first = run(db, "list", "--limit", "200").stdout.decode().splitlines()
    assert everything[:202] == first[:202]
    assert any("N" * 60 in line for line in everything)


def test_a_closed_pipe_ends_the_listing_quietly(db: Path) -> None:
    stocked(db, 3000)  # far more than a pipe holds
    child = subprocess.Popen(
        [sys.executable, "-m", "atlas_tui", "--db", str(db), "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline().startswith(b"SKU")
    child.stdout.close()  # as `| head -1` does
    assert child.stderr.read() == b""
    assert child.wait(timeout=60) == 0


PROBE = """
import sys
from atlas_tui.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = ["rich", "rapidfuzz", "textual", "atlas_tui.media", "atlas_tui.services.exchange",
         "atlas_tui.formats", "atlas_tui.services.imports", "atlas_tui.services.maintenance",
         "atlas_tui.app"]
loaded = [name for name in heavy if name in sys.modules]
print("LOADED", loaded, code, file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["show", "--sku", "L-00001"],
        ["list"],
        ["list", "--format", "csv"],
        ["add", "--help"],
    ],
)
def test_quick_commands_import_only_what_they_need(db: Path, args: list[str]) -> None:
    stocked(db, 3)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--db", str(db), *args], capture_output=True, timeout=60
    )
    assert b"LOADED [] 0" in done.stderr, done.stderr


def test_find_still_loads_the_media_engine(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps({"title": "Heat", "year": 1995}))
    done = run(db, "find", "Heat", "--dir", str(folder))
    assert done.returncode == 0 and b"Heat" in done.stdout


def test_the_app_refuses_a_bad_file_before_the_screen_takes_over(db: Path) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"this is not a store")
    for args in ([], ["tui"]):
        done = run(db, *args)
        assert done.returncode == 1 and b"Traceback" not in done.stderr
        assert done.stderr.startswith(b"error: ") and done.stderr.count(b"\n") == 1
    assert db.read_bytes() == b"this is not a store"
    bad_setting = run(db.with_name("other.json"), env={"ATLAS_MAX_ITEMS": "lots"})
    assert bad_setting.returncode == 1 and b"ATLAS_MAX_ITEMS" in bad_setting.stderr


def test_the_demo_sku_space_holds_a_million_distinct_codes() -> None:
    assert MAX_ITEMS == 1_000_000
    digits = sku_digits(MAX_ITEMS)
    assert 8 * 9 * 10 ** (digits - 1) >= 4 * MAX_ITEMS  # room to spare: draws stay quick
    assert sku_digits(300) == 5  # small demos keep the familiar EL-12345 shape
    taken = {"el-10000", "fa-10001"}
    skus = demo_skus(random.Random(1), 50_000, taken)
    assert len(set(skus)) == 50_000 and not {s.casefold() for s in skus} & taken


def test_demo_refuses_too_many_items_in_one_line(atlas: Atlas, db: Path) -> None:
    for value, code in (("1000001", 1), ("0", 2), ("lots", 2)):
        done = atlas("demo", "--items", value)
        assert done.code == code and "Traceback" not in done.err
        assert "items" in done.err
    assert atlas("demo", "--items", "1000001").err.count("\n") == 1
    assert not db.exists() or make_service(db).list_items() == []


def test_a_big_demo_adds_to_a_store_and_adds_up(atlas: Atlas) -> None:
    assert atlas("add", "--sku", "EL-10000", "--name", "kept").code == 0
    done = atlas("demo", "--items", "20000")
    assert done.code == 0 and "added 20000 demo items" in done.out
    assert "OK: 20001 items" in atlas("verify").out
