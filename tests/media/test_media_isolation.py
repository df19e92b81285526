"""The media package stands alone: no UI, no storage, no other part of ATLAS."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import atlas_tui.media

PACKAGE = Path(atlas_tui.media.__file__).parent


def test_imports_stay_inside_the_package() -> None:
    for source in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("textual", "tinydb", "rich")), (source, name)
                if name.startswith("atlas_tui"):
                    assert name.startswith("atlas_tui.media"), (source, name)


def test_importing_it_loads_no_ui_or_storage() -> None:
    code = (
        "import sys, atlas_tui.media; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'tinydb') "
        "or (m.startswith('atlas_tui.') and not m.startswith('atlas_tui.media'))]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
