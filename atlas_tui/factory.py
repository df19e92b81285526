"""One place that wires storage -> repository -> service for every entry point."""

from __future__ import annotations

import os

from atlas_tui.config import Settings
from atlas_tui.repository import open_repository
from atlas_tui.service import InventoryService


def make_service(
    storage_path: str | os.PathLike[str] | None = None, settings: Settings | None = None
) -> InventoryService:
    """A service on the given file, else ATLAS_STORAGE_PATH, else the per-user default."""
    settings = settings or Settings.from_env(storage_path=storage_path)
    return InventoryService(
        open_repository(settings), max_items=settings.max_items, user=settings.user
    )
