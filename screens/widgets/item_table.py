"""A table that draws only the rows on screen, so 100,000 items cost no more than 30."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, overload

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from atlas_tui.domain.models import ItemRow
from atlas_tui.text import safe_text
from screens.widgets.item_rows import ItemRows

LOW_MARK, OVER_MARK = "▼ low", "▲ over"
# A change shown but not yet in the store: the figure is what it will be once saved.
SAVING_MARK = "… saving"
# The gutter shown left of the rows while some are selected, and a selected row's mark.
GUTTER, SELECTED_MARK = 2, "●"
# Up to this many rows "select all" is done at once; beyond, a slice at a time in a worker.
SELECT_INLINE = 20_000
# Rows a worker turns into keys at a time: one C call that holds the interpreter (~3 ms).
SELECT_SLICE = 10_000


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header and how to show a row's value."""

    key: str
    label: str
    justify: Literal["left", "right"]
    show: Callable[[ItemRow], str]


COLUMNS: tuple[Column, ...] = (
    Column("sku", "SKU", "left", lambda r: r.sku),
    Column("name", "Name", "left", lambda r: r.name),
    Column("category", "Category", "left", lambda r: r.category),
    Column("quantity", "Qty", "right", lambda r: str(r.quantity)),
    Column("location", "Location", "left", lambda r: r.location),
    Column("min_stock", "Min", "right", lambda r: str(r.min_stock)),
    Column("max_stock", "Max", "right", lambda r: str(r.max_stock or "-")),
    Column("status", "", "left", lambda r: _mark(r)),
)
SORTABLE = tuple(column.key for column in COLUMNS)
# Widest a column grows before the name column gets the rest of the line.
_CAPS = {"sku": 16, "category": 14, "location": 10}
_FLOORS = {"name": 10, "category": 6, "location": 6, "sku": 8}
# On a narrow terminal these columns go, in this order, before the name is cut below
# _NAME_ROOM: SKU, name, quantity and the low/over mark always stay.
_DROPS = ("max_stock", "min_stock", "category", "location")
_NAME_ROOM = 16


def _mark(row: ItemRow) -> str:
    return LOW_MARK if row.is_low else OVER_MARK if row.is_over else ""


def _fit(text: str, width: int, justify: str) -> str:
    """Exactly `width` cells: cut with an ellipsis, padded on the justified side."""
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + "…" if width else ""
    pad = " " * (width - cell_len(text))
    return pad + text if justify == "right" else text + pad


