"""Rich renderables for stocktake variance and import changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text

from atlas_tui.cli.render import Column, fitted_table, plain
from atlas_tui.wording import change_words


def _difference(row: Mapping[str, Any]) -> Text:
    if "difference" not in row:
        return Text("uncounted", style="dim")
    difference = int(row["difference"])
    style = "red" if difference < 0 else "green" if difference > 0 else ""
    return Text(f"{difference:+d}" if difference else "0", style=style)


def count_table(variance: Mapping[str, Any], width: int = 80) -> Table:
    """Expected, counted and difference per counted SKU, then the uncounted items."""
    columns: list[Column] = [
        ("SKU", "left", lambda r: plain(r["sku"])),
        ("Name", "left", lambda r: plain(r["name"])),
        ("Expected", "right", lambda r: Text(str(r["expected"]))),
        ("Counted", "right", lambda r: Text(str(r.get("counted", "—")))),
        ("Diff", "right", _difference),
        ("Now", "right", lambda r: Text("gone" if r["current"] is None else str(r["current"]))),
    ]
    rows = [*variance["rows"], *variance["uncounted"]]
    return fitted_table(columns, rows, width, {"Name": 8, "SKU": 8})


def describe_change(changes: Mapping[str, Any]) -> Text:
    """One line: "quantity 5 → 7, name 'a' → 'b'" (quantity first), safe to print."""
    return plain(change_words(changes))
