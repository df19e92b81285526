"""Events from the history: `movement` for each movement, `low_stock` when one takes an item
from above its minimum to at or below it, `count_applied` once per count session applied.

Event ids are made from the movement they stem from (its id, time, SKU and kind), so a retry
or a restart sends the same id, and a restored history's movement never reuses one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from atlas_tui.domain.models import InventoryItem, Movement, format_timestamp, sku_key

ITEM_KEYS = ("sku", "name", "category", "quantity", "location", "min_stock", "max_stock", "unit")
Lookup = Callable[[str], InventoryItem | None]


@dataclass(frozen=True, slots=True)
class Event:
    """One notification: what `body()` sends (the same bytes on every attempt)."""

    id: str
    type: str
    created_at: str
    data: dict[str, Any] = field(hash=False)

    def body(self) -> bytes:
        payload: dict[str, Any] = {"id": self.id, "type": self.type}
        payload |= {"created_at": self.created_at, "data": self.data}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Step:
    """The events of one movement, or of a whole count apply, and the last movement they
    cover (where a rule that has sent them has got to)."""

    last: Movement
    events: tuple[Event, ...]


def mark(movement: Movement) -> str:
    """What tells this movement from any other with its id (one of a restored history)."""
    return "|".join(
        (str(movement.id), format_timestamp(movement.timestamp), movement.sku, movement.kind)
    )


def _event(kind: str, movement: Movement, data: dict[str, Any]) -> Event:
    digest = hashlib.sha256(f"{kind}|{mark(movement)}".encode()).hexdigest()[:24]
    return Event(f"evt_{digest}", kind, format_timestamp(movement.timestamp), data)


def _session(movement: Movement) -> object:
    """The count session a movement was applied from, or None."""
    return movement.details.get("session") if movement.kind == "count" else None


def whole_applies(movements: Sequence[Movement], full: bool) -> list[Movement]:
    """`movements` without a trailing count apply that may go on past them (a `full` page
    of the history): one apply makes one event, so it is read whole next time."""
    found = list(movements)
    if not full or not found or _session(found[-1]) is None:
        return found
    session = _session(found[-1])
    while found and _session(found[-1]) == session:
        found.pop()
    return found


def _minimums(movements: Sequence[Movement], lookup: Lookup) -> dict[int, int]:
    """Each movement's item minimum as it was then: the item's now, taken back through
    the minimum changes recorded after it. Movements of deleted items are left out."""
    now: dict[str, int | None] = {}
    found: dict[int, int] = {}
    for movement in reversed(movements):
        key = sku_key(movement.sku)
        if key not in now:
            item = lookup(movement.sku)
            now[key] = None if item is None else item.min_stock
        if now[key] is None or movement.id is None:
            continue
        found[movement.id] = now[key] or 0
        changed = movement.details.get("changes", {}) if movement.kind == "update" else {}
        if isinstance(changed, dict) and isinstance(changed.get("min_stock"), list):
            before = changed["min_stock"][0]
            now[key] = before if isinstance(before, int) else now[key]
    return found


def _item(item: InventoryItem | None) -> dict[str, Any] | None:
    if item is None:
        return None
    data = item.to_dict()
    return {key: data[key] for key in ITEM_KEYS if key in data}


def steps(movements: Sequence[Movement], lookup: Lookup) -> list[Step]:
    """The events of `movements` (oldest first), one step per movement or count apply."""
    minimums = _minimums(movements, lookup)
    items: dict[str, dict[str, Any] | None] = {}
    found: list[Step] = []
    group: list[Event] = []
    applied: list[Movement] = []
    for number, movement in enumerate(movements):
        key = sku_key(movement.sku)
        if key not in items:
            items[key] = _item(lookup(movement.sku))
        item = items[key]
        events = [_event("movement", movement, {**movement.to_dict(), "item": item})]
        minimum = minimums.get(movement.id or 0, 0)
        crossed = movement.quantity_before > minimum >= movement.quantity_after
        if minimum > 0 and crossed and movement.kind != "delete":
            low = {
                "sku": movement.sku,
                "name": item["name"] if item else "",
                "quantity": movement.quantity_after,
                "min_stock": minimum,
                "unit": item["unit"] if item else "",
                "movement": movement.to_dict(),
            }
            events.append(_event("low_stock", movement, low))
        session = _session(movement)
        if session is None:
            found.append(Step(movement, tuple(events)))
            continue
        group += events
        applied.append(movement)
        following = movements[number + 1] if number + 1 < len(movements) else None
        if following is None or _session(following) != session:
            group.append(_applied(session, applied))
            found.append(Step(movement, tuple(group)))
            group, applied = [], []
    return found


def _applied(session: object, movements: list[Movement]) -> Event:
    first = movements[0]
    changes = [
        {key: value for key, value in m.details.items() if key not in ("session", "lines")}
        for m in movements
    ]
    data = {
        "session": session,
        "user": first.user,
        "reason": first.reason,
        "changes": changes,
        "movements": [m.id for m in movements],
    }
    return _event("count_applied", first, data)


def ping(store: str, now: str, nonce: str) -> Event:
    """The event `atlas webhooks test` sends every rule."""
    return Event(f"evt_ping_{nonce}", "ping", now, {"message": "ping from ATLAS", "store": store})
