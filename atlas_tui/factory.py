"""One place that wires storage -> repository -> service (-> app) for every entry point."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from atlas_tui.config import Settings
from atlas_tui.repository import open_repository
from atlas_tui.service import InventoryService

if TYPE_CHECKING:
    from atlas_tui.app import AtlasApp


def make_service(
    storage_path: str | os.PathLike[str] | None = None, settings: Settings | None = None
) -> InventoryService:
    """A service on the given file, else ATLAS_STORAGE_PATH, else the per-user default."""
    settings = settings or Settings.from_env(storage_path=storage_path)
    return InventoryService(
        open_repository(settings), max_items=settings.max_items, user=settings.user
    )


def make_app(
    storage_path: str | os.PathLike[str] | None = None, settings: Settings | None = None
) -> AtlasApp:
    """The Textual app on the configured store."""
    from atlas_tui.app import AtlasApp

    return AtlasApp(make_service(storage_path, settings))
