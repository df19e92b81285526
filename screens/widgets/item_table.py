"""A table that draws only the rows on screen, so 100,000 items cost no more than 30."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from atlas_tui.models import InventoryItem
from atlas_tui.text import safe_text

LOW_MARK, OVER_MARK = "▼ low", "▲ over"
# A change shown but not yet in the store: the figure is what it will be once saved.
SAVING_MARK = "… saving"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: how to show an item's value and how to sort by it."""

    key: str
    label: str
    justify: Literal["left", "right"]
    show: Callable[[InventoryItem], str]
    sort: Callable[[InventoryItem], Any]


def _status_rank(item: InventoryItem) -> int:
    return 0 if item.is_low else 1 if item.is_over else 2


COLUMNS: tuple[Column, ...] = (
    Column("sku", "SKU", "left", lambda i: i.sku, lambda i: i.key),
    Column("name", "Name", "left", lambda i: i.name, lambda i: i.name.casefold()),
    Column("category", "Category", "left", lambda i: i.category, lambda i: i.category.casefold()),
    Column("quantity", "Qty", "right", lambda i: str(i.quantity), lambda i: i.quantity),
    Column("location", "Location", "left", lambda i: i.location, lambda i: i.location.casefold()),
    Column("min_stock", "Min", "right", lambda i: str(i.min_stock), lambda i: i.min_stock),
    Column("max_stock", "Max", "right", lambda i: str(i.max_stock or "-"), lambda i: i.max_stock),
    Column("status", "", "left", lambda i: _mark(i), _status_rank),
)
SORTABLE = tuple(column.key for column in COLUMNS)
_BY_KEY = {column.key: column for column in COLUMNS}
# Widest a column grows before the name column gets the rest of the line.
_CAPS = {"sku": 16, "category": 14, "location": 10}
_FLOORS = {"name": 10, "category": 6, "location": 6, "sku": 8}


def _mark(item: InventoryItem) -> str:
    return LOW_MARK if item.is_low else OVER_MARK if item.is_over else ""


def _fit(text: str, width: int, justify: str) -> str:
    """Exactly `width` cells: cut with an ellipsis, padded on the justified side."""
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + "…" if width else ""
    pad = " " * (width - cell_len(text))
    return pad + text if justify == "right" else text + pad


