"""What the history says: reports, the store as it was at a moment, and consistency checks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from atlas_tui.domain.errors import AtlasError, StorageError, UnreachableError, ValidationError
from atlas_tui.domain.models import InventoryItem, Movement, shown, sku_key
from atlas_tui.domain.stock import Location, location_key, location_path
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


def _lines_of(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """The stock lines of a replayed item: as recorded, or (for an item stored before stock
    lines) one line at its location."""
    lines = fields.get("lines")
    if isinstance(lines, list):
        return [dict(line) for line in lines if isinstance(line, dict)]
    quantity = fields.get("quantity", 0)
    return [{"location": fields.get("location", ""), "quantity": quantity}] if quantity else []


def _line_id(location: object, lot: object, expiry: object) -> tuple[str, str, str]:
    return (location_key(str(location)), str(lot or "").casefold(), str(expiry or ""))


def apply_movement(fields: dict[str, Any], movement: Movement) -> None:
    """Bring an item's replayed fields past one movement (not an add or a delete)."""
    changes = movement.details.get("lines")
    if isinstance(changes, list):
        lines = {
            _line_id(line.get("location", ""), line.get("lot"), line.get("expiry")): line
            for line in _lines_of(fields)
        }
        for change in changes:
            location, lot, expiry, _, after = change
            key = _line_id(location, lot, expiry)
            line = lines.get(key) or {"location": location, "quantity": 0}
            if lot:
                line.setdefault("lot", lot)
            if expiry:
                line.setdefault("expiry", expiry)
            line["quantity"] = after
            lines[key] = line
        fields["lines"] = [
            line
            for line in lines.values()
            if line["quantity"] or (line.get("lot") and line.get("expiry"))
        ]
        if movement.kind == "move":
            fields["location"] = movement.details.get("to", fields.get("location", ""))
    else:
        # Recorded before stock lines: the item's one line changes, or moves with it.
        if movement.kind == "move":
            fields["location"] = movement.details.get("to", fields.get("location", ""))
        fields["quantity"] = movement.quantity_after
        if "lines" in fields:
            fields["lines"] = (
                [{"location": fields.get("location", ""), "quantity": movement.quantity_after}]
                if movement.quantity_after
                else []
            )
    fields["quantity"] = movement.quantity_after
    # Updates, and counts made by an import, carry the fields they changed.
    for name, change in (movement.details.get("changes") or {}).items():
        fields[name] = change[1]


def items_at(
    movements: Iterable[Movement], moment: datetime, current: Iterable[InventoryItem]
) -> list[InventoryItem]:
    """The items as the history says they were at `moment`.

    An add carries the item as created; later movements change its lines, quantity,
    location and fields. Items whose add predates that record fall back to their current
    fields.
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
            if movement.kind == "add":
                state[key]["updated_at"] = movement.timestamp
                continue
            # Started from the item as it is now: its lines are not what they were then.
            state[key].pop("lines", None)
        fields = state[key]
        apply_movement(fields, movement)
        fields["updated_at"] = movement.timestamp
    return sorted((InventoryItem.from_dict(fields) for fields in state.values()), key=_key)


def locations_report(
    items: Sequence[InventoryItem], recorded: Sequence[Location]
) -> dict[str, Any]:
    """Per location: items and units held (locations holding nothing listed too)."""
    known = {place.key: place for place in recorded}
    rows: dict[str, dict[str, Any]] = {}
    for place in recorded:
        rows[place.key] = {"code": place.code, "items": 0, "quantity": 0}
    for item in items:
        seen: set[str] = set()
        for line in item.stock:
            key = location_key(line.location)
            row = rows.setdefault(key, {"code": line.location, "items": 0, "quantity": 0})
            row["quantity"] += line.quantity
            if key not in seen:
                row["items"] += 1
                seen.add(key)
    result = []
    for key in sorted(rows):
        row = rows[key]
        record = known.get(key)
        row["path"] = location_path(row["code"], known) if row["code"] else []
        row["name"] = record.name if record else ""
        row["retired"] = bool(record and record.retired)
        result.append(row)
    return {"locations": result}


def expiring_report(items: Sequence[InventoryItem], today: date, days: int) -> dict[str, Any]:
    """Lines whose expiry date is within `days` of `today` (or past), soonest first."""
    until = (today + timedelta(days=days)).isoformat()
    rows: list[dict[str, Any]] = []
    for item in items:
        for line in item.stock:
            if line.expiry and line.expiry <= until and line.quantity:
                left = (date.fromisoformat(line.expiry) - today).days
                rows.append(
                    {
                        "sku": item.sku,
                        "name": item.name,
                        "location": line.location,
                        "lot": line.lot,
                        "expiry": line.expiry,
                        "days_left": left,
                        "expired": left < 0,
                        "quantity": line.quantity,
                        "unit": item.unit,
                    }
                )
    rows.sort(key=lambda row: (row["expiry"], row["sku"].casefold(), row["location"].casefold()))
    return {"expiring": rows, "days": days, "as_of": today.isoformat()}


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
    except UnreachableError:
        raise  # not a finding about the store: nothing of it was read
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
    except UnreachableError:
        raise
    except StorageError as exc:
        return _verdict(len(raw), 0, [*problems, ("", str(exc))])

    state: dict[str, tuple[bool, int, str]] = {}
    lines_of: dict[str, dict[str, Any] | None] = {}
    for m in movements:
        _replay_lines(lines_of, m)
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
        elif stored is not None:
            replayed = lines_of.get(key)
            if replayed is not None and _line_set(replayed) != _line_set(
                {"lines": [line.to_dict() for line in stored.stock]}
            ):
                problems.append((stored.sku, "stock lines differ from what its history says"))
    return _verdict(len(raw), len(movements), problems)


def _replay_lines(lines_of: dict[str, dict[str, Any] | None], m: Movement) -> None:
    """Follow an item's lines through the history, from an add that recorded them; an
    item added before stock lines is followed from its first line movement onwards only
    where its location is known (its add), else not checked."""
    key = sku_key(m.sku)
    if m.kind == "delete":
        lines_of.pop(key, None)
        return
    if m.kind == "add":
        snapshot = m.details.get("item")
        lines_of[key] = dict(snapshot) if isinstance(snapshot, dict) else None
        return
    fields = lines_of.get(key)
    if fields is not None:
        apply_movement(fields, m)


def _line_set(fields: dict[str, Any]) -> set[tuple[tuple[str, str, str], int]]:
    return {
        (_line_id(line.get("location", ""), line.get("lot"), line.get("expiry")), line["quantity"])
        for line in _lines_of(fields)
        if line.get("quantity")
    }


def _verdict(items: int, movements: int, problems: list[tuple[str, str]]) -> dict[str, Any]:
    ordered = sorted(problems, key=lambda problem: problem[0].casefold())
    return {
        "ok": not problems,
        "items": items,
        "movements": movements,
        "problems": [{"sku": sku, "problem": text} for sku, text in ordered],
    }
