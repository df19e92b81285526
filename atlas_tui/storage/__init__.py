"""Storage behind the service: the repository interface and its backends."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_tui.config import Settings
from atlas_tui.storage.base import InventoryRepository

# Each backend is imported when a store of its kind is opened: `atlas show` on a SQLite
# store does not pay for TinyDB and its journal, nor the other way round.
if TYPE_CHECKING:
    from atlas_tui.storage.sqlite_repo import SQLiteRepository
    from atlas_tui.storage.tinydb_repo import TinyDBRepository

__all__ = ["InventoryRepository", "SQLiteRepository", "TinyDBRepository", "open_repository"]


def __getattr__(name: str) -> Any:
    if name == "SQLiteRepository":
        from atlas_tui.storage.sqlite_repo import SQLiteRepository

        return SQLiteRepository
    if name == "TinyDBRepository":
        from atlas_tui.storage.tinydb_repo import TinyDBRepository

        return TinyDBRepository
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_repository(settings: Settings, path: Path | None = None) -> InventoryRepository:
    """The repository for the configured data file (or `path`), backend by its name."""
    path = path or settings.storage_path
    backups = None
    if settings.auto_backup:
        from atlas_tui.storage.backups import BackupPolicy, default_backup_dir

        backups = BackupPolicy(default_backup_dir(path), settings.backups_kept)
    if settings.backend_for(path) == "sqlite":
        from atlas_tui.storage.sqlite_repo import SQLiteRepository

        return SQLiteRepository(path, lock_timeout=settings.lock_timeout, backups=backups)
    from atlas_tui.storage.tinydb_repo import TinyDBRepository

    return TinyDBRepository(path, lock_timeout=settings.lock_timeout, backups=backups)
