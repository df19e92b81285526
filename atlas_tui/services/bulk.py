"""Bulk changes: one operation over many items, as one step (all or nothing, one undo).

Each function runs the service's own single-item operation for every item inside
`service.batch(step=True)`: the checks are the ones a single change gets, every movement
carries the step's `details["batch"]` id, and the first refusal undoes the lot and names
the item it is about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from atlas_tui.domain.errors import AtlasError, ValidationError
from atlas_tui.domain.models import (
    REASON_MAX_LEN,
    InventoryItem,
    clean_int,
    clean_text,
    shown,
    sku_key,
)
from atlas_tui.domain.stock import clean_location, location_key
from atlas_tui.services.inventory import InventoryService


class StepRefused(ValidationError):
    """One item of a bulk step was refused, so nothing was changed; names the item."""

    def __init__(self, sku: str, error: AtlasError) -> None:
        cause = getattr(error, "field", "item")
        problem = str(error)
        if sku.casefold() not in problem.casefold():
            problem = f"{sku}: {problem}"
        super().__init__(cause, problem)
        self.message = f"{problem} (nothing was changed)"
        self.sku = sku

    def __str__(self) -> str:
        return self.message


@dataclass
class StepResult:
    """What a bulk step changed, and the items it left as they were (and why)."""

    changed: list[InventoryItem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # What was done, in an operator's words: "moved 12 items to B-2".
    summary: str = ""

    def __len__(self) -> int:
        return len(self.changed)


def items(count: int) -> str:
    """`1 item`, `12 items`."""
    return f"{count} item{'' if count == 1 else 's'}"


def _skus(skus: object) -> list[str]:
    """The SKUs a step is about: a list of text, at least one."""
    if isinstance(skus, (str, bytes)) or not isinstance(skus, Iterable):
        raise ValidationError("skus", f"must be a list of SKUs, got {shown(skus)}")
    found = list(skus)
    if not found:
        raise ValidationError("skus", "give at least one SKU")
    for sku in found:
        if not isinstance(sku, str):
            raise ValidationError("skus", f"must be a list of SKUs (text), got {shown(sku)}")
    return found


def _each(
    service: InventoryService,
    skus: Iterable[str],
    change: Callable[[InventoryItem], InventoryItem | None],
    nothing: str,
    done: Callable[[str], str],
    skipped: str = "",
    reason: str | None = None,
) -> StepResult:
    """`change` every item in one step; None from it leaves the item as it is (skipped).
    A step that would change nothing is refused with `nothing`."""
    result = StepResult()
    chosen = _skus(skus)
    clean_text("reason", reason, REASON_MAX_LEN)  # refused as itself, not as an item's
    with service.batch(step=True):
        wanted: dict[str, str] = {}
        for sku in chosen:
            wanted.setdefault(sku_key(sku), sku)  # each item once, as first spelled
        for sku in wanted.values():
            name = sku.strip()
            try:
                item = service.get(sku)
                name = item.sku
                changed = change(item)
            except AtlasError as error:
                raise StepRefused(name, error) from None
            if changed is None:
                result.skipped.append(item.sku)
            else:
                result.changed.append(changed)
        if not result.changed:
            raise ValidationError("items", nothing)
    result.summary = done(items(len(result.changed)))
    if result.skipped:
        result.summary += f" ({items(len(result.skipped))} left alone: {skipped})"
    return result


def move(
    service: InventoryService, skus: Iterable[str], location: object, reason: str | None = None
) -> StepResult:
    """All stock and the home of each item to `location`; items already there are skipped."""
    service.allow("stock")
    target = clean_location(location)
    key = location_key(target)

    def one(item: InventoryItem) -> InventoryItem | None:
        there = location_key(item.location) == key
        if there and all(location_key(line.location) == key for line in item.stock):
            return None
        return service.move(item.sku, target, reason)

    return _each(service, skus, one, f"every item is already at {target}",
                 lambda n: f"moved {n} to {target}", "already there", reason)  # fmt: skip


def update(
    service: InventoryService,
    skus: Iterable[str],
    *,
    category: str | None = None,
    min_stock: object = None,
    max_stock: object = None,
    reason: str | None = None,
) -> StepResult:
    """Set the category, minimum and/or maximum of each item (None: left as it is). Each
    item's pair of limits is checked together, the new value against the one it keeps."""
    service.allow("items")
    given: dict[str, Any] = {}
    if category is not None:
        given["category"] = category
    if min_stock is not None:
        given["min_stock"] = clean_int("min_stock", min_stock)
    if max_stock is not None:
        given["max_stock"] = clean_int("max_stock", max_stock)
    if not given:
        raise ValidationError("fields", "nothing to change: give a category, minimum or maximum")

    def one(item: InventoryItem) -> InventoryItem | None:
        if all(getattr(item, key) == value for key, value in given.items()):
            return None
        return service.update(item.sku, reason, **given)

    words = {"category": "category", "min_stock": "minimum", "max_stock": "maximum"}
    what = " and ".join(f"{words[key]} {value}" for key, value in given.items())
    return _each(service, skus, one, "every item already has those values",
                 lambda n: f"set {what} of {n}", "already so", reason)  # fmt: skip


def transfer(
    service: InventoryService,
    skus: Iterable[str],
    quantity: object,
    source: object,
    target: object,
    reason: str | None = None,
) -> StepResult:
    """From `source` to `target`, `quantity` of each item holding stock at `source` (None:
    all it holds there). Items with none there are skipped; one holding less is refused."""
    service.allow("stock")
    origin = clean_location(source, "from")
    destination = clean_location(target, "to")
    count = None if quantity is None else clean_int("quantity", quantity, minimum=1)
    key = location_key(origin)

    def one(item: InventoryItem) -> InventoryItem | None:
        held = sum(line.quantity for line in item.stock if location_key(line.location) == key)
        if held <= 0:
            return None
        if count is not None and count > held:
            raise ValidationError(
                "quantity", f"{item.sku} holds only {held} at {origin}, not {count}"
            )
        return service.transfer(item.sku, held if count is None else count, origin,
                                destination, reason)  # fmt: skip

    return _each(service, skus, one, f"no selected item holds stock at {origin}",
                 lambda n: f"transferred {n} from {origin} to {destination}",
                 f"none at {origin}", reason)  # fmt: skip


def count(
    service: InventoryService, counts: Mapping[str, object], reason: str | None = None
) -> StepResult:
    """Set each item's home line to the counted figure (sku -> quantity); a figure that
    matches is recorded too (a count that confirms the stock)."""
    service.allow("stock")
    figures = {sku_key(sku): counts[sku] for sku in _skus(counts)}

    def one(item: InventoryItem) -> InventoryItem:
        return service.count(item.sku, figures[item.key], reason, location=item.location)

    return _each(service, figures, one, "no count was given", "counted {}".format, "", reason)


def delete(service: InventoryService, skus: Iterable[str], reason: str | None = None) -> StepResult:
    """Remove each item (their history stays)."""
    service.allow("items")
    return _each(service, skus, lambda item: service.delete(item.sku, reason),
                 "nothing to delete", "deleted {}".format, "", reason)  # fmt: skip
