"""What an import file does to the store: the plan per row, and applying it at once.

A row naming a new SKU adds the item; a row naming a stored SKU updates the fields the
file gives and sets the quantity as a `count`. Each applied item records one movement.

A file of stock lines (it has a lot, expiry or home column, or a location column and a SKU
on several rows) gives one row per SKU, location and lot: the rows of a SKU are its lines.
For a stored item, the lines at the locations its rows name become what the file says;
its lines elsewhere are kept (a file from one warehouse does not erase another).

The plan is made outside the writers' lock, against the data as it was then; `recheck`
refuses, under the lock, every row whose item another writer changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, Protocol

from atlas_tui.domain.errors import AtlasError, ValidationError, field_word
from atlas_tui.domain.models import (
    ITEM_FIELDS,
    InventoryItem,
    Movement,
    MovementKind,
    check_attribute_limits,
    clean_int,
    format_timestamp,
    merge_attributes,
    parse_timestamp,
    sku_key,
)
from atlas_tui.domain.stock import (
    StockLine,
    clean_expiry,
    clean_location,
    clean_lot,
    line_diff,
    location_key,
    where_stock_is,
)

if TYPE_CHECKING:
    from atlas_tui.formats import ImportTable, SourceRow
    from atlas_tui.storage.base import InventoryRepository

Action = Literal["add", "update", "unchanged", "refuse"]
# The fields an import may change on an item already stored.
UPDATED_FIELDS = ("name", "category", "location", "min_stock", "max_stock", "attributes", "unit")


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
    # An added item's `to_dict()`, made once for its movement and this outcome (read-only).
    data: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # A file of stock lines: the row that carries this row's item (0: this row, when it
    # carries one), the item's lines left as they were at locations the file does not name,
    # and what else the reader should know.
    lead: int = 0
    by_line: bool = False
    kept: tuple[StockLine, ...] = ()
    notes: tuple[str, ...] = ()

    def line_changes(self) -> list[list[Any]]:
        """What an update does to the item's stock lines, as movements record it."""
        if self.before is None or self.item is None:
            return []
        return line_diff(self.before.stock, self.item.stock)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: row, sku, action, and reason or changes (and for a file of stock
        lines, the line changes, the lines kept and notes)."""
        data: dict[str, Any] = {"row": self.row, "sku": self.sku, "action": self.action}
        if self.lead:
            data["with_row"] = self.lead
        if self.kept:
            data["lines_kept"] = [line.to_dict() for line in self.kept]
        if self.notes:
            data["notes"] = list(self.notes)
        if self.action == "refuse":
            data["reason"] = self.reason
        if self.action == "add" and self.item is not None:
            data["item"] = dict(self.data) if self.data is not None else self.item.to_dict()
        if self.action == "update" and not self.lead:
            data["changes"] = self.changes
            if self.by_line:
                data["lines"] = self.line_changes()
        return data


@dataclass(frozen=True)
class ImportResult:
    """The outcome of every row, and whether the store was changed; `read_as` is the
    encoding the file was read as (e.g. "mac_roman (detected)"), for the operator to check."""

    source: str
    rows: list[RowOutcome]
    applied: bool
    dry_run: bool
    strict: bool
    read_as: str = "utf-8"

    @property
    def read_note(self) -> str:
        """ "read as ENCODING" for a file not read as UTF-8 (or UTF-16 by its BOM), else ""."""
        return "" if self.read_as in ("utf-8", "utf-16") else f"read as {self.read_as}"

    def of(self, action: Action) -> list[RowOutcome]:
        """The rows with this outcome."""
        return [row for row in self.rows if row.action == action]

    @property
    def counts(self) -> dict[str, int]:
        """How many items are added, updated and unchanged, and how many rows refused (in a
        file of stock lines an item has a row per line; elsewhere, items are rows)."""
        counts = {"added": 0, "updated": 0, "unchanged": 0, "refused": 0}
        names = {"add": "added", "update": "updated", "unchanged": "unchanged", "refuse": "refused"}
        for row in self.rows:
            if not row.lead or row.action == "refuse":
                counts[names[row.action]] += 1
        return counts

    @property
    def lines_kept(self) -> int:
        """How many stock lines holding stock were kept because the file does not name
        their location (only a file of stock lines keeps any)."""
        return sum(
            1
            for row in self.rows
            if row.action in ("update", "unchanged")
            for line in row.kept
            if line.quantity
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary and rows."""
        return {
            "source": self.source,
            "applied": self.applied,
            "dry_run": self.dry_run,
            "strict": self.strict,
            "read_as": self.read_as,
            "rows_read": len(self.rows),
            **self.counts,
            "lines_kept": self.lines_kept,
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
            # The rows are listed once, on the first; a long run of repeats would otherwise
            # print the whole list on every one of its rows.
            listed = ", ".join(map(str, numbers))
            refused[numbers[0]] = (
                f"sku: on rows {listed}; an item has one location, so every one is refused"
            )
            for number in numbers[1:]:
                refused[number] = f"sku: repeats row {numbers[0]} (all its rows are refused)"
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
        unit=fields.get("unit") or "pcs",
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
    if "location" in changes and location_key(str(changes["location"])) != location_key(
        item.location
    ):
        # A file that puts the item elsewhere moves it, as `atlas move` does: all its stock
        # and its home.
        moved_to = clean_location(changes["location"])
        changes["lines"] = [
            StockLine(moved_to, line.quantity, line.lot, line.expiry) for line in item.stock
        ]
    if "quantity" in row.fields:
        if "lines" in changes:
            base = item.evolve(lines=changes.pop("lines"), location=changes["location"])
            changes["lines"] = base.with_total(clean_int("quantity", row.fields["quantity"]))
        else:
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


class Stored(Protocol):
    """What an import reads of the store (a repository)."""

    def get(self, sku: str) -> InventoryItem | None: ...

    def items(self) -> list[InventoryItem]: ...

    def count(self) -> int: ...


class _Items:
    """Items read at once, looked up by SKU like a repository."""

    def __init__(self, items: list[InventoryItem]) -> None:
        self._by_key = {item.key: item for item in items}

    def get(self, sku: str) -> InventoryItem | None:
        return self._by_key.get(sku_key(sku))


def lookup_for(store: Stored, rows: int) -> Lookup:
    """How to find the stored items of `rows` rows: the whole store read once (one moment's
    data, and no query per row) unless the store is much bigger than the file."""
    present = store.count()
    if present > 4 * rows:
        return store
    return _Items(store.items() if present else [])


def plan_rows(table: ImportTable, lookup: Lookup, now: datetime) -> list[RowOutcome]:
    """The outcome of every row, against the items `lookup` finds."""
    if reads_lines(table):
        return _plan_lines(table.rows, lookup, now)
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
                item = _new_item(row, now)
                data = _item_data(item)
                outcomes.append(RowOutcome(row.row, sku, "add", item=item, data=data))
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


# A file of stock lines -----------------------------------------------------------------

# The item fields every row of a SKU may repeat; rows that give one differently are refused.
_SHARED_FIELDS = (
    "name", "category", "min_stock", "max_stock", "unit", "home", "created_at", "updated_at"
)  # fmt: skip
_LINE_TARGETS = frozenset({"lot", "expiry", "home"})


def reads_lines(table: ImportTable) -> bool:
    """Whether the file gives stock lines: it has a lot, expiry or home column, or a location
    column and a SKU on more than one row. Any other file (an item export, a file with
    no location column) is read one item per row, as before stock lines."""
    targets = set(table.columns.values())
    if targets & _LINE_TARGETS:
        return True
    if "location" not in targets:
        return False
    seen: set[str] = set()
    for row in table.rows:
        if row.sku:
            key = sku_key(row.sku)
            if key in seen:
                return True
            seen.add(key)
    return False


def _rows_text(numbers: list[int]) -> str:
    return ("row " if len(numbers) == 1 else "rows ") + ", ".join(map(str, numbers))


def _disagreement(group: list[SourceRow]) -> str | None:
    """Why the rows of one SKU cannot make one item: an item field given differently."""
    for name in _SHARED_FIELDS:
        given = [(row.row, row.fields[name]) for row in group if name in row.fields]
        values = {str(value).casefold() if name == "home" else value for _, value in given}
        if len(values) > 1:
            shown_values = ", ".join(repr(value) for value in dict.fromkeys(v for _, v in given))
            word = field_word(name)
            return (
                f"{word}: {_rows_text([number for number, _ in given])} give {_sku_word(group)} "
                f"different values ({shown_values}); an item has one {word}, so these rows "
                "are refused"
            )
    return None


def _sku_word(group: list[SourceRow]) -> str:
    """The group's SKU quoted, as its first row spells it."""
    return repr(group[0].sku)


def _line_attributes(groups: Iterable[list[SourceRow]]) -> set[str]:
    """The attribute columns whose value differs between the rows of some item: they describe
    a line (a stock record's id, a reserved quantity), which has no attributes, so no item
    of the file keeps them."""
    differ: set[str] = set()
    for group in groups:
        seen: dict[str, Any] = {}
        for row in group:
            for key, value in row.attributes.items():
                if key not in differ and seen.setdefault(key, value) != value:
                    differ.add(key)
    return differ


def _merged_attributes(
    group: list[SourceRow], left_out: AbstractSet[str]
) -> tuple[dict[str, Any], list[str]]:
    """The item's attributes from its rows, but those in `left_out`; and the names of those
    left out that its rows give."""
    merged: dict[str, Any] = {}
    dropped: dict[str, None] = {}
    for row in group:
        for key, value in row.attributes.items():
            if key in left_out:
                dropped[key] = None
            else:
                merged.setdefault(key, value)
    return merged, list(dropped)


def _line_of(row: SourceRow, home: str) -> StockLine:
    """The line a row gives (quantity 0 when it gives none)."""
    return StockLine(
        clean_location(row.fields.get("location") or home, required=False),
        clean_int("quantity", row.fields.get("quantity", 0)),
        clean_lot(row.fields.get("lot", "")),
        clean_expiry(row.fields.get("expiry", "")),
    )


def _plan_lines(rows: list[SourceRow], lookup: Lookup, now: datetime) -> list[RowOutcome]:
    """The outcome of every row of a file of stock lines: its rows grouped by SKU."""
    outcomes: dict[int, RowOutcome] = {}
    groups: dict[str, list[SourceRow]] = {}
    for row in rows:
        if row.problems:
            reason = "; ".join(row.problems)
            outcomes[row.row] = RowOutcome(row.row, row.sku, "refuse", reason, by_line=True)
        else:
            groups.setdefault(sku_key(row.sku), []).append(row)
    left_out = _line_attributes(groups.values())
    for group in groups.values():
        for outcome in _plan_group(group, lookup, now, left_out):
            outcomes[outcome.row] = outcome
    return [outcomes[row.row] for row in rows]


def _refuse_all(group: list[SourceRow], reason: str) -> list[RowOutcome]:
    return [RowOutcome(row.row, row.sku, "refuse", reason, by_line=True) for row in group]


def _plan_group(
    group: list[SourceRow], lookup: Lookup, now: datetime, left_out: AbstractSet[str]
) -> list[RowOutcome]:
    """The outcomes of the rows of one SKU: the first applied row carries the item."""
    conflict = _disagreement(group)
    if conflict is not None:
        return _refuse_all(group, conflict)
    try:
        existing = lookup.get(group[0].sku)
    except AtlasError as exc:
        return _refuse_all(group, str(exc))
    fields: dict[str, Any] = {}
    for row in group:
        for name, value in row.fields.items():
            fields.setdefault(name, value)
    home = str(
        fields.get("home") or (existing.location if existing else fields.get("location", ""))
    )
    refused: list[RowOutcome] = []
    lines: dict[int, StockLine] = {}
    for row in group:
        try:
            lines[row.row] = _line_of(row, home)
        except AtlasError as exc:
            refused.append(RowOutcome(row.row, row.sku, "refuse", str(exc), by_line=True))
    by_key: dict[tuple[str, str, str], list[int]] = {}
    for number, line in lines.items():
        by_key.setdefault(line.key, []).append(number)
    for numbers in by_key.values():
        if len(numbers) > 1:
            reason = (
                f"location: {_rows_text(numbers)} all give {_sku_word(group)} at "
                f"{lines[numbers[0]].where()}; a line may be given once, so every one is refused"
            )
            for row in group:
                if row.row in numbers:
                    refused.append(RowOutcome(row.row, row.sku, "refuse", reason, by_line=True))
                    del lines[row.row]
    good = [row for row in group if row.row in lines]
    if not good:
        return refused
    attributes, dropped = _merged_attributes(good, left_out)
    notes = (
        (
            f"{', '.join(map(repr, dropped))} not kept: "
            f"{'it differs' if len(dropped) == 1 else 'they differ'} between the stock lines "
            "of an item in this file",
        )
        if dropped
        else ()
    )
    # A row without a quantity changes no line; it still names the item's fields.
    given = [(row, lines[row.row]) for row in good if "quantity" in row.fields]
    try:
        if existing is None:
            planned = _new_lines_item(good, fields, attributes, given, home, now, notes)
        else:
            planned = _updated_lines_item(good[0], existing, fields, attributes, given, now, notes)
    except AtlasError as exc:
        return [*refused, *_refuse_all(good, str(exc))]
    lead = planned
    followers = [
        RowOutcome(row.row, lead.sku, lead.action, lead=lead.row, by_line=True) for row in good[1:]
    ]
    return [*refused, lead, *followers]


def _new_lines_item(
    good: list[SourceRow],
    fields: dict[str, Any],
    attributes: dict[str, Any],
    given: list[tuple[SourceRow, StockLine]],
    home: str,
    now: datetime,
    notes: tuple[str, ...],
) -> RowOutcome:
    if not fields.get("name"):
        raise ValidationError("name", "is required for a new item")
    created = parse_timestamp("created_at", fields["created_at"]) if "created_at" in fields else now
    updated = parse_timestamp("updated_at", fields["updated_at"]) if "updated_at" in fields else now
    lines = [line for _, line in given]
    item = InventoryItem(
        sku=good[0].sku,
        name=fields["name"],
        category=fields.get("category", ""),
        quantity=sum(line.quantity for line in lines),
        location=home,
        min_stock=fields.get("min_stock", 0),
        max_stock=fields.get("max_stock", 0),
        created_at=created,
        updated_at=updated,
        attributes=attributes,
        unit=fields.get("unit") or "pcs",
        lines=tuple(lines),
    )
    check_attribute_limits(item.attributes)
    data = _item_data(item)
    return RowOutcome(good[0].row, item.sku, "add", item=item, data=data, by_line=True, notes=notes)


def _updated_lines_item(
    first: SourceRow,
    existing: InventoryItem,
    fields: dict[str, Any],
    attributes: dict[str, Any],
    given: list[tuple[SourceRow, StockLine]],
    now: datetime,
    notes: tuple[str, ...],
) -> RowOutcome:
    """A stored item after the file's lines: at the locations the file names, exactly the
    file's lines; elsewhere, its lines as they are."""
    named = {location_key(line.location) for _, line in given}
    kept = tuple(line for line in existing.stock if location_key(line.location) not in named)
    changes: dict[str, Any] = {
        name: fields[name] for name in ("name", "category", "min_stock", "max_stock", "unit")
        if name in fields
    }  # fmt: skip
    if "home" in fields:
        changes["location"] = fields["home"]
    if attributes:
        changes["attributes"] = merge_attributes(existing.attributes, attributes)
    # The replaced lines go to zero first, so that a lot the file no longer holds keeps its
    # trace, as after a pick (see `tidy`).
    emptied = (
        StockLine(line.location, 0, line.lot, line.expiry)
        for line in existing.stock
        if location_key(line.location) in named
    )
    lines = (*kept, *emptied, *(line for _, line in given))
    candidate = existing.evolve(**changes, lines=lines, updated_at=now)
    if attributes:
        check_attribute_limits(candidate.attributes, before=existing.attributes)
    diff = {
        name: [getattr(existing, name), getattr(candidate, name)]
        for name in UPDATED_FIELDS
        if getattr(existing, name) != getattr(candidate, name)
    }
    shown_kept = tuple(line for line in kept if line.quantity)
    if shown_kept:
        notes = (
            *notes,
            f"kept {len(shown_kept)} stock "
            f"{'line' if len(shown_kept) == 1 else 'lines'} at locations this file does not "
            f"name: {where_stock_is(shown_kept)}",
        )
    if not diff and candidate.stock == existing.stock:
        return RowOutcome(
            first.row, existing.sku, "unchanged", item=existing, by_line=True,
            kept=shown_kept, notes=notes,
        )  # fmt: skip
    if candidate.quantity != existing.quantity:
        diff["quantity"] = [existing.quantity, candidate.quantity]
    return RowOutcome(
        first.row, existing.sku, "update", item=candidate, before=existing, changes=diff,
        by_line=True, kept=shown_kept, notes=notes,
    )  # fmt: skip


# One import stamps every row with the same moment: format it once, not per row.
_stamp = lru_cache(maxsize=64)(format_timestamp)


def _item_data(item: InventoryItem) -> dict[str, Any]:
    """`item.to_dict()`, with the timestamps formatted once per import."""
    data = {name: getattr(item, name) for name in ITEM_FIELDS}
    data["lines"] = [line.to_dict() for line in item.stock]
    data["barcodes"] = dict(item.barcodes)
    data["created_at"] = _stamp(item.created_at)
    data["updated_at"] = _stamp(item.updated_at)
    data["attributes"] = dict(item.attributes)
    return data


def recheck(
    outcomes: list[RowOutcome], lookup: Lookup, only: AbstractSet[str] | None = None
) -> list[RowOutcome]:
    """The plan, with every row refused whose item is no longer as planned (added, changed
    or deleted by another writer since): an import never overwrites such a change.

    With `only` (SKU keys), only those items are looked up again: the others are known
    not to have changed since the plan. `outcomes` itself when no row is newly refused."""
    if only is not None and not only:
        return outcomes
    checked: list[RowOutcome] = []
    refusals: dict[int, str] = {}  # row -> reason
    for outcome in outcomes:
        if (
            outcome.action == "refuse"
            or outcome.lead  # follows the row that carries its item, below
            or (only is not None and sku_key(outcome.sku) not in only)
        ):
            checked.append(outcome)
            continue
        planned = outcome.before if outcome.action == "update" else None
        if outcome.action == "unchanged":
            planned = outcome.item
        current = lookup.get(outcome.sku)
        if current is planned or current == planned:
            checked.append(outcome)
            continue
        what = "added" if planned is None else "deleted" if current is None else "changed"
        reason = (
            f"sku: {outcome.sku!r} was {what} by another writer while this file was being "
            "imported; this row was not applied, import the file again to apply it"
        )
        checked.append(RowOutcome(outcome.row, outcome.sku, "refuse", reason))
        refusals[outcome.row] = reason
    if not refusals:
        return outcomes
    return [
        RowOutcome(outcome.row, outcome.sku, "refuse", refusals[outcome.lead])
        if outcome.lead in refusals and outcome.action != "refuse"
        else outcome
        for outcome in checked
    ]


def kept(planned: list[RowOutcome], checked: list[RowOutcome]) -> list[bool]:
    """For each row of `planned` that writes (one entry per item `changes_of` makes), whether
    it still does after the re-check that made `checked`."""
    return [
        now.action in ("add", "update")
        for then, now in zip(planned, checked, strict=True)
        if then.item is not None and then.action in ("add", "update")
    ]


class Writes:
    """An import's items and their movements, made ready for the store before the lock is
    taken (SQLite: every statement parameter), and written under it in one go."""

    def __init__(
        self, store: InventoryRepository, items: list[InventoryItem], movements: list[Movement]
    ) -> None:
        self.items = items
        self.movements = movements
        # prepare_writes gives lists of rows parallel to items and to movements.
        prepare = getattr(store, "prepare_writes", None)
        self._prepared: tuple[list[Any], list[Any]] | None = (
            None if prepare is None else prepare(items, movements)
        )

    def keep(self, mask: list[bool]) -> None:
        """Only the rows whose entry in `mask` (one per item) is True."""

        def kept_of(rows: list[Any]) -> list[Any]:
            return [row for row, keep in zip(rows, mask, strict=True) if keep]

        self.items, self.movements = kept_of(self.items), kept_of(self.movements)
        if self._prepared is not None:
            self._prepared = (kept_of(self._prepared[0]), kept_of(self._prepared[1]))

    def write(self, store: InventoryRepository) -> None:
        """Store them (inside the store's transaction)."""
        if self._prepared is not None:
            store.write_prepared(self._prepared)  # type: ignore[attr-defined]
            return
        store.put_many(self.items)
        store.append_movements(self.movements)


def changes_of(
    outcomes: list[RowOutcome], *, reason: str, user: str, now: datetime, source: str
) -> tuple[list[InventoryItem], list[Movement]]:
    """The items to store and the movement of each applied row (`add`; `count` when the
    quantity changes, else `update`)."""
    items: list[InventoryItem] = []
    movements: list[Movement] = []
    for outcome in outcomes:
        item = outcome.item
        if item is None or outcome.action not in ("add", "update"):
            continue
        items.append(item)
        if outcome.before is None:
            data = outcome.data if outcome.data is not None else item.to_dict()
            kind: MovementKind = "add"
            before = 0
            details: dict[str, Any] = {"item": data, "import": source}
            if outcome.by_line:
                details["lines"] = line_diff((), item.stock)
        else:
            changes = {k: v for k, v in outcome.changes.items() if k != "quantity"}
            moved = line_diff(outcome.before.stock, item.stock)
            counted = "quantity" in outcome.changes or (outcome.by_line and bool(moved))
            kind = "count" if counted else "update"
            before = outcome.before.quantity
            details = {"changes": changes, "import": source}
            if moved:
                details["lines"] = moved
        movements.append(
            Movement(
                sku=item.sku,
                kind=kind,
                delta=item.quantity - before,
                quantity_before=before,
                quantity_after=item.quantity,
                reason=reason,
                user=user,
                timestamp=now,
                details=details,
            )
        )
    return items, movements


def refused(outcomes: list[RowOutcome]) -> bool:
    """Whether any row is refused."""
    return any(outcome.action == "refuse" for outcome in outcomes)


def added(outcomes: list[RowOutcome]) -> int:
    """How many items the rows add."""
    return sum(outcome.action == "add" and not outcome.lead for outcome in outcomes)
