"""What the history says: reports, the store as it was at a moment, and consistency checks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from atlas_tui.domain.errors import AtlasError, StorageError, ValidationError
from atlas_tui.domain.models import InventoryItem, Movement, shown, sku_key
from atlas_tui.storage.base import InventoryRepository


def parse_moment(field: str, value: object) -> datetime:
    """A UTC moment from a datetime or ISO 8601 text; a time without zone is read as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                field,
                f"must be a date or an ISO 8601 time such as 2026-11-01T12:00Z, got {shown(text)}",
            ) from None
    else:
        raise ValidationError(field, f"must be a date or an ISO 8601 time, got {shown(value)}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00-01:00, before the first moment there is
        raise ValidationError(field, f"is out of range, got {shown(value)}") from None


def build_report(report_type: str, items: list[InventoryItem]) -> dict[str, Any]:
    """The summary, low or over report over these items."""
    if report_type == "low":
        return {"low_stock": [item.to_dict() for item in items if item.is_low]}
    if report_type == "over":
        return {"over_stock": [item.to_dict() for item in items if item.is_over]}
    by_category: dict[str, dict[str, int]] = {}
    for item in items:
        entry = by_category.setdefault(item.category, {"items": 0, "quantity": 0})
        entry["items"] += 1
        entry["quantity"] += item.quantity
    return {
        "total_items": len(items),
        "total_quantity": sum(item.quantity for item in items),
        "low_stock_count": sum(1 for item in items if item.is_low),
        "over_stock_count": sum(1 for item in items if item.is_over),
        "by_category": dict(sorted(by_category.items(), key=lambda kv: kv[0].casefold())),
    }


def items_at(
    movements: Iterable[Movement], moment: datetime, current: Iterable[InventoryItem]
) -> list[InventoryItem]:
    """The items as the history says they were at `moment`.

    An add carries the item as created; later movements change its quantity, location and
    fields. Items whose add predates that record fall back to their current fields.
    """
    now = {item.key: item.to_dict() for item in current}
    state: dict[str, dict[str, Any]] = {}
    for movement in movements:
        if movement.timestamp > moment:
            continue
        key = sku_key(movement.sku)
        if movement.kind == "delete":
            state.pop(key, None)
            continue
        if movement.kind == "add" or key not in state:
            snapshot = movement.details.get("item") if movement.kind == "add" else None
            base = snapshot or now.get(key) or {"sku": movement.sku, "name": movement.sku}
            state[key] = dict(base)
        fields = state[key]
        fields["quantity"] = movement.quantity_after
        if movement.kind == "move":
            fields["location"] = movement.details.get("to", fields.get("location", ""))
        # Updates, and counts made by an import, carry the fields they changed.
        for name, change in (movement.details.get("changes") or {}).items():
            fields[name] = change[1]
        fields["updated_at"] = movement.timestamp
    return sorted((InventoryItem.from_dict(fields) for fields in state.values()), key=_key)


def _key(item: InventoryItem) -> str:
    return item.key


@runtime_checkable
class _Checkpointed(Protocol):
    """A store whose data file may lag behind its journal (TinyDB)."""

    def checkpoint(self) -> bool: ...


def verify_store(repository: InventoryRepository) -> dict[str, Any]:
    """Every item obeys the rules and the history replays to the stored quantities.

    A TinyDB data file is brought up to date first (when it may be written), so that
    after a verify a plain TinyDB reader sees every change.
    """
    if isinstance(repository, _Checkpointed):
        with contextlib.suppress(AtlasError):  # a damaged store is reported below
            repository.checkpoint()
    problems: list[tuple[str, str]] = []
    items: dict[str, InventoryItem] = {}
    try:
        raw = repository.raw_items()
    except StorageError as exc:
        return _verdict(0, 0, [("", str(exc))])
    for label, data in raw:
        name = str(data.get("sku", label))
        try:
            item = InventoryItem.from_dict(data)
        except ValidationError as exc:
            problems.append((name, f"{label} breaks a rule: {exc}"))
            continue
        if item.key in items:
            problems.append((item.sku, "is stored twice"))
        items[item.key] = item
    try:
        movements = repository.movements()
    except StorageError as exc:
        return _verdict(len(raw), 0, [*problems, ("", str(exc))])

    state: dict[str, tuple[bool, int, str]] = {}
    for m in movements:
        key = sku_key(m.sku)
        exists, quantity, _ = state.get(key, (False, 0, m.sku))
        where = f"movement #{m.id} ({m.kind})"
        if m.delta != m.quantity_after - m.quantity_before:
            problems.append(
                (m.sku, f"{where} says delta {m.delta} for {m.quantity_before}→{m.quantity_after}")
            )
        if m.kind == "add":
            if exists:
                problems.append((m.sku, f"{where} adds an item that already existed"))
        elif not exists:
            problems.append((m.sku, f"{where} changes an item that did not exist"))
        elif m.quantity_before != quantity:
            problems.append(
                (m.sku, f"{where} starts from {m.quantity_before}, the one before left {quantity}")
            )
        alive = m.kind != "delete"
        state[key] = (alive, m.quantity_after if alive else 0, m.sku)

    for key in sorted(set(items) | set(state)):
        stored = items.get(key)
        exists, quantity, sku = state.get(key, (False, 0, key))
        if stored is not None and not exists:
            why = "has no history" if key not in state else "was deleted according to its history"
            problems.append((stored.sku, f"is stored with quantity {stored.quantity} but {why}"))
        elif stored is None and exists:
            problems.append((sku, f"is missing, but its history says it holds {quantity}"))
        elif stored is not None and stored.quantity != quantity:
            problems.append(
                (
                    stored.sku,
                    f"quantity is {stored.quantity}, but its history adds up to {quantity}",
                )
            )
    return _verdict(len(raw), len(movements), problems)


def _verdict(items: int, movements: int, problems: list[tuple[str, str]]) -> dict[str, Any]:
    ordered = sorted(problems, key=lambda problem: problem[0].casefold())
    return {
        "ok": not problems,
        "items": items,
        "movements": movements,
        "problems": [{"sku": sku, "problem": text} for sku, text in ordered],
    }
