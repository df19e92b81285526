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


def _note(row: Mapping[str, Any]) -> Text:
    """ "not expected here" for a line found where the session listed none."""
    return Text(str(row.get("note", "")), style="bold")


def count_table(variance: Mapping[str, Any], width: int = 80) -> Table:
    """Expected, counted and difference per counted line (SKU, location, lot), then the
    uncounted lines (a find where none was expected shows expected 0; see `not_expected`)."""
    columns: list[Column] = [
        ("SKU", "left", lambda r: plain(r["sku"])),
        ("Name", "left", lambda r: plain(r["name"])),
        ("Location", "left", lambda r: plain(r.get("location", ""))),
        ("Lot", "left", lambda r: plain(r.get("lot", ""))),
        ("Expected", "right", lambda r: Text(str(r["expected"]))),
        ("Counted", "right", lambda r: Text(str(r.get("counted", "—")))),
        ("Diff", "right", _difference),
        ("Now", "right", lambda r: Text("gone" if r["current"] is None else str(r["current"]))),
    ]
    rows = [*variance["rows"], *variance["uncounted"]]
    return fitted_table(columns, rows, width, {"Name": 4, "SKU": 8, "Lot": 3})


def not_expected(variance: Mapping[str, Any]) -> list[Text]:
    """One line per find where the session listed no such line: `not expected here:
    CABLE-1 at A1 (counted 2)`."""
    found = []
    for row in variance["rows"]:
        if row.get("note"):
            where = plain(row["location"] or "(no location)")
            if row["lot"]:
                where = Text.assemble(where, " lot ", plain(row["lot"]))
            found.append(
                Text.assemble(
                    f"{row['note']}: ",
                    plain(row["sku"]),
                    " at ",
                    where,
                    f" (counted {row['counted']})",
                )
            )
    return found


def describe_change(changes: Mapping[str, Any]) -> Text:
    """One line: "quantity 5 → 7, name 'a' → 'b'" (quantity first), safe to print."""
    return plain(change_words(changes))
