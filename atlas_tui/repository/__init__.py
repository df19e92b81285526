"""Storage behind the service: the repository interface and its backends."""

from __future__ import annotations

from atlas_tui.config import Settings
from atlas_tui.repository.backups import BackupPolicy
from atlas_tui.repository.base import InventoryRepository
from atlas_tui.repository.tinydb_repo import TinyDBRepository

__all__ = ["InventoryRepository", "TinyDBRepository", "open_repository"]


def open_repository(settings: Settings) -> InventoryRepository:
    """The repository for the configured data file (TinyDB is the embedded default)."""
    backups = (
        BackupPolicy(settings.storage_path.parent / "backups", settings.backups_kept)
        if settings.auto_backup
        else None
    )
    return TinyDBRepository(
        settings.storage_path, lock_timeout=settings.lock_timeout, backups=backups
    )
