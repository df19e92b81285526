"""A realistic demo inventory: items across categories and locations, with months of history."""

from __future__ import annotations

import random
from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from atlas_tui.domain.models import InventoryItem, Movement, MovementKind, utc_now
from atlas_tui.domain.picking import one_line, receiving_line, take_anywhere, take_at
from atlas_tui.domain.stock import StockLine, change_lines
from atlas_tui.services.inventory import InventoryService
from atlas_tui.storage import store_name
from atlas_tui.storage.base import InventoryRepository

CATALOGUE: dict[str, tuple[str, list[str], list[str]]] = {
    # category: (SKU prefix, kinds, variants)
    "Electronics": (
        "EL",
        [
            "USB-C cable",
            "HDMI cable",
            "Power supply",
            "Barcode scanner",
            "Label printer",
            "Ethernet switch",
            "Battery pack",
            "Card reader",
        ],
        ["1 m", "2 m", "5 m", "12 V", "24 V", "8-port", "black", "white"],
    ),
    "Fasteners": (
        "FA",
        ["Hex bolt", "Wood screw", "Wall plug", "Washer", "Lock nut", "Rivet", "Cable tie"],
        ["M4", "M6", "M8", "M10", "4x40", "5x60", "zinc", "stainless"],
    ),
    "Tools": (
        "TL",
        [
            "Cordless drill",
            "Torque wrench",
            "Utility knife",
            "Tape measure",
            "Pliers",
            "Screwdriver set",
            "Spirit level",
        ],
        ["18 V", "5 m", "8 m", "pro", "compact", "600 mm", "insulated"],
    ),
    "Packaging": (
        "PK",
        [
            "Shipping box",
            "Stretch film",
            "Packing tape",
            "Bubble wrap",
            "Pallet label",
            "Void fill paper",
        ],
        ["small", "medium", "large", "50 m", "100 m", "A5", "brown"],
    ),
    "Safety": (
        "SF",
        [
            "Safety gloves",
            "Hi-vis vest",
            "Ear plugs",
            "Safety glasses",
            "Hard hat",
            "First aid kit",
        ],
        ["size M", "size L", "size XL", "yellow", "orange", "clear", "tinted"],
    ),
    "Cleaning": (
        "CL",
        ["Floor cleaner", "Paper towel", "Trash bag", "Degreaser", "Microfibre cloth"],
        ["5 l", "1 l", "120 l", "pack of 10", "blue", "industrial"],
    ),
    "Office": (
        "OF",
        ["Copy paper", "Ballpoint pen", "Marker", "Clipboard", "Shipping labels", "Stapler"],
        ["A4", "box of 50", "black", "red", "permanent", "heavy duty"],
    ),
    "Plumbing": (
        "PL",
        ["Copper pipe", "Ball valve", "Pipe elbow", "PTFE tape", "Hose clamp"],
        ["15 mm", "22 mm", "1/2 in", "3/4 in", "brass", "90°"],
    ),
}
AISLES = "ABCDEF"
REASONS_IN = ["supplier delivery", "return from customer", "transfer in", "restock"]
REASONS_OUT = ["picked for order", "picked for order", "damaged", "used on site", "transfer out"]


@dataclass
class DemoResult:
    """What the demo added."""

    items: int
    movements: int
    skipped: bool
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "movements": self.movements,
            "skipped": self.skipped,
            "path": self.path,
        }


# The most items one call adds: a million items on SQLite in well under two minutes.
MAX_ITEMS: Final = 1_000_000
# History: four events per item (receipts, picks, counts, moves), but at most this many, so
# a big demo stays quick; a few items are then left low or over stock, as on a real floor.
MAX_EVENTS: Final = 200_000
DAYS: Final = 90


def sku_digits(needed: int) -> int:
    """Digits after the prefix so that `needed` SKUs fill at most a quarter of the space
    (5 for small demos: EL-12345), which keeps drawing distinct codes quick."""
    digits = 5
    while len(CATALOGUE) * 9 * 10 ** (digits - 1) < 4 * needed:
        digits += 1
    return digits


