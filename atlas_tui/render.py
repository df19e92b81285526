"""Rich renderables for the CLI's human output; all user text goes in as plain Text."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from atlas_tui.text import safe_text

LOW_MARK = "▼ low"
OVER_MARK = "▲ over"


def plain(value: object) -> Text:
    """User data as literal text (never markup, never terminal control)."""
    return Text(safe_text("" if value is None else value))


def status_of(item: Mapping[str, Any]) -> str:
    """low, over or ok, from an item's dict."""
    quantity, low, high = item["quantity"], item["min_stock"], item["max_stock"]
    if low > 0 and quantity <= low:
        return "low"
    if high > 0 and quantity > high:
        return "over"
    return "ok"


def status_mark(status: str) -> Text:
    """A symbol that reads without color, colored where color exists."""
    if status == "low":
        return Text(LOW_MARK, style="bold yellow")
    if status == "over":
        return Text(OVER_MARK, style="bold magenta")
    return Text("")


def _fit(natural: dict[str, int], width: int, flexible: tuple[str, ...]) -> dict[str, int]:
    """Column widths that fit `width`: flexible columns shrink, the first one most."""
    gaps = 3 * (len(natural) - 1)  # padding either side plus the box's divider
    widths = dict(natural)
    excess = sum(widths.values()) + gaps - width
    floors = {name: 10 if index == 0 else 5 for index, name in enumerate(flexible)}
    while excess > 0:
        # Take from the widest flexible column still above its floor.
        shrinkable = [name for name in flexible if widths[name] > floors[name]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda name: widths[name] - floors[name])
        widths[widest] -= 1
        excess -= 1
    return widths


def items_table(items: Iterable[Mapping[str, Any]], width: int = 80) -> Table:
    """SKU, name, category, quantity, location, min, max and a status mark.

    Below 72 columns min and max are left out, below 56 category and location too,
    so that SKU, name and quantity always stay readable; long text is cut with an ellipsis,
    SKUs and figures never.
    """
    rows = list(items)
    show_limits, show_labels = width >= 72, width >= 56
    columns: list[tuple[str, str, Callable[[Mapping[str, Any]], Text]]] = [
        ("SKU", "left", lambda item: plain(item["sku"])),
        ("Name", "left", lambda item: plain(item["name"])),
    ]
    if show_labels:
        columns.append(("Category", "left", lambda item: plain(item["category"])))
    columns.append(("Qty", "right", lambda item: Text(str(item["quantity"]))))
    if show_labels:
        columns.append(("Location", "left", lambda item: plain(item["location"])))
    if show_limits:
        columns.append(("Min", "right", lambda item: Text(str(item["min_stock"]))))
        columns.append(("Max", "right", lambda item: Text(str(item["max_stock"] or "-"))))
        columns.append(("", "left", lambda item: status_mark(status_of(item))))
    else:
        columns.append(("", "left", lambda item: status_mark(status_of(item))[:1]))
    cells = [[render(item) for _, _, render in columns] for item in rows]
    natural = {
        header: max([len(header), 1, *(row[index].cell_len for row in cells)])
        for index, (header, _, _) in enumerate(columns)
    }
    natural["SKU"] = min(natural["SKU"], 16)  # longer SKUs fold onto a second line
    widths = _fit(natural, width, ("Name", "Category", "Location"))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for header, justify, _ in columns:
        table.add_column(
            header,
            justify="right" if justify == "right" else "left",
            width=widths[header],
            no_wrap=header != "SKU",
            overflow="fold" if header == "SKU" else "ellipsis",
        )
    for row in cells:
        table.add_row(*row)
    return table


def item_details(item: Mapping[str, Any]) -> Table:
    """Every field of one item, attributes included, as a two-column grid."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    status = status_of(item)
    quantity = Text(str(item["quantity"]))
    if status != "ok":
        quantity.append("  ").append_text(status_mark(status))
    rows: list[tuple[str, Text]] = [
        ("SKU", plain(item["sku"])),
        ("Name", plain(item["name"])),
        ("Category", plain(item["category"] or "-")),
        ("Quantity", quantity),
        ("Location", plain(item["location"] or "-")),
        ("Min stock", Text(str(item["min_stock"]))),
        ("Max stock", Text(str(item["max_stock"]) if item["max_stock"] else "- (no ceiling)")),
        ("Created", Text(item["created_at"])),
        ("Updated", Text(item["updated_at"])),
    ]
    for key, value in sorted(item.get("attributes", {}).items()):
        rows.append((safe_text(key), plain(value)))
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def history_table(movements: Iterable[Mapping[str, Any]], with_sku: bool = False) -> Table:
    """Movements as given (newest first), one line each."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("When (UTC)", no_wrap=True)
    if with_sku:
        table.add_column("SKU", overflow="fold", max_width=16)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Δ", justify="right", no_wrap=True)
    table.add_column("Qty", justify="right", no_wrap=True)
    table.add_column("User", overflow="ellipsis", no_wrap=True, max_width=10)
    table.add_column("Reason / details", overflow="fold", ratio=1)
    for movement in movements:
        delta = movement["delta"]
        cells = [Text(movement["timestamp"][:19].replace("T", " "))]
        if with_sku:
            cells.append(plain(movement["sku"]))
        table.add_row(
            *cells,
            Text(movement["kind"]),
            Text(f"{delta:+d}" if delta else "0"),
            Text(f"{movement['quantity_before']}→{movement['quantity_after']}"),
            plain(movement["user"]),
            plain(describe_movement(movement)),
        )
    return table


def describe_movement(movement: Mapping[str, Any]) -> str:
    """The reason, plus what a move or an update changed."""
    parts = [movement.get("reason") or ""]
    details = movement.get("details") or {}
    if movement["kind"] == "move":
        parts.append(f"{details.get('from') or '-'} → {details.get('to') or '-'}")
    if movement["kind"] == "update":
        for field, (old, new) in (details.get("changes") or {}).items():
            parts.append(f"{field}: {old!r} → {new!r}")
    return "; ".join(part for part in parts if part)


def summary_view(report: Mapping[str, Any]) -> RenderableType:
    """Totals, then items and quantity per category."""
    totals = Table.grid(padding=(0, 2))
    totals.add_column(style="bold")
    totals.add_column(justify="right")
    totals.add_row("Items", str(report["total_items"]))
    totals.add_row("Total quantity", str(report["total_quantity"]))
    totals.add_row("Low stock", Text(str(report["low_stock_count"]), style="yellow"))
    totals.add_row("Over stock", Text(str(report["over_stock_count"]), style="magenta"))
    by_category = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    by_category.add_column("Category", overflow="ellipsis", no_wrap=True, max_width=30)
    by_category.add_column("Items", justify="right")
    by_category.add_column("Quantity", justify="right")
    for name, entry in report["by_category"].items():
        by_category.add_row(plain(name or "(none)"), str(entry["items"]), str(entry["quantity"]))
    return Group(totals, Text(""), by_category)
