"""The items screen: every item with its stock status, kept in step with the data file."""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from atlas_tui.models import InventoryItem
from atlas_tui.service import InventoryService
from atlas_tui.text import safe_text

COLUMNS = ("SKU", "Name", "Category", "Qty", "Location", "Min", "Max", "")


def _mark(item: InventoryItem) -> Text:
    if item.is_low:
        return Text("▼ low", style="bold yellow")
    if item.is_over:
        return Text("▲ over", style="bold magenta")
    return Text("")


def item_cells(item: InventoryItem) -> tuple[Text, ...]:
    """One table row; user text is literal (DataTable would read plain str as markup)."""
    return (
        Text(safe_text(item.sku)),
        Text(safe_text(item.name)),
        Text(safe_text(item.category)),
        Text(str(item.quantity), justify="right"),
        Text(safe_text(item.location)),
        Text(str(item.min_stock), justify="right"),
        Text(str(item.max_stock) if item.max_stock else "-", justify="right"),
        _mark(item),
    )


class ItemsScreen(Screen[None]):
    """Start screen: the inventory as a table (a first version; the full screen comes later)."""

    CSS_PATH = "items.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+r", "reload", "Reload", id="reload")]

    def __init__(self, service: InventoryService) -> None:
        super().__init__()
        self.service = service
        self._version: Hashable = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="summary")
        yield DataTable(id="items", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#items", DataTable)
        table.add_columns(*COLUMNS)
        self.action_reload()
        # Another operator's change shows within a second; a stat is all a check costs.
        self.set_interval(1.0, self._check_for_changes)

    def _check_for_changes(self) -> None:
        if self.service.version() != self._version:
            self.action_reload()

    def action_reload(self) -> None:
        """Redraw from the data file, keeping the cursor on the same item."""
        self._version = self.service.version()
        items = self.service.list_items()
        table = self.query_one("#items", DataTable)
        row = table.cursor_row
        table.clear()
        for item in items:
            table.add_row(*item_cells(item), key=item.key)
        if items:
            table.move_cursor(row=min(row, len(items) - 1))
        low = sum(item.is_low for item in items)
        over = sum(item.is_over for item in items)
        self.query_one("#summary", Static).update(
            f"{len(items)} items · {sum(i.quantity for i in items)} units · {low} low · {over} over"
        )
