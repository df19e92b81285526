"""One place that wires storage -> repository -> service for every entry point."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import datetime

from atlas_tui.config import Settings
from atlas_tui.domain.errors import AtlasError
from atlas_tui.domain.models import utc_now
from atlas_tui.services.inventory import InventoryService
from atlas_tui.storage import open_document, open_repository, open_sessions


def make_service(
    storage_path: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> InventoryService:
    """A service on the given file, else ATLAS_STORAGE_PATH, else the per-user default.

    `clock` gives the time of every change (tests and demos pass a fixed one).
    """
    settings = settings or Settings.from_env(storage_path=storage_path)
    repository = open_repository(settings)
    # A store written before stock lines is upgraded once, here (after a backup of it); a
    # damaged one is left for the first read to report in its own words.
    with contextlib.suppress(AtlasError):
        repository.upgrade()
    sessions = open_sessions(repository, settings.lock_timeout)
    access = open_document(
        repository, "access", settings.lock_timeout, what="users and tokens file", key="users"
    )
    return InventoryService(
        repository,
        max_items=settings.max_items,
        user=settings.user,
        sessions=sessions,
        clock=clock,
        role=settings.role,
        access_store=access,
    )
