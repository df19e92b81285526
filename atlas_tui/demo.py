"""A realistic demo inventory: items across categories and locations, with months of history."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from atlas_tui.models import utc_now
from atlas_tui.service import InventoryService

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


class _Clock:
    """Simulated time, so the history spreads over past weeks in order."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def seed_demo(
    service: InventoryService, items: int = 300, *, seed: int = 7, if_new: bool = False
) -> DemoResult:
    """Add `items` demo items with backdated history, in one transaction."""
    repo = service.repository
    path = str(repo.path)
    with service.batch():
        if if_new and (repo.count() or repo.movements()):
            return DemoResult(0, 0, True, path)
        rng = random.Random(seed)
        days = 90
        end = utc_now()
        clock = _Clock(end - timedelta(days=days))
        demo = InventoryService(repo, max_items=service.max_items, user=service.user, clock=clock)
        rows = _rows(rng, items, exists=lambda sku: repo.get(sku) is not None)
        before = len(repo.movements())
        demo.add_many(rows, reason="opening stock")
        # Spread receipts, picks, counts and moves over the period, oldest first.
        span = (end - clock.now).total_seconds()
        start = clock.now
        skus = [row["sku"] for row in rows]
        for offset in sorted(rng.uniform(60, span - 3600) for _ in range(items * 4)):
            clock.now = start + timedelta(seconds=offset)
            _event(demo, rng, rng.choice(skus))
        clock.now = end - timedelta(minutes=30)
        _make_exceptions(demo, rng, skus)
        return DemoResult(len(rows), len(repo.movements()) - before, False, path)


def _rows(rng: random.Random, count: int, exists: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    taken: set[str] = set()
    categories = list(CATALOGUE)
    while len(rows) < count:
        category = rng.choice(categories)
        prefix, kinds, variants = CATALOGUE[category]
        sku = f"{prefix}-{rng.randrange(10000, 99999)}"
        if sku in taken or exists(sku):
            continue
        taken.add(sku)
        minimum = rng.choice([0, 5, 10, 10, 20, 25, 50])
        maximum = 0 if rng.random() < 0.15 else max(minimum * rng.randint(3, 8), 40)
        rows.append(
            {
                "sku": sku,
                "name": f"{rng.choice(kinds)} {rng.choice(variants)}",
                "category": category,
                "quantity": rng.randint(minimum + 1, max(maximum, minimum + 60)),
                "location": f"{rng.choice(AISLES)}-{rng.randint(1, 12):02d}-{rng.randint(1, 4)}",
                "min_stock": minimum,
                "max_stock": maximum,
                "attributes": _attributes(rng, category),
            }
        )
    return rows


def _attributes(rng: random.Random, category: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {"supplier": rng.choice(["Acme", "Nordwerk", "Brightline"])}
    if rng.random() < 0.6:
        attributes["barcode"] = str(rng.randrange(10**12, 10**13))
    if category in {"Fasteners", "Packaging"}:
        attributes["unit"] = rng.choice(["pcs", "box", "roll"])
    return attributes


def _event(demo: InventoryService, rng: random.Random, sku: str) -> None:
    item = demo.get(sku)
    ceiling = item.max_stock or max(item.min_stock * 4, 60)
    reorder_point = max(item.min_stock * 3 // 2, 5)
    roll = rng.random()
    if roll < 0.08:
        drift = rng.randint(-2, 2)
        demo.count(sku, max(0, item.quantity + drift), "cycle count")
    elif roll < 0.11:
        target = f"{rng.choice(AISLES)}-{rng.randint(1, 12):02d}-{rng.randint(1, 4)}"
        if target != item.location:
            demo.move(sku, target, "re-slotting")
    elif item.quantity <= reorder_point:
        demo.adjust(sku, max(1, ceiling - item.quantity), rng.choice(REASONS_IN))
    else:
        take = rng.randint(1, max(1, (item.quantity - item.min_stock) // 3))
        demo.adjust(sku, -min(take, item.quantity), rng.choice(REASONS_OUT))


def _make_exceptions(demo: InventoryService, rng: random.Random, skus: list[str]) -> None:
    """Leave some items low and some over stock, as a real floor has."""
    for sku in rng.sample(skus, k=max(1, len(skus) // 12)):
        item = demo.get(sku)
        if item.min_stock and item.quantity > item.min_stock:
            demo.adjust(sku, -(item.quantity - rng.randint(0, item.min_stock)), "picked for order")
    for sku in rng.sample(skus, k=max(1, len(skus) // 20)):
        item = demo.get(sku)
        if item.max_stock and item.quantity <= item.max_stock:
            demo.adjust(sku, item.max_stock - item.quantity + rng.randint(1, 30), "bulk delivery")
