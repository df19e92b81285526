"""Storage behind the service: the repository interface and its backends."""

from __future__ import annotations

from pathlib import Path

from atlas_tui.config import Settings
from atlas_tui.repository.backups import BackupPolicy, default_backup_dir
from atlas_tui.repository.base import InventoryRepository
from atlas_tui.repository.sqlite_repo import SQLiteRepository
from atlas_tui.repository.tinydb_repo import TinyDBRepository

__all__ = ["InventoryRepository", "SQLiteRepository", "TinyDBRepository", "open_repository"]


def open_repository(settings: Settings, path: Path | None = None) -> InventoryRepository:
    """The repository for the configured data file (or `path`), backend by its name."""
    path = path or settings.storage_path
    backups = (
        BackupPolicy(default_backup_dir(path), settings.backups_kept)
        if settings.auto_backup
        else None
    )
    if settings.backend_for(path) == "sqlite":
        return SQLiteRepository(path, lock_timeout=settings.lock_timeout, backups=backups)
    return TinyDBRepository(path, lock_timeout=settings.lock_timeout, backups=backups)
