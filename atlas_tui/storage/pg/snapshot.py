"""A PostgreSQL store's backup: a self-contained SQLite store of one moment's data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from atlas_tui.domain.errors import StorageError
from atlas_tui.domain.models import InventoryItem, Movement
from atlas_tui.domain.stock import Location
from atlas_tui.storage.files import fsync_dir
from atlas_tui.storage.sqlite_repo import SQLiteRepository


def write_sqlite_copy(
    target: Path,
    items: list[InventoryItem],
    movements: list[Movement],
    locations: Sequence[Location],
) -> Path:
    """Write the copy in a folder of its own beside `target`, then rename it into place:
    a backup killed midway leaves no half-written file under the backup's name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    try:
        work.mkdir()
        built = work / "store.sqlite"
        copy = SQLiteRepository(built)
        try:
            copy.replace_all(items, movements, locations)
        finally:
            copy.close()
        os.replace(built, target)
        fsync_dir(target.parent)
    except OSError as exc:
        raise StorageError(f"cannot write backup {target}: {exc}; nothing was changed") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
