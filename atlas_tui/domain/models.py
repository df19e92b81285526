"""Domain models: inventory items, movements of the audit trail, and their rules."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Literal, NamedTuple, cast

from atlas_tui.domain.checks import check_utf8 as check_utf8
from atlas_tui.domain.checks import clean_text as clean_text
from atlas_tui.domain.checks import shown as shown
from atlas_tui.domain.errors import ValidationError
from atlas_tui.domain.stock import (
    DEFAULT_UNIT,
    StockLine,
    clean_barcodes,
    clean_unit,
    location_key,
    places,
    tidy,
    total,
    where_stock_is,
)

# Limits on what an item holds (README, "Limits"). Each keeps one item's cost bounded: a
# store rewrites or re-reads items under the writers' lock.
SKU_MAX_LEN: Final = 64
NAME_MAX_LEN: Final = 200
LABEL_MAX_LEN: Final = 64  # category, location, the user recorded on movements
REASON_MAX_LEN: Final = 500
ATTRIBUTES_MAX: Final = 64  # attributes per item
ATTRIBUTE_NAME_MAX_LEN: Final = 64
# An attribute's value: text of at most this many characters; any other value, its JSON text.
ATTRIBUTE_VALUE_MAX: Final = 4096
# Far above any real stock, and inside the 64-bit integers every backend stores exactly.
QUANTITY_MAX: Final = 10**12

MovementKind = Literal[
    "add", "adjust", "count", "move", "update", "delete", "receive", "pick", "transfer"
]
MOVEMENT_KINDS: Final[tuple[str, ...]] = (
    "add", "adjust", "count", "move", "update", "delete", "receive", "pick", "transfer"
)  # fmt: skip
# Kinds that take stock away for use: what trends count as consumption.
USAGE_KINDS: Final = frozenset({"adjust", "pick"})

ITEM_FIELDS: Final = (
    "sku",
    "name",
    "category",
    "quantity",
    "location",
    "min_stock",
    "max_stock",
    "created_at",
    "updated_at",
    "attributes",
    "unit",
    "barcodes",
    "lines",
)
# Fields of items written before stock lines (stores are upgraded from them).
LEGACY_ITEM_FIELDS: Final = ITEM_FIELDS[:10]


def sku_key(sku: str) -> str:
    """The case-insensitive identity of a SKU."""
    return sku.strip().casefold()


def clean_sku(value: object) -> str:
    """Trim and check a SKU: 1-64 printable characters."""
    if not isinstance(value, str):
        raise ValidationError("sku", f"must be text, got {shown(value)}")
    sku = value.strip()
    if not sku:
        raise ValidationError("sku", "is required")
    check_utf8("sku", sku)
    if len(sku) > SKU_MAX_LEN:
        raise ValidationError("sku", f"must be at most {SKU_MAX_LEN} characters, got {len(sku)}")
    if not sku.isprintable():
        raise ValidationError("sku", f"must contain only printable characters, got {shown(sku)}")
    return sku


def clean_path(field_name: str, value: object) -> str:
    """A file path given as text, bytes or a path object, as text (not yet resolved)."""
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    if not isinstance(value, str | os.PathLike):
        raise ValidationError(field_name, f"must be a file path, got {type(value).__name__}")
    text = os.fspath(value)
    text = text if isinstance(text, str) else os.fsdecode(text)
    if "\0" in text:
        raise ValidationError(field_name, "must not contain NUL characters")
    return text


def clean_flag(field_name: str, value: object) -> bool:
    """A yes/no option: True or False, nothing that merely looks true (a list, "no")."""
    if not isinstance(value, bool):
        raise ValidationError(field_name, f"must be True or False, got {shown(value)}")
    return value


def clean_int(
    field_name: str, value: object, *, minimum: int | None = 0, maximum: int = QUANTITY_MAX
) -> int:
    """A whole number from an int, an integral float or a numeric string."""
    number: int
    if isinstance(value, bool):
        raise ValidationError(field_name, f"must be a whole number, got {shown(value)}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValidationError(field_name, f"must be a whole number, got {shown(value)}")
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = int(text, 10)
        except ValueError:
            raise ValidationError(
                field_name, f"must be a whole number, got {shown(value)}"
            ) from None
    else:
        raise ValidationError(field_name, f"must be a whole number, got {shown(value)}")
    if minimum is not None and number < minimum:
        raise ValidationError(field_name, f"must be {minimum} or more, got {number}")
    limit_low = -maximum if minimum is None else minimum
    if number > maximum or number < limit_low:
        raise ValidationError(field_name, f"must be between {limit_low} and {maximum}")
    return number


def _check_json(path: str, value: object, depth: int = 0) -> None:
    if depth > 32:
        raise ValidationError(path, "is nested too deeply")
    if isinstance(value, str):
        check_utf8(path, value)
        return
    if value is None or isinstance(value, (bool, int)):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            raise ValidationError(path, "is too large a number")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(path, f"must be a finite number, got {value}")
        return
    if isinstance(value, list | tuple):
        for index, element in enumerate(value):
            _check_json(f"{path}[{index}]", element, depth + 1)
        return
    if isinstance(value, Mapping):
        for key, element in value.items():
            if not isinstance(key, str):
                raise ValidationError(path, f"keys must be text, got {shown(key)}")
            if not key.isascii():  # the names below are built only when needed: 100k rows
                check_utf8(f"{path} key {shown(key)}", key)
            if type(element) is str and depth < 32:
                if not element.isascii():
                    check_utf8(f"{path}.{key}", element)
                continue
            _check_json(f"{path}.{key}", element, depth + 1)
        return
    raise ValidationError(path, f"is not JSON data ({type(value).__name__})")


def clean_attributes(value: object) -> dict[str, Any]:
    """A JSON-serialisable dict of extra fields (a fresh copy)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(
            "attributes", f"must be a mapping of names to values, got {shown(value)}"
        )
    for key in value:
        if not isinstance(key, str) or not key.strip():
            raise ValidationError("attributes", f"names must be non-empty text, got {shown(key)}")
    _check_json("attributes", value)
    copied: dict[str, Any] = _copy_json(dict(value))
    return copied


