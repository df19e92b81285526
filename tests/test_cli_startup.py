"""What `atlas show` loads: only its own backend, and inspect only when something uses it.
The real CLI in a subprocess; the figures of start-up time are bench/cli.py's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from atlas_tui.factory import make_service

PROBE = """
import sys
from atlas_tui.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
watched = ["tinydb", "atlas_tui.storage.tinydb_repo", "atlas_tui.storage.journal",
           "atlas_tui.storage.sqlite_repo", "orjson", "ast", "socket", "secrets"]
print("LOADED", sorted(name for name in watched if name in sys.modules), code, file=sys.stderr)
import inspect  # still whole for whoever uses it next
print("INSPECT", inspect.signature(divmod), inspect.isclass(int), file=sys.stderr)
"""


def probe(db: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr


@pytest.fixture
def stores(tmp_path: Path) -> dict[str, Path]:
    found = {}
    for suffix in ("sqlite", "json"):
        db = tmp_path / f"store.{suffix}"
        make_service(db).add("W-1", "Widget", "Tools", 3, "A1", attributes={"colour": "red"})
        found[suffix] = db
    return found


def test_show_on_sqlite_loads_neither_tinydb_nor_orjson(stores: dict[str, Path]) -> None:
    shown = probe(stores["sqlite"], "show", "--sku", "w-1")
    assert "LOADED ['atlas_tui.storage.sqlite_repo'] 0" in shown
    assert "INSPECT (x, y, /) True" in shown


def test_show_on_tinydb_does_not_load_the_sqlite_backend(stores: dict[str, Path]) -> None:
    shown = probe(stores["json"], "show", "--sku", "w-1")
    loaded = shown.split("LOADED ", 1)[1].split("\n", 1)[0]
    assert "atlas_tui.storage.tinydb_repo" in loaded
    assert "sqlite_repo" not in loaded and "'ast'" not in loaded and loaded.endswith(" 0")


def test_show_still_prints_attributes_read_without_orjson(stores: dict[str, Path]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "atlas_tui", "--db", str(stores["sqlite"]), "show", "--sku", "W-1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "colour" in done.stdout and "red" in done.stdout


def test_a_change_still_records_the_login_name(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGNAME", "operator7")
    service = make_service(stores["sqlite"])
    service.adjust("W-1", 1)
    assert service.history("W-1")[0].user == "operator7"
