"""The items screen's rows: a million items held as columns, searched as one string.

One Python object per item (an `InventoryItem` with its dates and attributes) costs about a
kilobyte and a microsecond or more to build; a row here costs two strings and three machine
integers, read straight from the store's table columns. Categories and locations repeat, so
each distinct one is kept once. The text the filter matches (SKU and name, any case) is
joined into one string once, so a keystroke is a C-speed `str.find` over it rather than a
Python loop over every item.
"""

from __future__ import annotations

import bisect
import operator
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress, islice, repeat
from typing import Any, NamedTuple

from atlas_tui.domain.models import ItemRow, sku_key, stock_is_low, stock_is_over

# Rows tested at a time by a search: about a millisecond of work.
SEARCH_SLICE = 20_000


def _count_low(quantities: Sequence[int], minimums: Sequence[int]) -> int:
    """How many are at or below a minimum that is set (`stock_is_low`, at C speed)."""
    has = list(map((0).__lt__, minimums))
    return sum(map(operator.le, compress(quantities, has), compress(minimums, has)))


def _count_over(quantities: Sequence[int], maximums: Sequence[int]) -> int:
    """How many are above a ceiling that is set (`stock_is_over`, at C speed)."""
    has = list(map((0).__lt__, maximums))
    return sum(map(operator.gt, compress(quantities, has), compress(maximums, has)))


def count_within(rows: ItemRows, view: Sequence[int]) -> tuple[int, int]:
    """How many of the rows in `view` are low and how many over (C speed: no Python step
    per row; a view of every row costs nothing, its counts are kept)."""
    if len(view) == len(rows):
        return rows.low, rows.over
    quantities = list(map(rows.quantities.__getitem__, view))
    low = _count_low(quantities, list(map(rows.minimums.__getitem__, view)))
    over = _count_over(quantities, list(map(rows.maximums.__getitem__, view)))
    return low, over


class BadRow(ValueError):
    """A stored row the table cannot show (the store's own checks say more)."""


