"""The detail pane: the selected item's fields, attributes and recent history."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import work
from textual.widgets import Static

from atlas_tui.errors import AtlasError
from atlas_tui.models import InventoryItem, Movement
from atlas_tui.text import safe_text


def _plain(value: object) -> Text:
    return Text(safe_text(value))


class ItemDetail(Static, can_focus=True):
    """What the cursor rests on; history is read in a worker, so moving stays instant."""

    DEFAULT_CSS = """
    ItemDetail {
        height: 7;
        border-top: solid $panel;
        padding: 0 1;
        overflow-y: auto;
    }
    ItemDetail:focus {
        border-top: solid $accent;
    }
    """

    def show(self, item: InventoryItem | None) -> None:
        """Describe `item` (or nothing)."""
        if item is None:
            self.update("")
            return
        self._draw(item, None)
        self._load_history(item)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def _load_history(self, item: InventoryItem) -> None:
        service = getattr(self.screen, "service", None)
        if service is None:
            return
        try:
            history = service.history(item.sku)[:5]
        except AtlasError:
            return
        self.app.call_from_thread(self._draw, item, history)

    def _draw(self, item: InventoryItem, history: list[Movement] | None) -> None:
        grid = Table.grid(padding=(0, 2), expand=True)
        grid.add_column(ratio=1)
        grid.add_column(ratio=1)
        facts = Text.assemble(
            (safe_text(item.sku), "bold"), "  ", _plain(item.name), "\n",
            f"{item.quantity} on hand · min {item.min_stock} · max {item.max_stock or '-'}",
            "  ", ("▼ low" if item.is_low else "▲ over" if item.is_over else "", "bold"), "\n",
            "at ", _plain(item.location or "-"), " · ", _plain(item.category or "no category"),
        )  # fmt: skip
        for key, value in sorted(item.attributes.items()):
            facts.append("\n")
            facts.append_text(_plain(f"{key}: {value}"))
        recent = Text()
        if history is None:
            recent.append("history…", style="dim")
        for movement in history or []:
            when = movement.timestamp.strftime("%Y-%m-%d %H:%M")
            recent.append(f"{when} {movement.kind} {movement.delta:+d} → {movement.quantity_after}")
            if movement.reason:
                recent.append("  ")
                recent.append_text(_plain(movement.reason))
            recent.append("\n")
        grid.add_row(facts, recent)
        self.update(grid)
