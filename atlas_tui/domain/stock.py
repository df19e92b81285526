"""Where stock is: stock lines (location, lot, expiry → quantity), locations, units, packs.

An item's stock is a set of lines; its quantity is their sum. Lines are kept sorted and
merged: one line per (location, lot, expiry), matched case-insensitively on location and
lot. A line at zero is dropped, except the last line of a lot no other line holds: it keeps
the lot traceable (a recall asks where a lot was), and goes when the lot is received again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from atlas_tui.domain.checks import clean_text, shown
from atlas_tui.domain.errors import ValidationError

LOCATION_MAX_LEN: Final = 64
LOT_MAX_LEN: Final = 64
UNIT_MAX_LEN: Final = 16
LOCATION_NAME_MAX_LEN: Final = 200
DEFAULT_UNIT: Final = "pcs"
PACK_MAX: Final = 1_000_000  # units one scan of a pack barcode may stand for
BARCODES_MAX: Final = 32
BARCODE_MAX_LEN: Final = 64
# Locations nest at most this deep (warehouse > building > aisle > shelf > bin …).
LOCATION_DEPTH_MAX: Final = 16

_EXPIRY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _label(field: str, value: object, max_len: int, *, required: bool) -> str:
    return clean_text(field, value, max_len, required=required)


def clean_location(value: object, field: str = "location", *, required: bool = True) -> str:
    """A location code as operators type and scan it: `A-03-2`, `WH2/B/07` (1-64 characters)."""
    return _label(field, value, LOCATION_MAX_LEN, required=required)


def location_key(code: str) -> str:
    """The case-insensitive identity of a location code."""
    return code.strip().casefold()


def clean_lot(value: object, field: str = "lot") -> str:
    """A lot or batch code, or "" for none."""
    return _label(field, value, LOT_MAX_LEN, required=False)


def clean_expiry(value: object, field: str = "expiry") -> str:
    """An expiry date as YYYY-MM-DD (a date object is accepted), or "" for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a date as YYYY-MM-DD, got {shown(value)}")
    text = value.strip()
    if not text:
        return ""
    if not _EXPIRY.fullmatch(text):
        raise ValidationError(field, f"must be a date as YYYY-MM-DD, got {shown(text)}")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise ValidationError(field, f"is not a date of the calendar, got {shown(text)}") from None
    return text


def clean_unit(value: object) -> str:
    """The unit an item is counted in: `pcs` (the default), `kg`, `m`, `box` …"""
    text = _label("unit", value, UNIT_MAX_LEN, required=False)
    if not text:
        return DEFAULT_UNIT
    if any(char.isspace() for char in text):
        raise ValidationError("unit", f"must be one word such as pcs, kg or box, got {shown(text)}")
    return text


def clean_barcodes(value: object) -> dict[str, int]:
    """Barcodes of an item and how many units one scan of each stands for (1: a single
    unit; 12: a case of twelve)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("barcodes", f"must map barcodes to pack sizes, got {shown(value)}")
    if len(value) > BARCODES_MAX:
        raise ValidationError("barcodes", f"an item has at most {BARCODES_MAX}, got {len(value)}")
    cleaned: dict[str, int] = {}
    for code, size in value.items():
        text = _label("barcode", code, BARCODE_MAX_LEN, required=True)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= PACK_MAX:
            raise ValidationError(
                f"barcode {text}", f"pack size must be a whole number from 1 to {PACK_MAX}"
            )
        cleaned[text] = size
    return cleaned


@dataclass(frozen=True, slots=True)
class StockLine:
    """Stock of one item at one location, of one lot (or none) and expiry (or none)."""

    location: str
    quantity: int
    lot: str = ""
    expiry: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies the line within its item: location and lot (any case), expiry."""
        return (location_key(self.location), self.lot.casefold(), self.expiry)

    def to_dict(self) -> dict[str, Any]:
        """Stored form: location and quantity, lot and expiry only when set."""
        data: dict[str, Any] = {"location": self.location, "quantity": self.quantity}
        if self.lot:
            data["lot"] = self.lot
        if self.expiry:
            data["expiry"] = self.expiry
        return data

    def where(self) -> str:
        """How the line reads in a message: `A-1`, `A-1 lot L7`, `A-1 lot L7 (exp 2027-01-31)`."""
        text = self.location or "(no location)"
        if self.lot:
            text += f" lot {self.lot}"
        if self.expiry:
            text += f" (exp {self.expiry})"
        return text

    @classmethod
    def from_data(cls, data: object, quantity_max: int) -> StockLine:
        """A line from its stored or given form, checked."""
        if not isinstance(data, Mapping):
            raise ValidationError("lines", f"each line must be a record, got {shown(data)}")
        unknown = sorted(set(data) - {"location", "quantity", "lot", "expiry"})
        if unknown:
            raise ValidationError(f"lines.{unknown[0]}", "is not a field of a stock line")
        quantity = data.get("quantity", 0)
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ValidationError(
                "lines.quantity", f"must be a whole number, got {shown(quantity)}"
            )
        if not 0 <= quantity <= quantity_max:
            raise ValidationError("lines.quantity", f"must be between 0 and {quantity_max}")
        return cls(
            clean_location(data.get("location", ""), "lines.location", required=False),
            quantity,
            clean_lot(data.get("lot", ""), "lines.lot"),
            clean_expiry(data.get("expiry", ""), "lines.expiry"),
        )