class ItemRows:
    """Items in SKU order, column by column; row numbers change only when `generation` does."""

    def __init__(self, rows: Iterable[Sequence[Any]] = ()) -> None:
        self.skus: list[str] = []
        self.names: list[str] = []
        self.categories: list[str] = []
        self.locations: list[str] = []
        self.quantities = array("q")
        self.minimums = array("q")
        self.maximums = array("q")
        # The earliest expiry of each row's stock ("" for none): one shared string per date.
        self.expiries: list[str] = []
        self.low = 0
        self.over = 0
        # The largest quantity, minimum and maximum held (never lowered: they size columns).
        self.largest = [0, 0, 0]
        # Bumped whenever rows are inserted or removed (row numbers shift) or names change:
        # a view or search computed on an older generation is thrown away.
        self.generation = 0
        self._labels: dict[str, str] = {}
        self._dates: dict[str, str] = {"": ""}
        self._haystack: list[str] | None = None
        self.extend(rows)

    def __len__(self) -> int:
        return len(self.skus)

    # Building ------------------------------------------------------------------------------

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        """Append rows (sku, name, category, quantity, location, min_stock, max_stock and
        the earliest expiry, which may be left out) that come after every row held, in SKU
        order. Raises BadRow naming the first bad one."""
        batch = list(rows)
        if not batch:
            return
        try:
            columns = list(zip(*batch, strict=True))
            if len(columns) == 7:
                columns.append(("",) * len(batch))
            skus, names, categories, quantities, locations, minimums, maximums, expiries = columns
        except (TypeError, ValueError):
            raise BadRow("a stored item does not have the fields of an item") from None
        for column in (skus, names, categories, locations, expiries):
            if not set(map(type, column)) <= {str}:  # C speed: a million rows are checked
                bad = next(value for value in column if type(value) is not str)
                raise BadRow(f"a stored text field holds {type(bad).__name__}, not text")
        label = self._labels.setdefault
        start = len(self.quantities)
        try:
            self.quantities.extend(quantities)
            self.minimums.extend(minimums)
            self.maximums.extend(maximums)
        except (TypeError, OverflowError):
            del self.quantities[start:], self.minimums[start:], self.maximums[start:]
            raise BadRow("a stored quantity, minimum or maximum is not a whole number") from None
        self.skus.extend(skus)
        self.names.extend(names)
        self.categories.extend(map(label, categories, categories))
        self.locations.extend(map(label, locations, locations))
        self.expiries.extend(map(self._dates.setdefault, expiries, expiries))
        for n, column in enumerate((quantities, minimums, maximums)):
            self.largest[n] = max(self.largest[n], max(column))
        self.low += _count_low(quantities, minimums)
        self.over += _count_over(quantities, maximums)
        self._haystack = None

    # Reading -------------------------------------------------------------------------------

    def row(self, n: int) -> ItemRow:
        return ItemRow(self.skus[n], self.names[n], self.categories[n], self.quantities[n],
                   self.locations[n], self.minimums[n], self.maximums[n],
                   self.expiries[n])  # fmt: skip

    def flags(self, n: int) -> tuple[bool, bool]:
        """Whether row `n` is low, and whether it is over."""
        return (stock_is_low(self.quantities[n], self.minimums[n]),
                stock_is_over(self.quantities[n], self.maximums[n]))  # fmt: skip

    def key(self, n: int) -> str:
        return sku_key(self.skus[n])

    def find(self, key: str) -> int | None:
        """The row of the item with this SKU key, or None."""
        n, held = self._place(key)
        return n if held else None

    def _place(self, key: str) -> tuple[int, bool]:
        """Where the SKU key's row is or would go (a binary search: rows are sorted), and
        whether it is there."""
        n = bisect.bisect_left(self.skus, key, key=sku_key)
        return n, n < len(self.skus) and sku_key(self.skus[n]) == key

    def labels(self) -> list[str]:
        """Every distinct category and location text held."""
        return list(self._labels)

    # Changing ------------------------------------------------------------------------------

    def put(self, row: ItemRow) -> int:
        """Replace the row with the same SKU, or insert it in SKU order; returns its number."""
        n, held = self._place(row.key)
        if held:
            self._count(n, -1)
            if self.names[n] != row.name or self.skus[n] != row.sku:
                self._haystack = None
                self.generation += 1
        else:
            self.skus.insert(n, "")
            self.names.insert(n, "")
            self.categories.insert(n, "")
            self.locations.insert(n, "")
            self.quantities.insert(n, 0)
            self.minimums.insert(n, 0)
            self.maximums.insert(n, 0)
            self.expiries.insert(n, "")
            self._haystack = None
            self.generation += 1
        label = self._labels.setdefault
        self.skus[n], self.names[n] = row.sku, row.name
        self.categories[n] = label(row.category, row.category)
        self.locations[n] = label(row.location, row.location)
        self.expiries[n] = self._dates.setdefault(row.expiry, row.expiry)
        self.quantities[n], self.minimums[n], self.maximums[n] = (
            row.quantity, row.min_stock, row.max_stock)  # fmt: skip
        self._count(n, 1)
        figures = (row.quantity, row.min_stock, row.max_stock)
        self.largest = [max(old, new) for old, new in zip(self.largest, figures, strict=True)]
        return n

    def remove(self, key: str) -> int | None:
        """Take out the row with this SKU key; returns the number it had."""
        n = self.find(key)
        if n is None:
            return None
        self._count(n, -1)
        for column in (self.skus, self.names, self.categories, self.locations,
                       self.quantities, self.minimums, self.maximums,
                       self.expiries):  # fmt: skip
            del column[n]
        self._haystack = None
        self.generation += 1
        return n

    def _count(self, n: int, sign: int) -> None:
        self.low += sign * stock_is_low(self.quantities[n], self.minimums[n])
        self.over += sign * stock_is_over(self.quantities[n], self.maximums[n])

    # Searching -----------------------------------------------------------------------------

    def haystack(self) -> list[str]:
        """SKU and name of every row, casefolded: what the filter matches."""
        hay = self._haystack
        if hay is None:
            generation = self.generation
            pairs = zip(self.skus, self.names, strict=True)
            hay = [f"{sku}\t{name}".casefold() for sku, name in pairs]
            if generation == self.generation:  # built in a worker: rows may have moved on
                self._haystack = hay
        return hay

    def matches(
        self,
        needle: str,
        within: Sequence[int] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[int]:
        """Rows whose SKU or name contain `needle` (casefolded), in row order.

        Tested a slice of rows at a time at C speed (`map`, `compress`: no Python step per
        row), so a million rows take tens of milliseconds and a worker hands the interpreter
        back between slices; `stop()` is asked between them. `within`: a previous result
        holding every match (a shorter needle's), searched instead of every row.
        """
        hay = self.haystack()
        rows: Sequence[int] = range(len(hay)) if within is None else within
        for first in range(0, len(rows), SEARCH_SLICE):
            if stop is not None and stop():
                return
            part = rows[first : first + SEARCH_SLICE]
            lines = (
                hay[first : first + SEARCH_SLICE] if within is None else map(hay.__getitem__, part)
            )
            yield from compress(part, map(operator.contains, lines, repeat(needle)))


def sort_keys(rows: ItemRows, column: str) -> Callable[[int], Any]:
    """How to order row numbers by a column (rows are already in SKU order: ties keep it)."""
    if column == "sku":
        return lambda n: n
    if column in ("name", "category", "location"):
        values = {"name": rows.names, "category": rows.categories, "location": rows.locations}
        texts = values[column]
        if column == "name":
            return lambda n: texts[n].casefold()
        folded = {label: label.casefold() for label in rows.labels()}
        return lambda n: folded[texts[n]]
    if column == "status":
        q, lo, hi = rows.quantities, rows.minimums, rows.maximums
        return lambda n: 0 if stock_is_low(q[n], lo[n]) else 1 if stock_is_over(q[n], hi[n]) else 2
    figures = {"quantity": rows.quantities, "min_stock": rows.minimums, "max_stock": rows.maximums}
    return figures[column].__getitem__


class ViewSpec(NamedTuple):
    """What the table is asked to show: a filter and an order, on one generation of rows."""

    needle: str
    category: str
    location: str
    column: str
    reverse: bool
    generation: int
    size: int
    # SKUs (casefolded) with stock at `location`: shown besides the items whose home it is.
    holders: frozenset[str] = frozenset()
    # Views: only low, only over (both: either), only stock expiring by this date (ISO).
    low: bool = False
    over: bool = False
    expiring: str = ""

    @property
    def filtered(self) -> bool:
        return bool(
            self.needle or self.category or self.location or self.low or self.over
            or self.expiring
        )  # fmt: skip


def _labelled(
    rows: ItemRows, column: list[str], wanted: str, found: Iterable[int] | None
) -> Iterator[int]:
    """The rows (of `found`, else all) whose category or location is `wanted`, any case."""
    folded = wanted.casefold()
    labels = {label for label in rows.labels() if label.casefold() == folded}
    if found is None:
        return compress(range(len(column)), map(labels.__contains__, column))
    found = list(found)
    return compress(found, map(labels.__contains__, map(column.__getitem__, found)))


def _at_location(rows: ItemRows, spec: ViewSpec, n: int) -> bool:
    """Whether row `n` is at the spec's location: its home (shown as `A-1` or `A-1 +2`), or
    a place holding some of its stock."""
    shown = rows.locations[n].casefold()
    wanted = spec.location.casefold()
    if shown == wanted or (shown.startswith(wanted + " +") and shown[len(wanted) + 2 :].isdigit()):
        return True
    return bool(spec.holders) and rows.skus[n].casefold() in spec.holders


def _placed(rows: ItemRows, spec: ViewSpec, found: Iterable[int] | None) -> Iterator[int]:
    """The rows (of `found`, else all) at the spec's location."""
    candidates = range(len(rows)) if found is None else found
    return (n for n in candidates if _at_location(rows, spec, n))


def _out_of_range(rows: ItemRows, spec: ViewSpec, found: Iterable[int] | None) -> Iterator[int]:
    """The rows (of `found`, else all) that are low (spec.low) or over (spec.over): at C
    speed over every row, as `stock_is_low` and `stock_is_over` tell."""
    q, lo, hi = rows.quantities, rows.minimums, rows.maximums
    if found is not None:
        low, over = spec.low, spec.over
        return (
            n for n in found
            if (low and stock_is_low(q[n], lo[n])) or (over and stock_is_over(q[n], hi[n]))
        )  # fmt: skip
    wanted: Iterator[bool] = repeat(False)
    if spec.low:
        wanted = map(operator.and_, map((0).__lt__, lo), map(operator.le, q, lo))
    if spec.over:
        over = map(operator.and_, map((0).__lt__, hi), map(operator.gt, q, hi))
        wanted = map(operator.or_, wanted, over) if spec.low else over
    return compress(range(len(q)), wanted)


def _expiring(rows: ItemRows, by: str, found: Iterable[int] | None) -> Iterator[int]:
    """The rows (of `found`, else all) holding stock that expires on or before `by`."""
    dates = rows.expiries
    if found is not None:
        return (n for n in found if dates[n] and dates[n] <= by)
    return compress(range(len(dates)), map(operator.and_, map(bool, dates), map(by.__ge__, dates)))


def ordering(rows: ItemRows, column: str) -> array[int]:
    """ItemRow numbers sorted by a column (SKU order breaks ties: the sort is stable)."""
    return array("q", sorted(range(len(rows)), key=sort_keys(rows, column)))


def select(
    rows: ItemRows,
    spec: ViewSpec,
    order: Sequence[int] | None = None,
    within: Sequence[int] | None = None,
    first: int | None = None,
    matched: Sequence[int] | None = None,
    stop: Callable[[], bool] | None = None,
) -> Sequence[int]:
    """The row numbers `spec` shows, in its order (`order`: the rows sorted by its column).

    `within`: a previous result that holds every match (a shorter needle's); `matched`: the
    rows the needle matches, already found. `first`: stop after that many matches (a first
    screenful, shown before the rest is found).
    """
    found: Iterable[int] | None = matched
    if spec.needle and found is None:
        found = rows.matches(spec.needle, within, stop)
    if spec.category:
        found = _labelled(rows, rows.categories, spec.category, found)
    if spec.location:
        found = _placed(rows, spec, found)
    if spec.low or spec.over:
        found = _out_of_range(rows, spec, found)
    if spec.expiring:
        found = _expiring(rows, spec.expiring, found)
    if found is None:
        view: Sequence[int] = range(len(rows)) if order is None else order
        return view[::-1] if spec.reverse else view
    if first is not None:
        found = islice(found, first)
    result = array("q", found)
    if order is not None and len(result) > 1:
        wanted = set(result)  # the order's rows, kept where they are: no sort, C speed
        result = array("q", compress(order, map(wanted.__contains__, order)))
    if spec.reverse:
        result.reverse()
    return result


def shows(rows: ItemRows, spec: ViewSpec, n: int) -> bool:
    """Whether row `n` passes the spec's filter."""
    if spec.needle and spec.needle not in f"{rows.skus[n]}\t{rows.names[n]}".casefold():
        return False
    if spec.category and rows.categories[n].casefold() != spec.category.casefold():
        return False
    if spec.location and not _at_location(rows, spec, n):
        return False
    if (spec.low or spec.over) and not any(_out_of_range(rows, spec, (n,))):
        return False
    return not spec.expiring or bool(rows.expiries[n] and rows.expiries[n] <= spec.expiring)


def reshaped(
    rows: ItemRows,
    view: Sequence[int],
    spec: ViewSpec,
    *,
    removed: int | None = None,
    inserted: int | None = None,
) -> Sequence[int]:
    """`view` after row `removed` was taken out of `rows` and/or row `inserted` put in (a
    renamed row is both): the other rows keep their places, the new one goes where the
    spec's filter and order put it. Linear in the view, with no search or sort."""
    if isinstance(view, range) and not spec.filtered and spec.column == "sku":
        return range(len(rows) - 1, -1, -1) if spec.reverse else range(len(rows))
    result = array("q", view)
    if removed is not None:
        result = array("q", (m - (m > removed) for m in result if m != removed))
    if inserted is None:
        return result
    result = array("q", (m + (m >= inserted) for m in result))
    if not shows(rows, spec, inserted):
        return result
    by = sort_keys(rows, spec.column)
    target = (by(inserted), inserted)
    low, high = 0, len(result)
    while low < high:  # the first place whose row comes after the new one in the order
        middle = (low + high) // 2
        here = (by(result[middle]), result[middle])
        if (here < target) != spec.reverse:
            low = middle + 1
        else:
            high = middle
    result.insert(low, inserted)
    return result
