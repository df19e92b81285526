"""Items and movements built from the rows of a database backend (SQLite, PostgreSQL)."""

from __future__ import annotations

from typing import Any

from atlas_tui.domain.errors import StorageError, ValidationError
from atlas_tui.domain.models import InventoryItem, Movement


def stored_item(data: dict[str, Any], where: str) -> InventoryItem:
    """The item a row holds (its JSON columns already parsed); a row that breaks the rules
    is a StorageError naming `where` (the store) and the SKU."""
    try:
        return InventoryItem.from_stored(data)
    except ValidationError as exc:
        raise StorageError(
            f"{where}: stored item {data['sku']!r} is invalid ({exc}); "
            "run `atlas verify` or restore a backup"
        ) from None


def stored_movement(data: dict[str, Any], where: str) -> Movement:
    """The movement a row holds (details already parsed); likewise refused, by its id."""
    try:
        return Movement.from_dict(data)
    except ValidationError as exc:
        raise StorageError(
            f"history of {where}: movement #{data['id']} is invalid ({exc}); run `atlas verify`"
        ) from None
