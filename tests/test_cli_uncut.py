"""Output to a file or a pipe is never cut to a terminal's width: the real CLI in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import on_a_terminal

from atlas_tui.factory import make_service

ITEMS = 10_000


def long_name(n: int) -> str:
    return f"Replacement part number {n} for the left-hand hydraulic assembly, {'x' * (n % 50 + 1)}"


def run_to_file(db: Path, tmp_path: Path, *args: str) -> str:
    """What `atlas ARGS > file` writes with COLUMNS=80 (it must succeed)."""
    target = tmp_path / "out.txt"
    with target.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-m", "atlas_tui", "--db", str(db), *args],
            stdout=out,
            stderr=subprocess.PIPE,
            timeout=120,
            env={**os.environ, "COLUMNS": "80"},
        )
    assert done.returncode == 0, done.stderr
    return target.read_text()


def test_list_to_a_file_keeps_every_full_name(json_db: Path, tmp_path: Path) -> None:
    service = make_service(json_db)
    service.add_many([{"sku": f"P-{n:05d}", "name": long_name(n), "quantity": n}
                      for n in range(ITEMS)])  # fmt: skip
    written = run_to_file(json_db, tmp_path, "list")
    assert "…" not in written
    lines = written.splitlines()
    assert lines[-1] == f"{ITEMS} items"
    names = {long_name(n) for n in range(ITEMS)}
    present = {name for line in lines[2:-1] for name in names & {_name_in(line)}}
    assert present == names


def _name_in(line: str) -> str:
    """The name column of a plain `atlas list` line (SKU, two spaces, name, two spaces…)."""
    return line.split("  ", 1)[1].strip().split("  ")[0]


def test_rich_tables_to_a_pipe_keep_every_full_name(json_db: Path, tmp_path: Path) -> None:
    """The reorder report is drawn by Rich, which takes $COLUMNS (else 80) when not on a
    terminal: piped, it must not cut names either; on a terminal it still fits."""
    service = make_service(json_db)
    service.add_many([{"sku": f"R-{n}", "name": long_name(n), "quantity": 1, "min_stock": 5}
                      for n in range(3)])  # fmt: skip
    written = run_to_file(json_db, tmp_path, "report", "--type", "reorder")
    assert "…" not in written
    assert all(long_name(n) in written for n in range(3))
    code, shown = on_a_terminal("report", "--type", "reorder", db=json_db,
                                env={"COLUMNS": "80", "TERM": "xterm"})  # fmt: skip
    assert code == 0 and "…".encode() in shown  # fitted to the terminal: names cut