def demo_skus(rng: random.Random, count: int, taken: Set[str] = frozenset()) -> list[str]:
    """`count` distinct SKUs of the demo's shape (prefix-number), none of them in `taken`
    (keys as `sku_key` gives them), in random order."""
    prefixes = [prefix for prefix, _, _ in CATALOGUE.values()]
    digits = sku_digits(count + len(taken))
    low = 10 ** (digits - 1)
    per_prefix = 9 * low
    found: list[str] = []
    # Drawn without replacement; at most len(taken) of them can collide with stored SKUs.
    for number in rng.sample(range(per_prefix * len(prefixes)), count + len(taken)):
        prefix, offset = divmod(number, per_prefix)
        sku = f"{prefixes[prefix]}-{low + offset}"
        if sku.casefold() not in taken:
            found.append(sku)
            if len(found) == count:
                break
    return found


def seed_demo(
    service: InventoryService, items: int = 300, *, seed: int = 7, if_new: bool = False
) -> DemoResult:
    """Add `items` demo items with backdated history, in one transaction.

    Written straight to the repository (the rows are made valid here): going through the
    service's checks per operation would take an hour for a million items.
    """
    service.allow("items")
    repo = service.repository
    path = store_name(repo)
    with service.batch():
        if if_new and (repo.count() or repo.movement_count()):
            return DemoResult(0, 0, True, path)
        service._check_capacity(items, None)  # ATLAS_MAX_ITEMS, worded as for any add
        rng = random.Random(seed)
        end = utc_now()
        start = end - timedelta(days=DAYS)
        taken = {item.key for item in repo.items()} if repo.count() else set()
        writer = _Writer(repo, service.user)
        current: list[InventoryItem] = []
        # In SKU order: SQLite then appends to its SKU index instead of rewriting pages all
        # over it (at a million items, the difference between one minute and many).
        for sku in sorted(demo_skus(rng, items, taken), key=str.casefold):
            item = _new_item(rng, sku, start)
            writer.put(item, "add", 0, item.quantity, "opening stock", start,
                       {"item": item.to_dict()})  # fmt: skip
            current.append(item)
        # Receipts, picks, counts and moves over the period, oldest first.
        span = (end - start).total_seconds()
        events = min(items * 4, MAX_EVENTS)
        for offset in sorted(rng.uniform(60, span - 3600) for _ in range(events)):
            index = rng.randrange(len(current))
            current[index] = _event(writer, rng, current[index], start + timedelta(seconds=offset))
        _make_exceptions(writer, rng, current, end - timedelta(minutes=30))
        return DemoResult(len(current), writer.movements, False, path)


class _Writer:
    """Puts items and appends their movements, counting the movements."""

    def __init__(self, repo: InventoryRepository, user: str) -> None:
        self.repo = repo
        self.user = user
        self.movements = 0

    def put(
        self,
        item: InventoryItem,
        kind: MovementKind,
        before: int,
        after: int,
        reason: str,
        when: datetime,
        details: dict[str, Any] | None = None,
    ) -> InventoryItem:
        self.repo.put(item)
        self.repo.append_movement(
            Movement(
                sku=item.sku,
                kind=kind,
                delta=after - before,
                quantity_before=before,
                quantity_after=after,
                user=self.user,
                timestamp=when,
                reason=reason,
                details=details or {},
            )
        )
        self.movements += 1
        return item


_NAMES: dict[tuple[str, str], str] = {}
_LOCATIONS: dict[tuple[str, int, int], str] = {}


def _location(rng: random.Random) -> str:
    key = (rng.choice(AISLES), rng.randint(1, 12), rng.randint(1, 4))
    # One string per place: a million items share 288 locations.
    return _LOCATIONS.setdefault(key, f"{key[0]}-{key[1]:02d}-{key[2]}")


def _new_item(rng: random.Random, sku: str, when: datetime) -> InventoryItem:
    category = _CATEGORY_OF[sku.partition("-")[0]]
    _, kinds, variants = CATALOGUE[category]
    name_key = (rng.choice(kinds), rng.choice(variants))
    name = _NAMES.setdefault(name_key, f"{name_key[0]} {name_key[1]}")
    minimum = rng.choice([0, 5, 10, 10, 20, 25, 50])
    maximum = 0 if rng.random() < 0.15 else max(minimum * rng.randint(3, 8), 40)
    quantity = rng.randint(minimum + 1, max(maximum, minimum + 60))
    location = _location(rng)
    attributes = _attributes(rng, category)
    return InventoryItem(
        sku=sku,
        name=name,
        category=category,
        quantity=quantity,
        location=location,
        min_stock=minimum,
        max_stock=maximum,
        created_at=when,
        updated_at=when,
        attributes=attributes,
        unit=attributes.pop("unit", "pcs"),
    )


_CATEGORY_OF = {prefix: category for category, (prefix, _, _) in CATALOGUE.items()}