def line_order(line: StockLine) -> tuple[str, str, str]:
    """Lines read by location, then earliest expiry (none last), then lot."""
    return (location_key(line.location), line.expiry or "9999", line.lot.casefold())


def tidy(lines: Iterable[StockLine]) -> tuple[StockLine, ...]:
    """Merge lines of the same key (the first spelling wins), drop empty ones, sort."""
    merged: dict[tuple[str, str, str], StockLine] = {}
    for line in lines:
        found = merged.get(line.key)
        if found is None:
            merged[line.key] = line
        else:
            merged[line.key] = StockLine(
                found.location, found.quantity + line.quantity, found.lot, found.expiry
            )
    held_lots = {line.lot.casefold() for line in merged.values() if line.lot and line.quantity}
    kept: list[StockLine] = []
    traced: set[str] = set()
    for line in sorted(merged.values(), key=line_order):
        if line.quantity > 0:
            kept.append(line)
        elif line.lot and line.lot.casefold() not in held_lots | traced:
            traced.add(line.lot.casefold())  # the lot's last trace: one line at zero
            kept.append(line)
    return tuple(kept)


def total(lines: Iterable[StockLine]) -> int:
    """The quantity on hand: every line's quantity."""
    return sum(line.quantity for line in lines)


def places(lines: Sequence[StockLine], home: str) -> int:
    """How many locations other than the home hold stock (the items table's "+2")."""
    home_key = location_key(home)
    return len({location_key(line.location) for line in lines if line.quantity > 0} - {home_key})


# A change to one line, as movements record it: [location, lot, expiry, before, after].
LineChange = list[Any]


def change_lines(
    lines: Sequence[StockLine], changes: Iterable[tuple[StockLine, int]]
) -> tuple[tuple[StockLine, ...], list[LineChange]]:
    """Apply quantity deltas to lines (a line not there yet starts at 0).

    Returns the tidied lines and the changes as movements record them. A line that would go
    below zero is refused, naming it.
    """
    current = {line.key: line for line in lines}
    recorded: list[LineChange] = []
    for target, delta in changes:
        found = current.get(target.key)
        before = found.quantity if found is not None else 0
        after = before + delta
        if after < 0:
            where = (found or target).where()
            raise ValidationError(
                "quantity", f"cannot take {-delta} from {where}: it holds {before}"
            )
        base = found or target
        current[target.key] = StockLine(base.location, after, base.lot, base.expiry)
        recorded.append([base.location, base.lot, base.expiry, before, after])
    return tidy(current.values()), recorded


def line_diff(before: Sequence[StockLine], after: Sequence[StockLine]) -> list[LineChange]:
    """The line changes that turn `before` into `after`, as movements record them."""
    old = {line.key: line for line in before}
    new = {line.key: line for line in after}
    changes: list[LineChange] = []
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key), new.get(key)
        base = now or was
        assert base is not None
        if (was.quantity if was else 0) != (now.quantity if now else 0):
            changes.append(
                [base.location, base.lot, base.expiry, was.quantity if was else 0,
                 now.quantity if now else 0]
            )  # fmt: skip
    return changes


def undo_changes(changes: Iterable[Sequence[Any]]) -> list[tuple[StockLine, int]]:
    """The deltas that take recorded line changes back."""
    return [
        (StockLine(str(location), 0, str(lot), str(expiry)), int(before) - int(after))
        for location, lot, expiry, before, after in changes
    ]


def where_stock_is(lines: Sequence[StockLine]) -> str:
    """`A-1 (5), B-2 lot L7 (3)`: for messages that send the operator to the stock."""
    held = [line for line in lines if line.quantity > 0]
    if not held:
        return "nowhere (none on hand)"
    return ", ".join(f"{line.where()} ({line.quantity})" for line in held)


@dataclass(frozen=True, slots=True)
class Location:
    """A place stock is kept: a code, optionally a parent (its path) and a name."""

    code: str
    name: str = ""
    parent: str = ""
    retired: bool = False

    @property
    def key(self) -> str:
        return location_key(self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "parent": self.parent,
            "retired": self.retired,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Location:
        return cls(
            clean_location(data.get("code")),
            _label("name", data.get("name", ""), LOCATION_NAME_MAX_LEN, required=False),
            clean_location(data.get("parent", ""), "parent", required=False),
            bool(data.get("retired", False)),
        )


def location_path(code: str, known: Mapping[str, Location]) -> list[str]:
    """The codes from the outermost parent down to `code` (`WH2 > B > B-07`)."""
    path = [code]
    seen = {location_key(code)}
    current = known.get(location_key(code))
    while current is not None and current.parent and len(path) < LOCATION_DEPTH_MAX:
        parent_key = location_key(current.parent)
        if parent_key in seen:
            break
        seen.add(parent_key)
        path.insert(0, current.parent)
        current = known.get(parent_key)
    return path
