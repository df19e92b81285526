"""Dependencies point one way: screens -> service -> repository -> storage."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from support import ROOT


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def direct_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_storage_package_names_tinydb() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in [*ROOT.glob("atlas_tui/**/*.py"), *ROOT.glob("screens/**/*.py")]
        if "tinydb" in direct_imports(path) and "storage" not in path.parts
    ]
    assert offenders == []


def test_no_database_is_opened_at_import_time(tmp_path: Path) -> None:
    code = (
        "import atlas_tui.api, atlas_tui.cli.main, atlas_tui.app, screens.items\n"
        "import os; print(sorted(os.listdir(os.environ['HOME'])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
