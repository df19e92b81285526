"""Shared fixtures: every test gets its own cache folder and a helper to write files."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from atlas_tui.media import clear_index_memory


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Keep the index cache (on disk and in memory) inside this test's tmp_path."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("ATLAS_CACHE_DIR", str(cache))
    monkeypatch.delenv("ATLAS_MEDIA_MAX_FILE_MB", raising=False)
    clear_index_memory()
    yield cache
    clear_index_memory()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty media folder."""
    folder = tmp_path / "library"
    folder.mkdir()
    return folder


@pytest.fixture
def write(root: Path) -> Callable[[str, Any], Path]:
    """``write(rel, data)`` puts a file under ``root``: text as given, a list of rows
    one JSON value per line for ``.ndjson``, anything else as a JSON document."""

    def write_file(rel: str, data: Any) -> Path:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            text = data
        elif rel.endswith(".ndjson"):
            text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in data)
        else:
            text = json.dumps(data, ensure_ascii=False, indent=2)
        path.write_text(text, encoding="utf-8")
        return path

    return write_file