def _value_size(value: object) -> int:
    """An attribute value's size against ATTRIBUTE_VALUE_MAX: text counts its characters,
    anything else the characters of its JSON text (a number or true is always small)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple | Mapping):
        return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))
    return 0


def check_attribute_limits(
    attributes: Mapping[str, Any], before: Mapping[str, Any] | None = None
) -> None:
    """Refuse attributes past the limits: ATTRIBUTES_MAX per item, names of at most
    ATTRIBUTE_NAME_MAX_LEN characters, values of at most ATTRIBUTE_VALUE_MAX.

    With `before` (the item's attributes as stored), only what changes is checked, so an
    item stored before the limits existed can still be adjusted, moved or trimmed.
    """
    count = len(attributes)
    if count > ATTRIBUTES_MAX and (before is None or count > len(before)):
        raise ValidationError(
            "attributes", f"an item has at most {ATTRIBUTES_MAX}; this would make {count}"
        )
    for key, value in attributes.items():
        if before is not None and key in before and before[key] == value:
            continue
        if len(key) > ATTRIBUTE_NAME_MAX_LEN:
            raise ValidationError(
                f"attribute name {shown(key)}",
                f"must be at most {ATTRIBUTE_NAME_MAX_LEN} characters, got {len(key)}",
            )
        size = _value_size(value)
        if size > ATTRIBUTE_VALUE_MAX:
            what = "characters" if isinstance(value, str) else "characters of JSON"
            raise ValidationError(
                f"attribute {key!r}",
                f"must be at most {ATTRIBUTE_VALUE_MAX} {what}, got {size}",
            )


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _copy_json(value: Any) -> Any:
    if type(value) in _PLAIN:  # before the slower ABC check below
        return value
    if type(value) is dict:
        return {key: _copy_json(element) for key, element in value.items()}
    if isinstance(value, Mapping):
        return {key: _copy_json(element) for key, element in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_json(element) for element in value]
    return value


def merge_attributes(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a merge patch: keys with a value are set, keys with None are removed."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds, e.g. 2026-11-29T08:54:24.123456+00:00."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_timestamp(field_name: str, value: object) -> datetime:
    """A timezone-aware datetime from ISO 8601 text (a trailing Z is accepted)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(
                field_name, f"must be an ISO 8601 timestamp, got {shown(value)}"
            ) from None
    else:
        raise ValidationError(field_name, f"must be an ISO 8601 timestamp, got {shown(value)}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(field_name, f"must carry a timezone, got {shown(value)}")
    return moment.astimezone(UTC)


def check_stock_limits(min_stock: int, max_stock: int) -> None:
    """max_stock 0 means no ceiling; otherwise min_stock may not exceed it."""
    if max_stock and min_stock > max_stock:
        raise ValidationError(
            "min_stock",
            f"{min_stock} is above the maximum of {max_stock} (a maximum of 0 means no ceiling)",
        )


def stock_is_low(quantity: int, min_stock: int) -> bool:
    """At or below the minimum (only when a minimum is set)."""
    return min_stock > 0 and quantity <= min_stock


def stock_is_over(quantity: int, max_stock: int) -> bool:
    """Above the ceiling (only when a ceiling is set)."""
    return max_stock > 0 and quantity > max_stock


def stock_status(quantity: int, min_stock: int, max_stock: int) -> Literal["low", "over", "ok"]:
    """low, over or ok."""
    if stock_is_low(quantity, min_stock):
        return "low"
    return "over" if stock_is_over(quantity, max_stock) else "ok"


@dataclass(frozen=True, slots=True)
class InventoryItem:
    """One stocked article, identified by its SKU."""

    sku: str
    name: str
    category: str = ""
    quantity: int = 0
    location: str = ""
    min_stock: int = 0
    max_stock: int = 0
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
    attributes: dict[str, Any] = field(default_factory=dict)
    unit: str = DEFAULT_UNIT
    barcodes: dict[str, int] = field(default_factory=dict)
    # None: one line at `location` holding `quantity` (how items were before lines).
    lines: tuple[StockLine, ...] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "sku", clean_sku(self.sku))
        set_(self, "name", clean_text("name", self.name, NAME_MAX_LEN, required=True))
        set_(self, "category", clean_text("category", self.category, LABEL_MAX_LEN))
        set_(self, "location", clean_text("location", self.location, LABEL_MAX_LEN))
        set_(self, "quantity", clean_int("quantity", self.quantity))
        set_(self, "min_stock", clean_int("min_stock", self.min_stock))
        set_(self, "max_stock", clean_int("max_stock", self.max_stock))
        check_stock_limits(self.min_stock, self.max_stock)
        set_(self, "created_at", parse_timestamp("created_at", self.created_at))
        set_(self, "updated_at", parse_timestamp("updated_at", self.updated_at))
        set_(self, "attributes", clean_attributes(self.attributes))
        set_(self, "unit", clean_unit(self.unit))
        set_(self, "barcodes", clean_barcodes(self.barcodes))
        if self.lines is None:
            given: tuple[StockLine, ...] = (
                (StockLine(self.location, self.quantity),) if self.quantity else ()
            )
        else:
            given = tidy(_line(line) for line in self.lines)
            held = total(given)
            if held != self.quantity:
                raise ValidationError(
                    "quantity", f"is {self.quantity}, but the stock lines hold {held}"
                )
        set_(self, "lines", given)

    @property
    def key(self) -> str:
        """The case-insensitive identity used for lookups."""
        return sku_key(self.sku)

    @property
    def stock(self) -> tuple[StockLine, ...]:
        """The stock lines (always set once the item is built)."""
        return self.lines or ()

    @property
    def elsewhere(self) -> int:
        """How many locations other than the home hold some of it."""
        return places(self.stock, self.location)

    @property
    def earliest_expiry(self) -> str:
        """The earliest expiry of the stock on hand, or "" when none has one."""
        return min(
            (line.expiry for line in self.stock if line.expiry and line.quantity), default=""
        )

    @property
    def shown_location(self) -> str:
        """The home, and "+2" when two other locations hold some: how tables show it."""
        others = self.elsewhere
        return f"{self.location} +{others}" if others else self.location

    @property
    def is_low(self) -> bool:
        """At or below its minimum (only when a minimum is set)."""
        return stock_is_low(self.quantity, self.min_stock)

    @property
    def is_over(self) -> bool:
        """Above its ceiling (only when a ceiling is set)."""
        return stock_is_over(self.quantity, self.max_stock)

    @property
    def status(self) -> Literal["low", "over", "ok"]:
        """low, over or ok."""
        return stock_status(self.quantity, self.min_stock, self.max_stock)

    def evolve(self, **changes: Any) -> InventoryItem:
        """A validated copy with some fields changed.

        New `lines` set the quantity; a new `quantity` alone changes the item's single line,
        or else its home line (taking from the home's earliest expiry first).
        """
        if "lines" in changes:
            lines = tidy(_line(line) for line in changes["lines"])
            changes["lines"], changes["quantity"] = lines, total(lines)
        elif "quantity" in changes:
            changes["lines"] = self.with_total(clean_int("quantity", changes["quantity"]))
        return replace(self, **changes)

    def with_total(self, quantity: int) -> tuple[StockLine, ...]:
        """The lines after the quantity on hand becomes `quantity`: a single line changes,
        or else the home line grows, or the home's lines shrink (earliest expiry first). A
        removal the home cannot cover is refused, naming where the stock is."""
        delta = quantity - self.quantity
        lines = list(self.stock)
        if not delta:
            return tuple(lines)
        if len(lines) == 1:
            only = lines[0]
            return tidy([StockLine(only.location, only.quantity + delta, only.lot, only.expiry)])
        home = location_key(self.location)
        if delta > 0:
            return tidy([*lines, StockLine(self.location, delta)])
        need = -delta
        at_home = sorted(
            (n for n, line in enumerate(lines) if location_key(line.location) == home),
            key=lambda n: (lines[n].expiry or "9999", lines[n].lot.casefold()),
        )
        held = sum(lines[n].quantity for n in at_home)
        if held < need:
            raise ValidationError(
                "location",
                f"{self.sku}: its home {self.location or '(no location)'} holds {held}, "
                f"cannot take {need}; stock is at {where_stock_is(lines)}: give a location",
            )
        for n in at_home:
            take = min(need, lines[n].quantity)
            line = lines[n]
            lines[n] = StockLine(line.location, line.quantity - take, line.lot, line.expiry)
            need -= take
            if not need:
                break
        return tidy(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; `from_dict` reads it back to an equal item."""
        return {
            "sku": self.sku,
            "name": self.name,
            "category": self.category,
            "quantity": self.quantity,
            "location": self.location,
            "min_stock": self.min_stock,
            "max_stock": self.max_stock,
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
            "attributes": _copy_json(self.attributes),
            "unit": self.unit,
            "barcodes": dict(self.barcodes),
            "lines": [line.to_dict() for line in self.stock],
        }

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> InventoryItem:
        """Build from data the store wrote, with quick checks of the rules (about 4x faster
        than `from_dict`, which a 100k-item store feels at start); anything unusual gets
        the full `from_dict` validation and its exact message."""
        try:
            sku, name = data["sku"], data["name"]
            quantity, low, high = data["quantity"], data["min_stock"], data["max_stock"]
            attributes = data["attributes"]
            plain = (
                type(sku) is str
                and 0 < len(sku) <= SKU_MAX_LEN
                and type(name) is str
                and name
                and type(quantity) is int
                and type(low) is int
                and type(high) is int
                and 0 <= quantity <= QUANTITY_MAX
                and 0 <= low <= QUANTITY_MAX
                and 0 <= high <= QUANTITY_MAX
                and (not high or low <= high)
                and type(attributes) is dict
                and type(data["category"]) is str
                and type(data["location"]) is str
                and len(data) == len(ITEM_FIELDS)
                and type(data["unit"]) is str
                and type(data["barcodes"]) is dict
                and not data["barcodes"]
            )
            if plain:
                created = datetime.fromisoformat(data["created_at"])
                updated = datetime.fromisoformat(data["updated_at"])
                lines = _plain_lines(data["lines"], quantity)
                plain = created.tzinfo is UTC and updated.tzinfo is UTC and lines is not None
        except (KeyError, TypeError, ValueError):
            plain = False
        if not plain:
            return cls.from_dict(data)
        item = object.__new__(cls)
        for name_, value in (
            ("sku", sku),
            ("name", name),
            ("category", data["category"]),
            ("quantity", quantity),
            ("location", data["location"]),
            ("min_stock", low),
            ("max_stock", high),
            ("created_at", created),
            ("updated_at", updated),
            ("attributes", attributes),
            ("unit", data["unit"]),
            ("barcodes", {}),
            ("lines", lines),
        ):
            object.__setattr__(item, name_, value)
        return item

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InventoryItem:
        """Validate and build an item from `to_dict` data; unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise ValidationError("item", f"must be a mapping, got {shown(data)}")
        unknown = sorted(set(data) - set(ITEM_FIELDS))
        if unknown:
            raise ValidationError(unknown[0], "is not a field of an item")
        for required in ("sku", "name"):
            if required not in data:
                raise ValidationError(required, "is required")
        kwargs = {name: data[name] for name in ITEM_FIELDS if name in data}
        if kwargs.get("lines") is not None:
            lines = kwargs["lines"]
            if not isinstance(lines, list | tuple):
                raise ValidationError("lines", f"must be a list of stock lines, got {shown(lines)}")
            kwargs["lines"] = tuple(StockLine.from_data(line, QUANTITY_MAX) for line in lines)
        return cls(**kwargs)


def _line(line: object) -> StockLine:
    """A stock line given as a line or as data, checked."""
    if isinstance(line, StockLine):
        return StockLine.from_data(line.to_dict(), QUANTITY_MAX)
    return StockLine.from_data(line, QUANTITY_MAX)


def _plain_lines(data: object, quantity: int) -> tuple[StockLine, ...] | None:
    """Stored lines read quickly when they are plainly well formed (else None: the full
    checks run and say what is wrong)."""
    if type(data) is not list:
        return None
    lines: list[StockLine] = []
    held = 0
    for entry in data:
        if type(entry) is not dict or not 2 <= len(entry) <= 4:
            return None
        location, count = entry.get("location"), entry.get("quantity")
        lot, expiry = entry.get("lot", ""), entry.get("expiry", "")
        if not (
            type(location) is str
            and type(count) is int
            and type(lot) is str
            and type(expiry) is str
            and 0 <= count <= QUANTITY_MAX
            and len(location) <= 64
            and (not expiry or len(expiry) == 10)
            and (count or lot)
        ):
            return None
        held += count
        lines.append(StockLine(location, count, lot, expiry))
    if held != quantity or (len(lines) > 1 and tuple(lines) != tidy(lines)):
        return None
    return tuple(lines)


ROW_FIELDS: Final = (
    "sku", "name", "category", "quantity", "location", "min_stock", "max_stock", "expiry"
)  # fmt: skip


class ItemRow(NamedTuple):
    """An item's fields as a list or table shows them (ROW_FIELDS): what a million items are
    read as, without building an `InventoryItem` (dates, attributes, checks) for each.
    `location` is the home as shown, with "+2" when two other locations hold some;
    `expiry` the earliest expiry of the stock on hand ("" when none has one)."""

    sku: str
    name: str
    category: str
    quantity: int
    location: str
    min_stock: int
    max_stock: int
    expiry: str = ""

    @property
    def key(self) -> str:
        """The case-insensitive identity (as `InventoryItem.key`)."""
        return sku_key(self.sku)

    @property
    def is_low(self) -> bool:
        return stock_is_low(self.quantity, self.min_stock)

    @property
    def is_over(self) -> bool:
        return stock_is_over(self.quantity, self.max_stock)

    @property
    def status(self) -> Literal["low", "over", "ok"]:
        return stock_status(self.quantity, self.min_stock, self.max_stock)

    @classmethod
    def of(cls, item: InventoryItem) -> ItemRow:
        return cls(item.sku, item.name, item.category, item.quantity, item.shown_location,
                   item.min_stock, item.max_stock, item.earliest_expiry)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Movement:
    """One entry of the append-only audit trail."""

    sku: str
    kind: MovementKind
    delta: int
    quantity_before: int
    quantity_after: int
    user: str
    timestamp: datetime
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; the storage id is included once assigned."""
        data: dict[str, Any] = {} if self.id is None else {"id": self.id}
        return data | {
            "sku": self.sku,
            "kind": self.kind,
            "delta": self.delta,
            "quantity_before": self.quantity_before,
            "quantity_after": self.quantity_after,
            "reason": self.reason,
            "user": self.user,
            "timestamp": format_timestamp(self.timestamp),
            "details": _copy_json(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], id: int | None = None) -> Movement:
        """Read a movement back from `to_dict` data, checking its shape."""
        if not isinstance(data, Mapping):
            raise ValidationError("movement", f"must be a mapping, got {shown(data)}")
        if id is None and isinstance(data.get("id"), int):
            id = data["id"]
        kind = data.get("kind")
        if kind not in MOVEMENT_KINDS:
            raise ValidationError("kind", f"must be one of {', '.join(MOVEMENT_KINDS)}")
        return cls(
            sku=clean_sku(data.get("sku")),
            kind=cast(MovementKind, kind),
            delta=clean_int("delta", data.get("delta"), minimum=None),
            quantity_before=clean_int("quantity_before", data.get("quantity_before")),
            quantity_after=clean_int("quantity_after", data.get("quantity_after")),
            reason=clean_text("reason", data.get("reason"), REASON_MAX_LEN),
            user=clean_text("user", data.get("user"), LABEL_MAX_LEN),
            timestamp=parse_timestamp("timestamp", data.get("timestamp")),
            details=clean_attributes(data.get("details")),
            id=id,
        )
