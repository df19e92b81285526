"""Rich renderables for stocktake variance and import changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text

from atlas_tui.render import Column, fitted_table, plain


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


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return str(value)


def describe_change(changes: Mapping[str, Any]) -> Text:
    """One line: "quantity 5 → 7, name 'a' → 'b'" (quantity first)."""
    order = sorted(changes, key=lambda name: (name != "quantity", name))
    parts = [f"{name} {_shown(changes[name][0])} → {_shown(changes[name][1])}" for name in order]
    return plain(", ".join(parts))