class ItemTable(ScrollView, can_focus=True):
    """Items as rows (SKU, name, category, quantity, location, min, max, status).

    Holds the list it is given and draws only the visible window of it (the Line API), with a
    header that stays put. Low rows and over rows carry a mark and their own colour.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "item-table--header",
        "item-table--cursor",
        "item-table--low",
        "item-table--over",
        "item-table--sorted",
        "item-table--pending",
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
    ]

    # Keys that only move the cursor: a burst of them need not wait key by key (typeahead).
    KEYS_KEEP_FOCUS: ClassVar[frozenset[str]] = frozenset(
        {"up", "down", "k", "j", "pageup", "pagedown", "home", "end"}
    )

    cursor_row: reactive[int] = reactive(0, init=False)

    class Highlighted(Message):
        """The cursor rests on another item (or on none)."""

        def __init__(self, table: ItemTable, item: InventoryItem | None) -> None:
            super().__init__()
            self.table = table
            self.item = item

        @property
        def control(self) -> ItemTable:
            return self.table

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
        self._items: Sequence[InventoryItem] = ()
        self._natural: dict[str, int] = self._measure(())
        self._widths: dict[str, int] = dict(self._natural)
        self.sort_column = "sku"
        self.sort_reverse = False
        self._pending: set[str] = set()

    # Data ---------------------------------------------------------------------------------

    @property
    def items(self) -> Sequence[InventoryItem]:
        """The rows as given (already filtered and ordered by the screen)."""
        return self._items

    @property
    def current(self) -> InventoryItem | None:
        """The item under the cursor."""
        if 0 <= self.cursor_row < len(self._items):
            return self._items[self.cursor_row]
        return None

    def show_items(self, items: Sequence[InventoryItem], keep: str | None = None) -> None:
        """Show these rows; the cursor stays on the item with key `keep` when it is there."""
        self._items = items
        self._natural = self._measure(items)
        self._layout()
        row = 0
        if keep is not None:
            row = next((n for n, item in enumerate(items) if item.key == keep), self.cursor_row)
        self._set_cursor(min(row, max(len(items) - 1, 0)), force=True)
        self.refresh()

    def replace_row(self, row: int, item: InventoryItem) -> None:
        """Redraw one changed row, nothing else."""
        if isinstance(self._items, list) and 0 <= row < len(self._items):
            self._items[row] = item
            self.refresh_row(row)
            if row == self.cursor_row:
                self.post_message(self.Highlighted(self, item))

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

    def row_of(self, key: str) -> int | None:
        """The row showing the item with this key (the cursor's row first), if any."""
        current = self.current
        if current is not None and current.key == key:
            return self.cursor_row
        return next((n for n, item in enumerate(self._items) if item.key == key), None)

    def refresh_row(self, row: int) -> None:
        """Repaint the screen line that shows `row`, if it is on screen."""
        # Screen line, not content line: the header stays put, so ScrollView's refresh_line
        # (which takes a content line and subtracts the scroll offset) would miss it.
        y = row - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    @staticmethod
    def _measure(items: Sequence[InventoryItem]) -> dict[str, int]:
        # +1 leaves room for the sort arrow in the header.
        natural = {column.key: cell_len(column.label) + 1 for column in COLUMNS}
        natural["status"] = max(cell_len(mark) for mark in (LOW_MARK, OVER_MARK, SAVING_MARK))
        # Text columns are capped anyway: look at enough rows to size them, not all 100k.
        sample = items if len(items) <= 5000 else list(items[:2500]) + list(items[-2500:])
        for item in sample:
            for key in ("sku", "category", "location"):
                natural[key] = max(natural[key], cell_len(safe_text(getattr(item, key))))
        # Figures are never cut: size them on the largest value of all rows.
        for key in ("quantity", "min_stock", "max_stock"):
            largest = max((getattr(item, key) for item in items), default=0)
            natural[key] = max(natural[key], len(str(largest)))
        return natural

    def _layout(self) -> None:
        width = max(self.scrollable_content_region.width, 20)
        widths = {key: min(value, _CAPS.get(key, value)) for key, value in self._natural.items()}
        fixed = sum(value for key, value in widths.items() if key != "name")
        gaps = len(COLUMNS) - 1
        widths["name"] = max(_FLOORS["name"], width - fixed - gaps)
        excess = sum(widths.values()) + gaps - width
        for key in ("category", "location", "sku"):
            if excess <= 0:
                break
            give = min(excess, widths[key] - _FLOORS[key])
            if give > 0:
                widths[key] -= give
                excess -= give
        self._widths = widths
        self.virtual_size = Size(sum(widths.values()) + gaps, len(self._items) + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._layout()
        self._scroll_cursor_into_view()

    # Cursor -------------------------------------------------------------------------------

    def _set_cursor(self, row: int, force: bool = False) -> None:
        row = max(0, min(row, len(self._items) - 1)) if self._items else 0
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

    def _scroll_cursor_into_view(self) -> None:
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    def action_cursor(self, step: int) -> None:
        self._set_cursor(self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self._set_cursor(self.cursor_row + direction * max(self.size.height - 2, 1))

    def action_jump(self, row: int) -> None:
        self._set_cursor(len(self._items) - 1 if row < 0 else row)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x = int(self.scroll_x) + event.x
            for column in COLUMNS:
                x -= self._widths.get(column.key, 0) + 1
                if x < 0:
                    self.post_message(self.HeaderClicked(self, column.key))
                    return
            return
        self._set_cursor(int(self.scroll_y) + event.y - 1)

    # Drawing ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x = int(self.scroll_x)
        width = self.scrollable_content_region.width
        if y == 0:
            strip = self._header()
        else:
            row = int(self.scroll_y) + y - 1
            strip = (
                self._row(row) if row < len(self._items) else Strip.blank(width, self.rich_style)
            )
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, self.rich_style)

    def _header(self) -> Strip:
        base = self.get_component_rich_style("item-table--header")
        sorted_style = base + self.get_component_rich_style("item-table--sorted")
        segments = []
        for column in COLUMNS:
            label = column.label
            style = base
            if column.key == self.sort_column:
                label = f"{label}{'↓' if self.sort_reverse else '↑'}" if label else "↕"
                style = sorted_style
            segments.append(Segment(_fit(label, self._widths[column.key], column.justify), style))
            segments.append(Segment(" ", base))
        return Strip(segments[:-1])

    def _row(self, row: int) -> Strip:
        item = self._items[row]
        base = self.rich_style
        if row == self.cursor_row:
            base = base + self.get_component_rich_style("item-table--cursor")
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
            shown = SAVING_MARK if pending and column.key == "status" else column.show(item)
            text = _fit(safe_text(shown), self._widths[column.key], column.justify)
            style = base
            if status is not None and column.key in ("quantity", "status"):
                style = base + Style(color=status.color, bold=status.bold, italic=status.italic)
            segments.append(Segment(text, style))
            segments.append(Segment(" ", base))
        return Strip(segments[:-1])


def sort_key(column: str) -> Callable[[InventoryItem], Any]:
    """How to order items by a column (SKU breaks ties)."""
    by = _BY_KEY[column].sort
    return lambda item: (by(item), item.key)
