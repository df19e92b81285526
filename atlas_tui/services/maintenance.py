"""Whole-store operations: backup, restore and migration between backends."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from atlas_tui.config import Settings, storage_location
from atlas_tui.dburl import DatabaseURL
from atlas_tui.domain.errors import ConflictError, StorageError, ValidationError
from atlas_tui.domain.models import InventoryItem, Movement
from atlas_tui.services.replay import verify_store
from atlas_tui.storage import (
    InventoryRepository,
    SQLiteRepository,
    TinyDBRepository,
    open_repository,
    store_name,
)
from atlas_tui.storage.backups import backup_name, default_backup_dir

SQLITE_HEADER = b"SQLite format 3\x00"


def checksum(items: list[InventoryItem], movements: list[Movement]) -> str:
    """A digest of every item field and every movement, in order (ids left out)."""
    digest = hashlib.sha256()
    for item in sorted(items, key=lambda item: item.key):
        digest.update(orjson.dumps(item.to_dict(), option=orjson.OPT_SORT_KEYS))
    for movement in movements:
        data = movement.to_dict()
        data.pop("id", None)
        digest.update(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


def backup(repository: InventoryRepository, to: Path | None = None) -> Path:
    """A consistent, self-contained snapshot in `to` (default: backups/ beside the data)."""
    directory = Path(to) if to is not None else default_backup_dir(repository.path)
    if directory.exists() and not directory.is_dir():
        raise ValidationError("to", f"{directory} is not a directory")
    # A server store's backup is an SQLite store (see PostgresRepository.snapshot).
    suffix = ".json" if repository.backend == "tinydb" else ".sqlite"
    return repository.snapshot(directory / backup_name(repository.path, suffix))


def open_file(settings: Settings, file: Path) -> InventoryRepository:
    """A repository over an existing data or backup file, its backend told by its content."""
    if not file.is_file():
        raise ValidationError("file", f"{file} does not exist or is not a file")
    with open(file, "rb") as handle:
        sqlite = handle.read(16) == SQLITE_HEADER
    kind = SQLiteRepository if sqlite else TinyDBRepository
    return kind(file, lock_timeout=settings.lock_timeout)


def _check_copy(
    items: list[InventoryItem],
    movements: list[Movement],
    got: tuple[list[InventoryItem], list[Movement]],
    where: Path | DatabaseURL,
) -> dict[str, Any]:
    """Counts and checksum of what was read back from `where` against what was written."""
    expected = checksum(items, movements)
    got_items, got_movements = got
    found = checksum(got_items, got_movements)
    if (len(got_items), len(got_movements), found) != (len(items), len(movements), expected):
        raise StorageError(
            f"copy to {where} does not match: {len(got_items)}/{len(items)} items, "
            f"{len(got_movements)}/{len(movements)} movements, checksum {found[:12]} != "
            f"{expected[:12]}"
        )
    return {"items": len(items), "movements": len(movements), "checksum": expected}


def migrate(
    settings: Settings, source: InventoryRepository, to: str | os.PathLike[str]
) -> dict[str, Any]:
    """Copy every item and the full history to a new store, then check and verify the copy."""
    target_path = storage_location(to, "--to")
    if _same_store(target_path, source):
        raise ValidationError("to", "is the store being migrated")
    target = open_repository(settings, target_path)
    try:
        if target.count() or target.movement_count():
            where = "a new file" if isinstance(target_path, Path) else "an empty schema"
            raise ConflictError(f"to: {target_path} already holds data; choose {where}")
        # Items and history of one moment: read apart while writers run, they disagree.
        items, movements = source.read_all()
        places = source.locations()
        target.replace_all(items, movements, places)
    finally:
        target.close()
    fresh = open_repository(settings, target_path)
    try:
        result = _check_copy(items, movements, fresh.read_all(), target_path)
        if fresh.locations() != places:
            raise StorageError(f"copy to {target_path} does not hold the same locations")
        report = verify_store(fresh)
    finally:
        fresh.close()
    if not report["ok"]:
        problems = report["problems"]
        first = f"{problems[0]['sku'] or 'data'}: {problems[0]['problem']}"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StorageError(
            f"the copy in {target_path} does not pass verify: {first}{more}; "
            "run `atlas verify` on the store being migrated"
        )
    return {"from": store_name(source), "to": str(target_path), "backend": target.backend, **result}


def _same_store(target: Path | DatabaseURL, source: InventoryRepository) -> bool:
    if isinstance(target, DatabaseURL):
        url = getattr(source, "url", None)
        return isinstance(url, DatabaseURL) and (
            (url.host, url.port, url.dbname, url.schema)
            == (target.host, target.port, target.dbname, target.schema)
        )
    return target.exists() and target.resolve() == source.path.resolve()


def restore(settings: Settings, current: InventoryRepository, file: Path) -> dict[str, Any]:
    """Replace the store's data with a backup's, keeping a copy of what was there first."""
    file = Path(file)
    if file.exists() and file.resolve() == current.path.resolve():
        raise ValidationError("file", "is the data file itself")
    source = open_file(settings, file)
    try:
        items, movements = source.read_all()
        places = source.locations()
    finally:
        source.close()
    # One critical section from the copy of the current data to the check of the new: a
    # write acknowledged before it is in the kept copy, one acknowledged after it is kept
    # in the restored store, and none lands in between to be lost.
    with current.exclusive():
        kept = _keep_current(current)
        current.replace_all(items, movements, places)
        result = _check_copy(items, movements, current.read_all(), current.path)
    return {
        "restored": store_name(current),
        "from": str(file),
        "previous_data_kept_in": None if kept is None else str(kept),
        **result,
    }


def _keep_current(current: InventoryRepository) -> Path | None:
    """Back up the current data; if it is too damaged to read, keep its bytes as they are.

    Returns where it was kept (None when there was no data file).
    """
    if current.backend == "postgresql":
        return backup(current) if current.count() or current.movement_count() else None
    if not current.path.exists():
        return None
    try:
        return backup(current)
    except StorageError:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = default_backup_dir(current.path) / f"damaged-{current.path.stem}-{stamp}"
        target = target.with_suffix(current.path.suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(current.path, target)
        # A TinyDB store's history is in journals beside it, named after the data file:
        # kept under the copy's name, they stay its history.
        for journal in current.path.parent.glob(f"{glob.escape(current.path.name)}.history-*"):
            suffix = journal.name.removeprefix(current.path.name)
            shutil.copy2(journal, target.with_name(target.name + suffix))
        return target
