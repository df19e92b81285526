"""The baseline for bytes and latency: Textual's own DataTable with the same columns, nothing else.

python bench/minimal_table.py   (bench/app.py runs it in tmux)
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from bench.stores import item


class MinimalTable(App[None]):
    """A DataTable of 1,000 bench items, the cursor on rows."""

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("SKU", "Name", "Category", "Qty", "Location", "Min", "Max", "")
        for n in range(1000):
            it = item(n)
            table.add_row(it.sku, it.name, it.category, it.quantity, it.location,
                          it.min_stock, it.max_stock, "")  # fmt: skip
        table.focus()


if __name__ == "__main__":
    MinimalTable().run()