def _attributes(rng: random.Random, category: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {"supplier": rng.choice(["Acme", "Nordwerk", "Brightline"])}
    if rng.random() < 0.6:
        attributes["barcode"] = str(rng.randrange(10**12, 10**13))
    if category in {"Fasteners", "Packaging"}:
        attributes["unit"] = rng.choice(["pcs", "box", "roll"])
    return attributes


def _quantity(writer: _Writer, item: InventoryItem, after: int, kind: MovementKind, reason: str,
              when: datetime) -> InventoryItem:  # fmt: skip
    """Receive into the home, or take (earliest expiry, home, fullest first), or count the
    home line: as operators would."""
    delta = after - item.quantity
    if delta > 0:
        changes = [(receiving_line(item.stock, item.location, "", ""), delta)]
    elif kind == "count":
        home = one_line(item.sku, item.stock, item.location, None, item.location)
        changes = [(home, max(delta, -home.quantity))]
    else:
        changes = take_anywhere(item.sku, item.stock, -delta, item.location)
    return _lines(writer, item, changes, kind, reason, when)


def _lines(
    writer: _Writer,
    item: InventoryItem,
    changes: list[tuple[StockLine, int]],
    kind: MovementKind,
    reason: str,
    when: datetime,
    details: dict[str, Any] | None = None,
    home: str | None = None,
) -> InventoryItem:
    lines, touched = change_lines(item.stock, changes)
    fields: dict[str, Any] = {"lines": lines, "updated_at": when}
    if home is not None:
        fields["location"] = home
    changed = item.evolve(**fields)
    info = {**(details or {}), "lines": touched}
    return writer.put(changed, kind, item.quantity, changed.quantity, reason, when, info)


def _event(
    writer: _Writer, rng: random.Random, item: InventoryItem, when: datetime
) -> InventoryItem:
    ceiling = item.max_stock or max(item.min_stock * 4, 60)
    reorder_point = max(item.min_stock * 3 // 2, 5)
    roll = rng.random()
    if roll < 0.08:
        drift = rng.randint(-2, 2)
        return _quantity(writer, item, max(0, item.quantity + drift), "count", "cycle count", when)
    if roll < 0.11:
        target = _location(rng)
        if target == item.location:
            return item
        changes: list[tuple[StockLine, int]] = []
        for line in item.stock:
            if line.location != target and line.quantity:
                changes += [(line, -line.quantity), (StockLine(target, 0, line.lot), line.quantity)]
        details = {"from": item.location, "to": target}
        return _lines(writer, item, changes, "move", "re-slotting", when, details, home=target)
    if roll < 0.14 and item.quantity >= 12:
        # Part of it to overstock, as a pick face and a reserve location hold one SKU.
        target = f"OS-{rng.randint(1, 24):02d}"
        home = [line for line in item.stock if line.location == item.location]
        amount = min(sum(line.quantity for line in home), item.quantity // 3)
        if not amount or target == item.location:
            return item
        taken = take_at(item.sku, item.stock, amount, item.location, None)
        moved = [*taken, *((StockLine(target, 0, line.lot), -n) for line, n in taken)]
        details = {"from": item.location, "to": target}
        return _lines(writer, item, moved, "transfer", "to overstock", when, details)
    if item.quantity <= reorder_point:
        fill = max(1, ceiling - item.quantity)
        return _quantity(
            writer, item, item.quantity + fill, "receive", rng.choice(REASONS_IN), when
        )
    take = min(rng.randint(1, max(1, (item.quantity - item.min_stock) // 3)), item.quantity)
    return _quantity(writer, item, item.quantity - take, "pick", rng.choice(REASONS_OUT), when)


def _make_exceptions(
    writer: _Writer, rng: random.Random, items: list[InventoryItem], when: datetime
) -> None:
    """Leave some items low and some over stock, as a real floor has."""
    for index in rng.sample(range(len(items)), k=max(1, len(items) // 12)):
        item = items[index]
        if item.min_stock and item.quantity > item.min_stock:
            after = rng.randint(0, item.min_stock)
            items[index] = _quantity(writer, item, after, "adjust", "picked for order", when)
    for index in rng.sample(range(len(items)), k=max(1, len(items) // 20)):
        item = items[index]
        if item.max_stock and item.quantity <= item.max_stock:
            after = item.max_stock + rng.randint(1, 30)
            items[index] = _quantity(writer, item, after, "adjust", "bulk delivery", when)
