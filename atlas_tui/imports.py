"""What an import file does to the store: the plan per row, and applying it at once.

A row naming a new SKU adds the item; a row naming a stored SKU updates the fields the
file gives and sets the quantity as a `count`. Each applied row records one movement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from atlas_tui.errors import AtlasError, ValidationError
from atlas_tui.models import (
    InventoryItem,
    check_attribute_limits,
    merge_attributes,
    parse_timestamp,
    sku_key,
)

if TYPE_CHECKING:
    from atlas_tui.transfer import ImportTable, SourceRow

Action = Literal["add", "update", "unchanged", "refuse"]
# The fields an import may change on an item already stored.
UPDATED_FIELDS = ("name", "category", "location", "min_stock", "max_stock", "attributes")


@dataclass(frozen=True)
class RowOutcome:
    """What one row of the file does (or would do)."""

    row: int
    sku: str
    action: Action
    reason: str = ""
    item: InventoryItem | None = None
    before: InventoryItem | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: row, sku, action, and reason or changes."""
        data: dict[str, Any] = {"row": self.row, "sku": self.sku, "action": self.action}
        if self.action == "refuse":
            data["reason"] = self.reason
        if self.action == "add" and self.item is not None:
            data["item"] = self.item.to_dict()
        if self.action == "update":
            data["changes"] = self.changes
        return data


@dataclass(frozen=True)
class ImportResult:
    """The outcome of every row, and whether the store was changed."""

    source: str
    rows: list[RowOutcome]
    applied: bool
    dry_run: bool
    strict: bool

    def of(self, action: Action) -> list[RowOutcome]:
        """The rows with this outcome."""
        return [row for row in self.rows if row.action == action]

    @property
    def counts(self) -> dict[str, int]:
        """How many rows are added, updated, unchanged and refused."""
        counts = {"added": 0, "updated": 0, "unchanged": 0, "refused": 0}
        names = {"add": "added", "update": "updated", "unchanged": "unchanged", "refuse": "refused"}
        for row in self.rows:
            counts[names[row.action]] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary and rows."""
        return {
            "source": self.source,
            "applied": self.applied,
            "dry_run": self.dry_run,
            "strict": self.strict,
            "rows_read": len(self.rows),
            **self.counts,
            "rows": [row.to_dict() for row in self.rows],
        }


def _duplicates(rows: list[SourceRow]) -> dict[int, str]:
    """Row number -> refusal, for every row whose SKU appears on more than one row."""
    by_key: dict[str, list[int]] = {}
    for row in rows:
        if row.sku:
            by_key.setdefault(sku_key(row.sku), []).append(row.row)
    refused: dict[int, str] = {}
    for numbers in by_key.values():
        if len(numbers) > 1:
            listed = ", ".join(map(str, numbers))
            for number in numbers:
                refused[number] = (
                    f"sku: on rows {listed}; an item has one location, so every one is refused"
                )
    return refused


def _new_item(row: SourceRow, now: datetime) -> InventoryItem:
    fields = row.fields
    if not fields.get("name"):
        raise ValidationError("name", "is required for a new item")
    created = parse_timestamp("created_at", fields["created_at"]) if "created_at" in fields else now
    updated = parse_timestamp("updated_at", fields["updated_at"]) if "updated_at" in fields else now
    item = InventoryItem(
        sku=fields["sku"],
        name=fields["name"],
        category=fields.get("category", ""),
        quantity=fields.get("quantity", 0),
        location=fields.get("location", ""),
        min_stock=fields.get("min_stock", 0),
        max_stock=fields.get("max_stock", 0),
        created_at=created,
        updated_at=updated,
        attributes=row.attributes,
    )
    check_attribute_limits(item.attributes)
    return item


def _updated_item(
    row: SourceRow, item: InventoryItem, now: datetime
) -> tuple[InventoryItem, dict[str, list[Any]]]:
    """The item as the row leaves it (stamped `now`) and what changed."""
    changes: dict[str, Any] = {
        name: row.fields[name] for name in UPDATED_FIELDS if name in row.fields
    }
    if row.attributes:
        changes["attributes"] = merge_attributes(item.attributes, row.attributes)
    if "quantity" in row.fields:
        changes["quantity"] = row.fields["quantity"]
    # One validated copy per row: at 100k rows each extra copy costs about a second.
    candidate = item.evolve(**changes, updated_at=now)
    if row.attributes:
        check_attribute_limits(candidate.attributes, before=item.attributes)
    diff = {
        name: [getattr(item, name), getattr(candidate, name)]
        for name in UPDATED_FIELDS
        if getattr(item, name) != getattr(candidate, name)
    }
    return candidate, diff


class Lookup(Protocol):
    """Finds a stored item by SKU, any case (a repository does)."""

    def get(self, sku: str) -> InventoryItem | None: ...


def plan_rows(table: ImportTable, lookup: Lookup, now: datetime) -> list[RowOutcome]:
    """The outcome of every row, against the items `lookup` finds."""
    duplicates = _duplicates(table.rows)
    outcomes: list[RowOutcome] = []
    for row in table.rows:
        sku = row.sku
        if row.row in duplicates:
            outcomes.append(RowOutcome(row.row, sku, "refuse", duplicates[row.row]))
            continue
        if row.problems:
            outcomes.append(RowOutcome(row.row, sku, "refuse", "; ".join(row.problems)))
            continue
        try:
            existing = lookup.get(sku)
            if existing is None:
                outcomes.append(RowOutcome(row.row, sku, "add", item=_new_item(row, now)))
                continue
            candidate, diff = _updated_item(row, existing, now)
        except AtlasError as exc:
            outcomes.append(RowOutcome(row.row, sku, "refuse", str(exc)))
            continue
        if not diff and candidate.quantity == existing.quantity:
            outcomes.append(RowOutcome(row.row, existing.sku, "unchanged", item=existing))
            continue
        if candidate.quantity != existing.quantity:
            diff_all = {**diff, "quantity": [existing.quantity, candidate.quantity]}
        else:
            diff_all = diff
        outcomes.append(
            RowOutcome(
                row.row,
                existing.sku,
                "update",
                item=candidate,
                before=existing,
                changes=diff_all,
            )
        )
    return outcomes
