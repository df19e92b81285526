"""Items and movements as the rows of a database backend (SQLite, PostgreSQL), and back."""

from __future__ import annotations

import functools
from typing import Any

from atlas_tui.domain.errors import StorageError, ValidationError
from atlas_tui.domain.models import InventoryItem, Movement, format_timestamp, sku_key

# Rows written together mostly share one moment (an import's): format it once.
stamp = functools.lru_cache(maxsize=64)(format_timestamp)


def dumps(value: Any, empty: str) -> str:
    """A JSON column's text (`empty` for an empty value, which most are)."""
    if not value:
        return empty
    import orjson  # imported when first used: `atlas show` reads with json alone

    return orjson.dumps(value).decode()


def loads(text: object) -> object:
    """Stored JSON text as data (what is not JSON stays as it is, for the checks to refuse)."""
    if not isinstance(text, str | bytes):
        return text
    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def item_values(item: InventoryItem) -> tuple[Any, ...]:
    """key, the stored fields (ITEM_FIELDS, JSON as text), and how many other places hold
    some (the table's "+2")."""
    return (
        item.key,
        item.sku,
        item.name,
        item.category,
        item.quantity,
        item.location,
        item.min_stock,
        item.max_stock,
        stamp(item.created_at),
        stamp(item.updated_at),
        dumps(item.attributes, "{}"),
        item.unit,
        dumps(item.barcodes, "{}"),
        dumps([line.to_dict() for line in item.stock], "[]"),
        item.elsewhere,
    )


def movement_values(movement: Movement) -> tuple[Any, ...]:
    """A movement's columns but its id: sku, sku_key, kind, … details (as text)."""
    return (
        movement.sku,
        sku_key(movement.sku),
        movement.kind,
        movement.delta,
        movement.quantity_before,
        movement.quantity_after,
        movement.reason,
        movement.user,
        stamp(movement.timestamp),
        dumps(movement.details, "{}"),
    )


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