class ItemTable(ScrollView, can_focus=True):
    """Items as rows (SKU, name, category, quantity, location, min, max, status).

    Shows a view (row numbers, filtered and ordered by the screen) of the rows it is given
    and draws only the visible window of it (the Line API), with a header that stays put.
    Low rows and over rows carry a mark and their own colour. Selected items (by SKU, so
    the selection outlives filters, sorts and reloads) get a `●` in a gutter shown while
    any are selected.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "item-table--header",
        "item-table--cursor",
        "item-table--low",
        "item-table--over",
        "item-table--sorted",
        "item-table--pending",
        "item-table--selected",
    }
    DEFAULT_CSS = """
    ItemTable {
        background: $surface;
        scrollbar-gutter: stable;
    }
    ItemTable > .item-table--header {
        text-style: bold;
        background: $panel;
        color: $foreground;
    }
    ItemTable > .item-table--sorted {
        color: $accent;
    }
    ItemTable > .item-table--cursor {
        background: $panel-lighten-1;
    }
    ItemTable:focus > .item-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    ItemTable > .item-table--low {
        color: $warning;
        text-style: bold;
    }
    ItemTable > .item-table--over {
        color: $error;
        text-style: bold;
    }
    ItemTable > .item-table--selected {
        background: $accent 30%;
        color: $foreground;
    }
    ItemTable > .item-table--pending {
        color: $text-muted;
        text-style: italic;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("space", "toggle_selected", "Select or unselect", show=False, id="select"),
        Binding("shift+down", "extend_selection(1)", "Select down", show=False, id="select-down"),
        Binding("shift+up", "extend_selection(-1)", "Select up", show=False, id="select-up"),
        Binding("asterisk", "select_all", "Select all shown", show=False, id="select-all"),
        Binding("U,escape", "clear_selection", "Clear selection", show=False, id="select-none"),
    ]

    # Keys that only move the cursor: a burst of them need not wait key by key (typeahead).
    KEYS_KEEP_FOCUS: ClassVar[frozenset[str]] = frozenset(
        {"up", "down", "k", "j", "pageup", "pagedown", "home", "end"}
    )

    cursor_row: reactive[int] = reactive(0, init=False)

    class Highlighted(Message):
        """The cursor rests on another item (or on none)."""

        def __init__(self, table: ItemTable, item: ItemRow | None) -> None:
            super().__init__()
            self.table = table
            self.item = item

        @property
        def control(self) -> ItemTable:
            return self.table

    class SelectionChanged(Message):
        """Items were selected or unselected (the table's `selected` says which)."""

        def __init__(self, table: ItemTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> ItemTable:
            return self.table

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ItemTable.SelectionChanged)

    class HeaderClicked(Message):
        """A column header was clicked: the screen decides the order."""

        def __init__(self, table: ItemTable, column: str) -> None:
            super().__init__()
            self.table = table
            self.column = column

        @property
        def control(self) -> ItemTable:
            return self.table

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._rows = ItemRows()
        self._view: Sequence[int] = range(0)
        self._natural: dict[str, int] = self._measure()
        self._widths: dict[str, int] = dict(self._natural)
        self.sort_column = "sku"
        self.sort_reverse = False
        self._pending: set[str] = set()
        self._selected: set[str] = set()  # SKU keys: a selection outlives filters and sorts
        # Cursor keys typed while the screen works out a new view (None: none on its way).
        self._held: list[Callable[[], None]] | None = None
        self._empty_hint: tuple[str, ...] = ()

    # Data ---------------------------------------------------------------------------------

    @property
    def rows(self) -> ItemRows:
        """Every row the screen holds."""
        return self._rows

    @property
    def view(self) -> Sequence[int]:
        """The row numbers shown, in order (filtered and sorted by the screen)."""
        return self._view

    @property
    def items(self) -> Sequence[ItemRow]:
        """The rows shown, in order."""
        return _Shown(self._rows, self._view)

    @property
    def current(self) -> ItemRow | None:
        """The row under the cursor."""
        if 0 <= self.cursor_row < len(self._view):
            return self._rows.row(self._view[self.cursor_row])
        return None

    def show_rows(self, rows: ItemRows, view: Sequence[int], keep: str | None = None) -> None:
        """Show `view` of `rows`; the cursor stays on the item with key `keep` when shown."""
        self._rows, self._view = rows, view
        self._natural = self._measure()
        self._layout()
        row = self.cursor_row
        if keep is not None:
            found = self.row_of(keep)
            row = found if found is not None else row
        self._set_cursor(min(row, max(len(view) - 1, 0)), force=True)
        self.refresh()

    def set_empty_hint(self, lines: Sequence[str]) -> None:
        """What the table says when it shows no row (what to do next); user text is escaped."""
        hint = tuple(safe_text(line) for line in lines)
        if hint != self._empty_hint:
            self._empty_hint = hint
            self.refresh()

    def refresh_item(self, key: str) -> None:
        """Redraw the row of an item whose figures changed in `rows` (if it is shown)."""
        row = self.row_of(key)
        if row is not None:
            self.refresh_row(row)
            if row == self.cursor_row:
                self.post_message(self.Highlighted(self, self.current))

    def set_pending(self, key: str, pending: bool) -> None:
        """Mark an item's row as changed on screen but not saved yet (or clear the mark)."""
        if pending == (key in self._pending):
            return
        if pending:
            self._pending.add(key)
        else:
            self._pending.discard(key)
        row = self.row_of(key)
        if row is not None:
            self.refresh_row(row)

    # Selection ----------------------------------------------------------------------------

    @property
    def selected(self) -> frozenset[str]:
        """The SKU keys of the selected items (shown or not)."""
        return frozenset(self._selected)

    @property
    def selection_size(self) -> int:
        return len(self._selected)

    def select(self, keys: Iterable[str], on: bool = True, rows: Iterable[int] = ()) -> None:
        """Select (or unselect) items by SKU key; `rows`: where they are shown, if known
        (else every row on screen is repainted). A set given may become the selection."""
        was = bool(self._selected)
        if on and isinstance(keys, set) and len(keys) > len(self._selected):
            # A big set (select all): the smaller one is merged into it, not a million
            # keys copied on the screen's thread.
            keys.update(self._selected)
            self._selected = keys
        elif on:
            self._selected.update(keys)
        else:
            self._selected.difference_update(keys)
        if bool(self._selected) != was:
            self._layout()  # the gutter comes or goes: every line shifts
            self.refresh()
        else:
            shown = list(rows)
            for row in shown:
                self.refresh_row(row)
            if not shown:
                self.refresh()
        self.post_message(self.SelectionChanged(self))

    def forget(self, keys: Iterable[str]) -> None:
        """Unselect items that are gone (deleted)."""
        gone = self._selected.intersection(keys)
        if gone:
            self.select(gone, on=False)

    def action_toggle_selected(self) -> None:
        """Select or unselect the item under the cursor, and go down a row."""

        def toggle() -> None:
            row = self.current
            if row is not None:
                self.select([row.key], row.key not in self._selected, [self.cursor_row])
                self._set_cursor(self.cursor_row + 1)

        self._typed(toggle)

    def action_extend_selection(self, step: int) -> None:
        """Select the item under the cursor and the one `step` rows away, and go there."""

        def extend() -> None:
            here, start = self.current, self.cursor_row
            if here is None:
                return
            self._set_cursor(start + step)
            there = self.current or here
            self.select({here.key, there.key}, True, {start, self.cursor_row})

        self._typed(extend)

    def action_select_all(self) -> None:
        """Select every item shown (those the filter lets through)."""
        self._typed(self._select_shown)

    def action_clear_selection(self) -> None:
        """Unselect every item (with none selected, the key means what it means around
        the table: escape dismisses the screen's message)."""
        if not self._selected:
            raise SkipAction()
        self._selected.clear()
        self._layout()
        self.refresh()
        self.post_message(self.SelectionChanged(self))

    def _select_shown(self) -> None:
        view, skus = self._view, self._rows.skus
        if len(view) <= SELECT_INLINE:
            self.select(map(str.casefold, map(str.strip, map(skus.__getitem__, view))))
        else:
            skus = list(skus)  # a copy: rows may be added meanwhile
            # Not @work: it would name the worker by the repr of a million SKUs.
            self.run_worker(lambda: self._select_slices(skus, view), "select all shown",
                            group="select", exclusive=True, thread=True,
                            exit_on_error=False)  # fmt: skip

    def _select_slices(self, skus: list[str], view: Sequence[int]) -> None:
        """A million keys take a quarter of a second: a slice at a time (in a worker), so
        keys typed meanwhile are answered."""
        worker = get_current_worker()
        keys: set[str] = set()
        for first in range(0, len(view), SELECT_SLICE):
            if worker.is_cancelled:
                return
            part = view[first : first + SELECT_SLICE]
            keys.update(map(str.casefold, map(str.strip, map(skus.__getitem__, part))))
            time.sleep(0)  # hand the interpreter to the screen between slices
        self.app.call_from_thread(self.select, keys)

    def row_of(self, key: str) -> int | None:
        """Where the item with this key is shown (the cursor's row first), if it is."""
        view = self._view
        if 0 <= self.cursor_row < len(view) and self._rows.key(view[self.cursor_row]) == key:
            return self.cursor_row
        number = self._rows.find(key)
        if number is None:
            return None
        try:
            return view.index(number)  # a range answers at once; an array at C speed
        except ValueError:
            return None

    def refresh_row(self, row: int) -> None:
        """Repaint the screen line that shows `row`, if it is on screen."""
        # Screen line, not content line: the header stays put, so ScrollView's refresh_line
        # (which takes a content line and subtracts the scroll offset) would miss it.
        y = row - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _measure(self) -> dict[str, int]:
        rows, view = self._rows, self._view
        # +1 leaves room for the sort arrow in the header.
        natural = {column.key: cell_len(column.label) + 1 for column in COLUMNS}
        natural["status"] = max(cell_len(mark) for mark in (LOW_MARK, OVER_MARK, SAVING_MARK))
        # Text columns are capped anyway: look at enough rows to size them, not all 1M.
        sample = view if len(view) <= 5000 else [*view[:2500], *view[-2500:]]
        for key, values in (("sku", rows.skus), ("category", rows.categories),
                            ("location", rows.locations)):  # fmt: skip
            natural[key] = max(natural[key], *(cell_len(safe_text(values[n])) for n in sample), 0)
        # Figures are never cut: size them on the largest value held.
        for key, largest in zip(("quantity", "min_stock", "max_stock"), rows.largest, strict=True):
            natural[key] = max(natural[key], len(str(largest)))
        return natural

    def _layout(self) -> None:
        gutter = GUTTER if self._selected else 0
        width = max(self.scrollable_content_region.width - gutter, 20)
        widths = {key: min(value, _CAPS.get(key, value)) for key, value in self._natural.items()}
        drops = list(_DROPS)
        while True:
            shown = [key for key, value in widths.items() if value]
            fixed = sum(widths[key] for key in shown if key != "name")
            gaps = len(shown) - 1
            widths["name"] = max(_FLOORS["name"], width - fixed - gaps)
            if widths["name"] >= _NAME_ROOM or not drops:
                break
            widths[drops.pop(0)] = 0  # hidden: no cells, no gap
        excess = sum(widths.values()) + gaps - width
        for key in ("category", "location", "sku"):
            if excess <= 0:
                break
            give = min(excess, widths[key] - _FLOORS[key]) if widths[key] else 0
            if give > 0:
                widths[key] -= give
                excess -= give
        self._widths = widths
        self.virtual_size = Size(sum(widths.values()) + gaps + gutter, len(self._view) + 1)

    @property
    def shown_columns(self) -> list[str]:
        """Keys of the columns on screen, in order."""
        return [column.key for column in COLUMNS if self._widths.get(column.key)]

    def on_resize(self, event: events.Resize) -> None:
        self._layout()
        self._scroll_cursor_into_view()

    # Cursor -------------------------------------------------------------------------------

    def _set_cursor(self, row: int, force: bool = False) -> None:
        row = max(0, min(row, len(self._view) - 1)) if self._view else 0
        if row != self.cursor_row or force:
            old = self.cursor_row
            self.set_reactive(ItemTable.cursor_row, row)
            self.refresh_row(old)
            self.refresh_row(row)
            self._scroll_cursor_into_view()
            self.post_message(self.Highlighted(self, self.current))

    def move_cursor(self, row: int) -> None:
        """Put the cursor on `row` (clamped)."""
        self._set_cursor(row)

    def hold_keys(self) -> None:
        """A new view is on its way: cursor keys typed meanwhile wait for it. On the rows
        shown now they would land elsewhere (`End` in the old order while the new one is
        worked out), and the new view puts the cursor back on the item it was on."""
        if self._held is None:
            self._held = []

    def release_keys(self) -> None:
        """The new view is shown: move the cursor as the keys held for it say."""
        held, self._held = self._held, None
        for move in held or ():
            move()

    def when_shown(self, action: Callable[[], None]) -> None:
        """Run `action` on the view on its way, once it is shown (at once if none is)."""
        self._typed(action)

    def _typed(self, move: Callable[[], None]) -> None:
        if self._held is None:
            move()
        else:
            self._held.append(move)

    def _scroll_cursor_into_view(self) -> None:
        # force: right after a filter is cleared Textual still counts the table as too short
        # to scroll (its scrollbar not yet updated) and would quietly stay at the top.
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, force=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, force=True)

    def action_cursor(self, step: int) -> None:
        self._typed(lambda: self._set_cursor(self.cursor_row + step))

    def action_page(self, direction: int) -> None:
        self._typed(
            lambda: self._set_cursor(self.cursor_row + direction * max(self.size.height - 2, 1))
        )

    def action_jump(self, row: int) -> None:
        self._typed(lambda: self._set_cursor(len(self._view) - 1 if row < 0 else row))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x = int(self.scroll_x) + event.x - (GUTTER if self._selected else 0)
            for column in COLUMNS:
                if not self._widths.get(column.key):
                    continue
                x -= self._widths.get(column.key, 0) + 1
                if x < 0:
                    self.post_message(self.HeaderClicked(self, column.key))
                    return
            return
        if self._held is not None:
            self._held.clear()  # a click picks an item seen: keys typed before it are moot
        self._set_cursor(int(self.scroll_y) + event.y - 1)

    # Drawing ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x = int(self.scroll_x)
        width = self.scrollable_content_region.width
        if y == 0:
            strip = self._header()
        else:
            row = int(self.scroll_y) + y - 1
            if row < len(self._view):
                strip = self._row(row)
            elif not self._view and 0 < y - 1 <= len(self._empty_hint):
                strip = Strip([Segment(" " + self._empty_hint[y - 2], self.rich_style)])
            else:
                strip = Strip.blank(width, self.rich_style)
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, self.rich_style)

    def _header(self) -> Strip:
        base = self.get_component_rich_style("item-table--header")
        sorted_style = base + self.get_component_rich_style("item-table--sorted")
        segments = []
        for column in COLUMNS:
            if not self._widths[column.key]:
                continue
            label = column.label
            style = base
            if column.key == self.sort_column:
                label = f"{label}{'↓' if self.sort_reverse else '↑'}" if label else "↕"
                style = sorted_style
            segments.append(Segment(_fit(label, self._widths[column.key], column.justify), style))
            segments.append(Segment(" ", base))
        if self._selected:
            segments.insert(0, Segment(" " * GUTTER, base))
        return Strip(segments[:-1]).simplify()

    def _row(self, row: int) -> Strip:
        item = self._rows.row(self._view[row])
        base = self.rich_style
        chosen = bool(self._selected) and item.key in self._selected
        if row == self.cursor_row:
            base = base + self.get_component_rich_style("item-table--cursor")
        elif chosen:
            base = base + self.get_component_rich_style("item-table--selected")
        status: Style | None = None
        pending = item.key in self._pending
        if pending:
            status = self.get_component_rich_style("item-table--pending")
        elif item.is_low:
            status = self.get_component_rich_style("item-table--low")
        elif item.is_over:
            status = self.get_component_rich_style("item-table--over")
        segments = []
        for column in COLUMNS:
            if not self._widths[column.key]:
                continue
            shown = SAVING_MARK if pending and column.key == "status" else column.show(item)
            text = _fit(safe_text(shown), self._widths[column.key], column.justify)
            style = base
            if status is not None and column.key in ("quantity", "status"):
                style = base + Style(color=status.color, bold=status.bold, italic=status.italic)
            segments.append(Segment(text, style))
            segments.append(Segment(" ", base))
        if self._selected:
            mark = _fit(SELECTED_MARK if chosen else "", GUTTER, "left")
            segments.insert(0, Segment(mark, base))
        # One style change per run of cells, not per cell: bytes are latency over SSH.
        return Strip(segments[:-1]).simplify()


class _Shown(Sequence[ItemRow]):
    """The rows of a view, built as they are asked for."""

    def __init__(self, rows: ItemRows, view: Sequence[int]) -> None:
        self._rows, self._view = rows, view

    def __len__(self) -> int:
        return len(self._view)

    @overload
    def __getitem__(self, index: int) -> ItemRow: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[ItemRow]: ...
    def __getitem__(self, index: int | slice) -> ItemRow | Sequence[ItemRow]:
        if isinstance(index, slice):
            return [self._rows.row(n) for n in self._view[index]]
        return self._rows.row(self._view[index])
