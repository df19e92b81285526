"""Which stock lines an operation takes from: the rules of picking, counting and receiving.

Each function looks at an item's lines and returns the changes to make, as (line, delta)
pairs for `stock.change_lines`, or refuses with a message that says where the stock is.
"""

from __future__ import annotations

from collections.abc import Sequence

from atlas_tui.domain.errors import ValidationError
from atlas_tui.domain.stock import StockLine, location_key, where_stock_is

Changes = list[tuple[StockLine, int]]


def _at(lines: Sequence[StockLine], location: str, lot: str | None) -> list[StockLine]:
    """Lines at this location (and of this lot, when one is given)."""
    key = location_key(location)
    return [
        line
        for line in lines
        if location_key(line.location) == key
        and (lot is None or line.lot.casefold() == lot.casefold())
    ]


def _fefo(lines: Sequence[StockLine]) -> list[StockLine]:
    """Earliest expiry first (lines without one last), then the fuller line."""
    return sorted(lines, key=lambda line: (line.expiry or "9999", -line.quantity, line.lot))


def _take(candidates: Sequence[StockLine], quantity: int) -> Changes:
    changes: Changes = []
    need = quantity
    for line in candidates:
        if not need:
            break
        take = min(need, line.quantity)
        if take:
            changes.append((line, -take))
            need -= take
    return changes


def take_at(
    sku: str,
    lines: Sequence[StockLine],
    quantity: int,
    location: str,
    lot: str | None,
    *,
    field: str = "location",
) -> Changes:
    """Take `quantity` from one location (of one lot, if given), earliest expiry first."""
    here = _at(lines, location, lot)
    held = sum(line.quantity for line in here)
    if held < quantity:
        what = f"{location or '(no location)'}" + (f" lot {lot}" if lot else "")
        raise ValidationError(
            field,
            f"{sku} has {held} at {what}, cannot take {quantity}; "
            f"stock is at {where_stock_is(lines)}",
        )
    return _take(_fefo(here), quantity)


def pick_order(lines: Sequence[StockLine], home: str) -> list[StockLine]:
    """Where a pick without a location takes from: earliest expiry first, then the home
    line, then the fullest."""
    home_key = location_key(home)
    return sorted(
        (line for line in lines if line.quantity > 0),
        key=lambda line: (
            line.expiry or "9999",
            location_key(line.location) != home_key,
            -line.quantity,
            location_key(line.location),
            line.lot.casefold(),
        ),
    )


def take_anywhere(sku: str, lines: Sequence[StockLine], quantity: int, home: str) -> Changes:
    """Take `quantity` wherever it is, in `pick_order`."""
    held = sum(line.quantity for line in lines)
    if held < quantity:
        raise ValidationError("quantity", f"cannot pick {quantity} of {sku}: only {held} on hand")
    return _take(pick_order(lines, home), quantity)


def one_line(
    sku: str, lines: Sequence[StockLine], location: str | None, lot: str | None, home: str
) -> StockLine:
    """The line a count sets: the item's only line (no location given), or the one at the
    location (and lot); a line not there yet starts at 0. Refuses when it is ambiguous."""
    if location is None:
        if len(lines) > 1:
            raise ValidationError(
                "location",
                f"{sku} is held in {len(lines)} places ({where_stock_is(lines)}): "
                "give the location counted",
            )
        return lines[0] if lines else StockLine(home, 0, lot or "")
    here = _at(lines, location, lot)
    if len(here) > 1:
        lots = ", ".join(line.lot or "(no lot)" for line in here)
        raise ValidationError(
            "lot", f"{sku} has {len(here)} lots at {location} ({lots}): give the lot"
        )
    return here[0] if here else StockLine(location, 0, lot or "")


def receiving_line(lines: Sequence[StockLine], location: str, lot: str, expiry: str) -> StockLine:
    """The line received stock joins: a lot already at the location keeps its expiry when
    none is given."""
    if lot and not expiry:
        for line in _at(lines, location, lot):
            if line.expiry:
                return StockLine(line.location, 0, line.lot, line.expiry)
    return StockLine(location, 0, lot, expiry)
