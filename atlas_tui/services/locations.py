"""Locations: the places stock is kept, listed with what they hold, created, renamed and
retired.

A location exists wherever stock is, and also when it is recorded: created empty, given a
name or a parent (its path: warehouse > aisle > bin), or retired. Renaming one changes every
stock line and home at it, each item's change recorded in its history.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from atlas_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from atlas_tui.domain.models import (
    REASON_MAX_LEN,
    InventoryItem,
    Movement,
    MovementKind,
    clean_text,
)
from atlas_tui.domain.stock import (
    LOCATION_DEPTH_MAX,
    LOCATION_NAME_MAX_LEN,
    Location,
    StockLine,
    clean_location,
    location_key,
    location_path,
)
from atlas_tui.storage.base import InventoryRepository


class Keeper(Protocol):
    """What the location book needs of the inventory service."""

    repository: InventoryRepository

    def allow(self, action: str) -> None: ...
    def batch(self) -> AbstractContextManager[None]: ...
    def now(self) -> datetime: ...
    def record(
        self,
        item: InventoryItem,
        kind: MovementKind,
        before: int,
        after: int,
        reason: str | None,
        now: datetime,
        details: dict[str, Any] | None = None,
    ) -> Movement: ...


def _summary(
    code: str, record: Location | None, items: int, quantity: int, known: dict[str, Location]
) -> dict[str, Any]:
    return {
        "code": code,
        "name": record.name if record else "",
        "parent": record.parent if record else "",
        "path": location_path(code, known),
        "retired": bool(record and record.retired),
        "items": items,
        "quantity": quantity,
    }


class LocationBook:
    """Locations of one store."""

    def __init__(self, keeper: Keeper) -> None:
        self._keeper = keeper
        self._repository = keeper.repository

    # Reads ------------------------------------------------------------------------------------

    def _known(self) -> dict[str, Location]:
        return {place.key: place for place in self._repository.locations()}

    def _holdings(self, items: Iterable[InventoryItem]) -> dict[str, tuple[str, int, set[str]]]:
        """Location key -> (code as first seen, quantity, SKU keys)."""
        found: dict[str, tuple[str, int, set[str]]] = {}
        for item in items:
            for line in item.stock:
                key = location_key(line.location)
                if not key:
                    continue
                code, quantity, skus = found.get(key, (line.location, 0, set()))
                skus.add(item.key)
                found[key] = (code, quantity + line.quantity, skus)
        return found

    def overview(self, *, empty: bool = False) -> list[dict[str, Any]]:
        """Every location (recorded, holding stock, or an item's home) with how many items
        and units it holds; with `empty`, only those holding nothing."""
        known = self._known()
        items = self._repository.items()
        held = self._holdings(items)
        codes: dict[str, str] = {key: place.code for key, place in known.items()}
        for key, (code, _, _) in held.items():
            codes.setdefault(key, code)
        for item in items:
            if item.location:
                codes.setdefault(location_key(item.location), item.location)
        rows = []
        for key in sorted(codes):
            _, quantity, skus = held.get(key, ("", 0, set()))
            if empty and quantity:
                continue
            rows.append(_summary(codes[key], known.get(key), len(skus), quantity, known))
        return rows

    def show(self, code: object) -> dict[str, Any]:
        """One location: its record, its path, and the stock lines held there."""
        wanted = clean_location(code)
        key = location_key(wanted)
        known = self._known()
        items = self._repository.holding(wanted)
        record = known.get(key)
        if record is None and not items and not self._is_home(key):
            raise NotFoundError(f"location: no location {wanted!r}")
        lines: list[dict[str, Any]] = []
        found = record.code if record else wanted
        for item in items:
            for line in item.stock:
                if location_key(line.location) == key:
                    found = line.location if record is None else found
                    lines.append(
                        {
                            "sku": item.sku,
                            "name": item.name,
                            "unit": item.unit,
                            "lot": line.lot,
                            "expiry": line.expiry,
                            "quantity": line.quantity,
                        }
                    )
        summary = _summary(found, record, len(items), sum(row["quantity"] for row in lines), known)
        children = sorted(
            (place.code for place in known.values() if location_key(place.parent) == key),
            key=str.casefold,
        )
        return {**summary, "lines": lines, "children": children}

    def _is_home(self, key: str) -> bool:
        return any(location_key(item.location) == key for item in self._repository.items())

    # Changes ----------------------------------------------------------------------------------

    def _exists(self, key: str, known: dict[str, Location]) -> bool:
        return key in known or bool(self._repository.holding(key))

    def create(self, code: object, name: object = "", parent: object = "") -> dict[str, Any]:
        """Record a location (empty until stock is put there); a missing parent is recorded
        too. A code already recorded is refused."""
        self._keeper.allow("locations")
        wanted = clean_location(code)
        title = clean_text("name", name, LOCATION_NAME_MAX_LEN)
        above = clean_location(parent, "parent", required=False)
        with self._keeper.batch():
            known = self._known()
            key = location_key(wanted)
            if key in known:
                raise ConflictError(f"location: {known[key].code!r} already exists")
            if self._repository.holding(wanted):
                raise ConflictError(f"location: {wanted!r} already exists (it holds stock)")
            if above:
                self._check_parent(key, above, known)
                if location_key(above) not in known:
                    self._repository.put_location(Location(above))
            self._repository.put_location(Location(wanted, title, above))
        return self.show(wanted)

    def _check_parent(self, key: str, parent: str, known: dict[str, Location]) -> None:
        """Refuse a parent that is the location itself or lies inside it (a loop)."""
        if location_key(parent) == key:
            raise ValidationError("parent", "a location cannot be its own parent")
        path = location_path(parent, known)
        if key in {location_key(code) for code in path}:
            raise ValidationError("parent", f"{parent!r} is inside this location: a loop")
        if len(path) >= LOCATION_DEPTH_MAX:
            raise ValidationError("parent", f"locations nest at most {LOCATION_DEPTH_MAX} deep")

    def edit(self, code: object, *, name: object = None, parent: object = None) -> dict[str, Any]:
        """Change a location's name or parent."""
        self._keeper.allow("locations")
        wanted = clean_location(code)
        with self._keeper.batch():
            known = self._known()
            key = location_key(wanted)
            record = known.get(key) or self._implicit(wanted)
            title = record.name if name is None else clean_text("name", name, LOCATION_NAME_MAX_LEN)
            above = record.parent
            if parent is not None:
                above = clean_location(parent, "parent", required=False)
                if above:
                    self._check_parent(key, above, known)
                    if location_key(above) not in known:
                        self._repository.put_location(Location(above))
            self._repository.put_location(Location(record.code, title, above, record.retired))
        return self.show(wanted)

    def _implicit(self, code: str) -> Location:
        """A location that exists only because stock is there (or refused as unknown)."""
        items = self._repository.holding(code)
        if not items:
            raise NotFoundError(f"location: no location {code!r}")
        key = location_key(code)
        for item in items:
            for line in item.stock:
                if location_key(line.location) == key:
                    return Location(line.location)
        return Location(code)

    def retire(self, code: object, reason: str | None = None) -> dict[str, Any]:
        """Mark a location as no longer used: it takes no more stock. Refused while it holds
        stock."""
        self._keeper.allow("locations")
        wanted = clean_location(code)
        clean_text("reason", reason, REASON_MAX_LEN)
        with self._keeper.batch():
            known = self._known()
            key = location_key(wanted)
            items = self._repository.holding(wanted)
            held = sum(
                line.quantity
                for item in items
                for line in item.stock
                if location_key(line.location) == key
            )
            if held:
                raise ConflictError(
                    f"location: {wanted} holds {held} units of {len(items)} items; "
                    "transfer them elsewhere before retiring it"
                )
            record = known.get(key)
            if record is None:
                homes = [i for i in self._repository.items() if location_key(i.location) == key]
                if not items and not homes:
                    raise NotFoundError(f"location: no location {wanted!r}")
                record = Location(wanted)
            if record.retired:
                raise ValidationError("location", f"{record.code} is retired already")
            self._repository.put_location(Location(record.code, record.name, record.parent, True))
        return self.show(wanted)

    def rename(self, code: object, new_code: object, reason: str | None = None) -> dict[str, Any]:
        """Give a location a new code: every stock line and home at it follows, each item's
        change recorded (kind update). Refused when the new code is taken."""
        self._keeper.allow("locations")
        old = clean_location(code)
        new = clean_location(new_code, "to")
        why = clean_text("reason", reason, REASON_MAX_LEN) or f"location {old} renamed {new}"
        old_key, new_key = location_key(old), location_key(new)
        with self._keeper.batch():
            known = self._known()
            record = known.get(old_key)
            items = self._repository.holding(old)
            homes = [i for i in self._repository.items() if location_key(i.location) == old_key]
            if record is None and not items and not homes:
                raise NotFoundError(f"location: no location {old!r}")
            if new_key != old_key and self._exists(new_key, known):
                raise ConflictError(f"to: location {new!r} already exists")
            now = self._keeper.now()
            touched = {item.key: item for item in [*items, *homes]}
            for item in touched.values():
                lines = [
                    StockLine(new, line.quantity, line.lot, line.expiry)
                    if location_key(line.location) == old_key
                    else line
                    for line in item.stock
                ]
                home = new if location_key(item.location) == old_key else item.location
                changed = item.evolve(lines=lines, location=home, updated_at=now)
                diff: dict[str, Any] = {}
                if home != item.location:
                    diff["location"] = [item.location, home]
                diff["lines"] = [
                    [line.to_dict() for line in item.stock],
                    [line.to_dict() for line in changed.stock],
                ]
                self._repository.put(changed)
                self._keeper.record(
                    changed, "update", item.quantity, item.quantity, why, now, {"changes": diff}
                )
            base = record or Location(old)
            if record is not None:
                self._repository.remove_location(old)
            self._repository.put_location(Location(new, base.name, base.parent, base.retired))
            for child in known.values():
                if location_key(child.parent) == old_key:
                    self._repository.put_location(
                        Location(child.code, child.name, new, child.retired)
                    )
        return self.show(new)
